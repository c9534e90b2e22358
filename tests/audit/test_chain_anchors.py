"""The audit trail proves its end: cutting the newest events is found, by the seal (keyed
outside the database) and by anchors kept outside it (anchor file, backup and pack manifests)."""

import html
import json
import os
import zipfile
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, text

from docmgmt.audit.models import AuditEvent, AuditSeal
from docmgmt.extensions import db
from tests.conftest import page_text


def _last_seqs(n):
    return db.session.scalars(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(n)).all()


def _cut_tail(n):
    """What someone with database access would do: delete the newest events."""
    for seq in _last_seqs(n):
        db.session.execute(text("DELETE FROM audit_event WHERE seq = :s"), {"s": seq})
    db.session.commit()


def _seal_row():
    db.session.expire_all()
    row = db.session.get(AuditSeal, 1)
    return {"seq": row.seq, "hash": row.hash, "mac": row.mac}


def _set_seal(seal):
    db.session.execute(
        text("UPDATE audit_seal SET seq = :seq, hash = :hash, mac = :mac WHERE id = 1"), seal
    )
    db.session.commit()


def test_deleting_the_newest_events_is_found(runner, effective_doc):
    effective_doc()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0, result.output
    last = _last_seqs(1)[0]
    assert f"sealed at #{last}" in result.output
    _cut_tail(2)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"events #{last - 1} to #{last} were removed from the end" in result.output


def test_moving_the_seal_back_needs_the_key(runner, effective_doc):
    effective_doc()
    _cut_tail(2)
    new_last = db.session.execute(
        select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)
    ).first()
    _set_seal({"seq": new_last[0], "hash": new_last[1], "mac": "0" * 64})
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "the seal was not written with this server's audit key" in result.output


def test_an_old_seal_put_back_is_caught_by_the_anchor_file(app, runner, auth, effective_doc):
    effective_doc()
    old_seal = _seal_row()  # captured by the attacker earlier
    auth.login("qm")  # more events: log-ins
    auth.logout()
    result = runner.invoke(args=["audit", "anchor"])  # the daily cron
    assert result.exit_code == 0 and f"anchored event #{_seal_row()['seq']}" in result.output
    anchored = _seal_row()["seq"]
    # Cut everything after the old seal and put the old (validly keyed) seal back.
    _cut_tail(anchored - old_seal["seq"])
    _set_seal(old_seal)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert f"event #{anchored}, anchored on" in result.output and "is missing" in result.output


def test_a_backup_or_an_evidence_pack_anchors_the_trail_too(
    app, runner, auth, effective_doc, tmp_path
):
    effective_doc()
    old_seal = _seal_row()
    auth.login("qm")
    auth.logout()
    archive = tmp_path / "backup.zip"
    assert runner.invoke(args=["backup", "-o", str(archive)]).exit_code == 0
    sealed = _seal_row()["seq"]
    assert sealed > old_seal["seq"]
    # The anchor file on the server is gone too: the backup kept elsewhere still tells.
    anchors = app.config["STORAGE_DIR"] + "/audit/anchors.jsonl"
    os.remove(anchors)
    _cut_tail(sealed - old_seal["seq"])
    _set_seal(old_seal)
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0  # nothing on the server tells
    result = runner.invoke(args=["audit", "verify", "--anchor", str(archive)])
    assert result.exit_code == 1 and f"event #{sealed}, anchored on" in result.output
    manifest = tmp_path / "manifest.json"
    with zipfile.ZipFile(archive) as z:
        manifest.write_bytes(z.read("manifest.json"))
    assert json.loads(manifest.read_text())["audit_seal"]["seq"] == sealed
    result = runner.invoke(args=["audit", "verify", "--anchor", str(manifest)])
    assert result.exit_code == 1
    bogus = tmp_path / "bogus.json"
    bogus.write_text("{}")
    result = runner.invoke(args=["audit", "verify", "--anchor", str(bogus)])
    assert result.exit_code != 0 and "carries no audit seal" in result.output


def _lines(path):
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines()]


def test_the_first_write_of_each_day_anchors_the_seal(app, auth, effective_doc, monkeypatch):
    effective_doc()
    path = app.config["STORAGE_DIR"] + "/audit/anchors.jsonl"
    lines = _lines(path)
    assert len(lines) == 1 and lines[0]["seq"] >= 1  # the first commit of today
    auth.login("qm")
    assert len(_lines(path)) == 1  # once a day, not per event
    import docmgmt.clock

    real = docmgmt.clock.utcnow
    monkeypatch.setattr(docmgmt.clock, "utcnow", lambda: real() + timedelta(days=1))
    auth.logout()
    lines = _lines(path)
    assert len(lines) == 2 and lines[1]["date"] > lines[0]["date"]
    assert lines[1]["seq"] == _seal_row()["seq"] and lines[1]["mac"] == _seal_row()["mac"]


def test_an_altered_anchor_line_is_a_clear_failure_not_a_crash(
    app, runner, auth, client, effective_doc, tmp_path
):
    """An anchor whose event number is not a whole number (a string, a fraction) or a line
    that is not an anchor at all cannot be checked: verification fails and says which anchor,
    on the command line and on the page, in both languages."""
    effective_doc()
    path = Path(app.config["STORAGE_DIR"]) / "audit" / "anchors.jsonl"
    good = path.read_text(encoding="utf-8")
    seq = json.loads(good.splitlines()[0])["seq"]
    auth.login("auditor")
    for line, shown in [
        ({"date": "2026-03-01", "seq": str(seq), "hash": "x"}, f"'{seq}'"),
        ({"date": "2026-03-01", "seq": 1.5, "hash": "x"}, "1.5"),
        ({"date": "2026-03-01", "seq": True, "hash": "x"}, "True"),
    ]:
        path.write_text(good + json.dumps(line) + "\n", encoding="utf-8")
        result = runner.invoke(args=["audit", "verify"])
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output and result.exception.__class__ is SystemExit
        assert (
            f"audit trail BROKEN: the anchor of 2026-03-01 gives its event as {shown}, "
            "which is not an event number: it cannot be checked" in result.output
        )
        page = client.get("/audit/verify")
        assert page.status_code == 200
        assert f"the anchor of 2026-03-01 gives its event as {shown}" in html.unescape(
            page_text(page)
        )
    # A line that names no event (no "seq") cannot be checked either: never skipped.
    path.write_text(good + json.dumps({"date": "2026-03-01", "hash": "x"}) + "\n", "utf-8")
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert (
        'audit trail BROKEN: the anchor {"date": "2026-03-01", "hash": "x"} names no event: '
        "it cannot be checked" in result.output
    )
    # A line that is JSON but not an anchor, given on the command line.
    other = tmp_path / "other.jsonl"
    other.write_text("[1, 2]\n", encoding="utf-8")
    path.write_text(good, encoding="utf-8")
    result = runner.invoke(args=["audit", "verify", "--anchor", str(other)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "is not an anchor" in result.output
    # A server anchor file that is not JSON: the page says so instead of failing.
    path.write_text(good + "not json\n", encoding="utf-8")
    page = client.get("/audit/verify")
    assert page.status_code == 200 and "cannot be read as an anchor" in html.unescape(
        page_text(page)
    )
    client.post("/lang/zh_CN")
    path.write_text(good + json.dumps({"date": "2026-03-01", "seq": "7"}) + "\n")
    text_zh = html.unescape(page_text(client.get("/audit/verify")))
    assert "2026-03-01" in text_zh and "'7'" in text_zh
    assert "anchor" not in text_zh and "None" not in text_zh
    path.write_text(good + json.dumps({"date": "2026-03-01", "hash": "x"}) + "\n")
    text_zh = html.unescape(page_text(client.get("/audit/verify")))
    assert '{"date": "2026-03-01", "hash": "x"}' in text_zh and "无法核对" in text_zh
    assert "names no event" not in text_zh
    path.write_text(good, encoding="utf-8")
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
