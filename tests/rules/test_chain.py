"""The audit chain's canonical form and its checks, pinned with golden values.

The canonical bytes and hash of a fixed event are written here, computed once outside the
code (sha256 of the literal below): a change to the canonical form (a field dropped, renamed,
key order or separators changed, ASCII escaping) would invalidate every stored chain, and fails
here first. The database tests tamper with stored events the way someone with database access
would (plain SQL) and check what `verify` names."""

import hashlib
import json
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from flask import Flask
from sqlalchemy import select, text

from docmgmt.audit import chain

PREV = "ab" * 32
AT = datetime(2026, 3, 1, 8, 30, 5, 123456, tzinfo=UTC)
EVENT = {
    "seq": 7,
    "prev_hash": PREV,
    "occurred_dt": AT,
    "actor_id": 3,
    "actor_name": "李明",
    "action": "revision.approve",
    "object_type": "revision",
    "object_id": 42,
    "summary": "XX-SP-20 A1: 同意",
    "before": {"version": "A1", "state": "in_review"},
    "after": {"state": "approved"},
    "ip_address": "10.0.0.8",
}
CANONICAL = (
    '{"action":"revision.approve","actor":"李明","actor_id":3,"after":{"state":"approved"},'
    '"at":"2026-03-01T08:30:05.123456","before":{"state":"in_review","version":"A1"},'
    '"ip":"10.0.0.8","object_id":42,"object_type":"revision","prev":"' + PREV + '","seq":7,'
    '"summary":"XX-SP-20 A1: 同意"}'
)
GOLDEN = "81995fdac8728b727a0341f8abc9a3a565b4cb61c632d33b367cd58c2aa162f2"
# An event with nothing but its number and action: absent texts hash as "", absent ids as null.
EMPTY = {
    "seq": 1,
    "prev_hash": chain.GENESIS,
    "occurred_dt": None,
    "actor_id": None,
    "actor_name": None,
    "action": "user.login",
    "object_type": None,
    "object_id": None,
    "summary": None,
    "before": None,
    "after": None,
    "ip_address": None,
}
EMPTY_CANONICAL = (
    '{"action":"user.login","actor":"","actor_id":null,"after":null,"at":"","before":null,'
    '"ip":"","object_id":null,"object_type":"","prev":"' + "0" * 64 + '","seq":1,"summary":""}'
)
EMPTY_GOLDEN = "9b8dbceb0600b0d2176b090158c4ac1db2ad9e0c04d6f4170f9990e90600abdd"


def test_the_golden_values_are_the_sha256_of_the_canonical_bytes():
    assert hashlib.sha256(CANONICAL.encode("utf-8")).hexdigest() == GOLDEN
    assert hashlib.sha256(EMPTY_CANONICAL.encode("utf-8")).hexdigest() == EMPTY_GOLDEN
    assert chain.GENESIS == "0" * 64


def test_the_hash_of_a_fixed_event_is_the_golden_value():
    assert chain.event_hash(**EVENT) == GOLDEN
    assert chain.hash_of(SimpleNamespace(**EVENT)) == GOLDEN


def test_absent_texts_and_ids_hash_as_written():
    assert chain.event_hash(**EMPTY) == EMPTY_GOLDEN
    assert chain.hash_of(SimpleNamespace(**EMPTY)) == EMPTY_GOLDEN
    # "" and None are the same text for the texts
    blank = EMPTY | {"actor_name": "", "object_type": "", "summary": "", "ip_address": ""}
    assert chain.event_hash(**blank) == EMPTY_GOLDEN


@pytest.mark.parametrize(
    "when",
    [
        AT,
        AT.replace(tzinfo=None),  # stored without a zone (SQLite): read as UTC
        AT.astimezone(timezone(timedelta(hours=8))),  # 16:30:05.123456 in Beijing
        AT.astimezone(timezone(timedelta(hours=-5))),
    ],
)
def test_the_time_is_hashed_in_utc_to_the_microsecond(when):
    assert chain.event_hash(**(EVENT | {"occurred_dt": when})) == GOLDEN


def test_a_time_without_a_zone_is_utc_whatever_the_servers_zone(monkeypatch):
    import time

    monkeypatch.setenv("TZ", "Asia/Shanghai")
    time.tzset()
    try:
        assert chain.event_hash(**(EVENT | {"occurred_dt": AT.replace(tzinfo=None)})) == GOLDEN
        beijing = AT.astimezone(timezone(timedelta(hours=8)))
        assert chain.event_hash(**(EVENT | {"occurred_dt": beijing})) == GOLDEN
    finally:
        monkeypatch.undo()
        time.tzset()


def test_a_whole_second_keeps_its_microseconds():
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    text_ = CANONICAL.replace("2026-03-01T08:30:05.123456", "2026-01-02T03:04:05.000000")
    assert chain.event_hash(**(EVENT | {"occurred_dt": at})) == (
        hashlib.sha256(text_.encode()).hexdigest()
    )


EDITS = {
    "seq": 8,
    "prev_hash": "ac" * 32,
    "occurred_dt": AT + timedelta(microseconds=1),
    "actor_id": 4,
    "actor_name": "李明 ",
    "action": "revision.reject",
    "object_type": "document",
    "object_id": 43,
    "summary": "XX-SP-20 A1: 不同意",
    "before": {"version": "A1", "state": "draft"},
    "after": None,
    "ip_address": "10.0.0.9",
}


@pytest.mark.parametrize("field", EDITS)
def test_an_edit_to_any_hashed_field_changes_the_hash(field):
    assert set(EDITS) == set(EVENT)
    assert chain.event_hash(**(EVENT | {field: EDITS[field]})) != GOLDEN
    assert chain.hash_of(SimpleNamespace(**(EVENT | {field: EDITS[field]}))) != GOLDEN


@pytest.mark.parametrize("field", ["actor_name", "object_type", "summary", "ip_address"])
def test_an_emptied_text_changes_the_hash(field):
    assert chain.event_hash(**(EVENT | {field: None})) != GOLDEN


def test_the_seal_mac_is_an_hmac_of_the_seal_under_the_key():
    digest = "cd" * 32
    expected = "3e06112c60a70e9b873befd675223790359f93883ad649c89608e183169b6607"
    assert chain.seal_mac(7, digest, "k3y") == expected
    assert chain.seal_mac(8, digest, "k3y") != expected
    assert chain.seal_mac(7, "ce" * 32, "k3y") != expected
    assert chain.seal_mac(7, digest, "k3z") != expected


def test_the_seal_key_is_audit_key_else_the_secret_key():
    flask_app = Flask("t")
    flask_app.config.update(SECRET_KEY="secret-x", AUDIT_KEY=None)
    with flask_app.app_context():
        assert chain.audit_key() == "secret-x"
        assert chain.seal_mac(0, chain.GENESIS) == (
            "ac8b51d60877b08fd675c81caf6c92c993da198d55938bbb7475d85b360f54c9"
        )
        flask_app.config["AUDIT_KEY"] = "k3y"
        assert chain.audit_key() == "k3y"
        assert chain.seal_mac(7, "cd" * 32) == (
            "3e06112c60a70e9b873befd675223790359f93883ad649c89608e183169b6607"
        )


# ---------------------------------------------------------------- anchor files


def test_an_anchor_is_appended_as_one_line_readable_by_the_server_only(tmp_path, caplog):
    flask_app = Flask("t")
    flask_app.config["STORAGE_DIR"] = str(tmp_path / "new" / "storage")  # not there yet
    seal = {"seq": 4, "hash": "ef" * 32, "mac": "12" * 32, "extra": "dropped"}
    with flask_app.app_context(), caplog.at_level("INFO"):
        path = chain.anchors_path()
        assert path == tmp_path / "new" / "storage" / "audit" / "anchors.jsonl"
        first = chain.append_anchor(seal, "2026-03-01")
        second = chain.append_anchor(seal | {"seq": 5}, "2026-03-02")
    assert first == {"date": "2026-03-01", "seq": 4, "hash": "ef" * 32, "mac": "12" * 32}
    assert second == first | {"date": "2026-03-02", "seq": 5}
    assert path.read_text() == (
        '{"date": "2026-03-01", "hash": "' + "ef" * 32 + '", "mac": "' + "12" * 32 + '", '
        '"seq": 4}\n'
        '{"date": "2026-03-02", "hash": "' + "ef" * 32 + '", "mac": "' + "12" * 32 + '", '
        '"seq": 5}\n'
    )
    assert path.stat().st_mode & 0o777 == 0o640
    assert caplog.messages == ["audit anchor " + line for line in path.read_text().splitlines()]


SEAL = {"date": "2026-03-01", "seq": 4, "hash": "ef" * 32, "mac": "12" * 32}


def test_anchors_are_read_from_a_jsonl_file_a_manifest_or_a_pack(tmp_path):
    lines = tmp_path / "anchors.jsonl"
    lines.write_text(json.dumps(SEAL) + "\n\n" + json.dumps(SEAL | {"seq": 5}) + "\n")
    assert chain.read_anchors(lines) == [SEAL, SEAL | {"seq": 5}]
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"files": [], "audit_seal": SEAL}))
    assert chain.read_anchors(manifest) == [SEAL]
    pack = tmp_path / "backup.zip"
    with zipfile.ZipFile(pack, "w") as z:
        z.writestr("manifest.json", json.dumps({"audit_seal": SEAL}))
    assert chain.read_anchors(str(pack)) == [SEAL]


def test_an_unreadable_anchor_file_is_an_error_never_nothing_to_check(tmp_path):
    cases = {
        tmp_path / "missing.jsonl": "No such file",
        tmp_path / "bad.jsonl": "Expecting value",
        tmp_path / "unsealed.json": "the manifest carries no audit seal$",
        tmp_path / "empty-seal.json": "the manifest carries no audit seal$",
        tmp_path / "nomanifest.zip": "manifest.json",
    }
    (tmp_path / "bad.jsonl").write_text("not json\n")
    (tmp_path / "unsealed.json").write_text(json.dumps({"files": []}))
    (tmp_path / "empty-seal.json").write_text(json.dumps({"audit_seal": {}}))
    with zipfile.ZipFile(tmp_path / "nomanifest.zip", "w") as z:
        z.writestr("other.txt", "x")
    for path, reason in cases.items():
        with pytest.raises(chain.AnchorFileError) as err:
            chain.read_anchors(path)
        assert str(err.value).startswith(f"{path} cannot be read as an anchor: ")
        if reason.endswith("$"):
            assert str(err.value).endswith(f": {reason[:-1]}")
        assert reason.rstrip("$") in str(err.value)


# ---------------------------------------------------------------- a stored chain


WHEN = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def trail(app):
    """Four events, committed: returns their hashes by seq."""
    from docmgmt.audit.models import AuditEvent
    from docmgmt.audit.operations import log_event
    from docmgmt.extensions import db

    for i, summary in enumerate(["一", "二", "三", "四"]):
        log_event(
            None,
            "test.step",
            summary=summary,
            object_type="test",
            object_id=i + 1,
            before={"n": i},
            after={"n": i + 1},
            now=WHEN + timedelta(minutes=i),
        )
    db.session.commit()
    rows = db.session.execute(select(AuditEvent.seq, AuditEvent.hash)).all()
    return dict(rows)


def tamper(statement, **params):
    """What someone with database access would do (undone by the caller's rollback)."""
    from docmgmt.extensions import db

    db.session.execute(text(statement), params)
    db.session.expire_all()


def verdict(**kw):
    from docmgmt.extensions import db

    r = chain.verify(db.session, **kw)
    return (r.ok, r.checked, r.first_bad_seq, r.reason)


def event_id(seq):
    from docmgmt.audit.models import AuditEvent
    from docmgmt.extensions import db

    return db.session.scalar(select(AuditEvent.id).where(AuditEvent.seq == seq))


def test_an_intact_chain_verifies_in_any_batch_size(app, trail, caplog):
    from docmgmt.audit.models import AuditEvent
    from docmgmt.extensions import db

    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).all()
    assert [e.seq for e in events] == [1, 2, 3, 4]
    assert events[0].prev_hash == chain.GENESIS
    assert [e.prev_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert all(chain.hash_of(e) == e.hash for e in events)
    for batch in (1, 3, 2000):
        r = chain.verify(db.session, batch=batch)
        assert (r.ok, r.checked, r.first_bad_id, r.first_bad_seq, r.reason) == (
            True,
            4,
            None,
            None,
            "",
        )
        assert r.sealed_seq == 4
        assert r.anchors_checked == 1  # the day's first commit anchored the seal
    assert chain.current_seal(db.session) == {
        "seq": 4,
        "hash": trail[4],
        "mac": chain.seal_mac(4, trail[4]),
    }
    assert chain.chain_head(db.session) == (4, trail[4])
    db.session.rollback()
    # one seal row, sealed at the newest event's time; the lock row counts the writers
    from docmgmt.audit.models import AuditSeal
    from docmgmt.versioning.models import NumberingLock

    (seal,) = db.session.scalars(select(AuditSeal)).all()
    assert seal.id == 1
    sealed = seal.sealed_dt
    sealed = sealed.replace(tzinfo=UTC) if sealed.tzinfo is None else sealed
    assert sealed == WHEN + timedelta(minutes=3)
    db.session.add(NumberingLock(stem="XX-SP-", taken=7))
    db.session.commit()
    chain.chain_head(db.session)
    locks = dict(db.session.execute(select(NumberingLock.stem, NumberingLock.taken)).all())
    assert locks == {chain.LOCK_STEM: 2, "XX-SP-": 7}
    db.session.rollback()

    # the anchor file: one line, sorted keys, the seal of the day's first commit
    path = chain.anchors_path()
    assert path == Path(app.config["STORAGE_DIR"]) / "audit" / "anchors.jsonl"
    (line,) = path.read_text().splitlines()
    anchor = json.loads(line)
    assert line == json.dumps(anchor, sort_keys=True)
    assert anchor == {
        "date": anchor["date"],
        "seq": 4,
        "hash": trail[4],
        "mac": chain.seal_mac(4, trail[4]),
    }
    assert chain.read_anchors(path) == [anchor]
    with caplog.at_level("INFO"):
        again = chain.append_anchor(chain.current_seal(db.session), "2026-03-02")
    assert again == anchor | {"date": "2026-03-02"}
    assert path.read_text().splitlines()[1] == json.dumps(again, sort_keys=True)
    assert f"audit anchor {json.dumps(again, sort_keys=True)}" in caplog.messages
    db.session.rollback()


def test_an_empty_trail_verifies(app):
    from docmgmt.extensions import db

    assert chain.current_seal(db.session) is None
    assert verdict() == (True, 0, None, "")
    assert chain.chain_head(db.session) == (0, chain.GENESIS)
    assert chain.current_seal(db.session) == {
        "seq": 0,
        "hash": chain.GENESIS,
        "mac": chain.seal_mac(0, chain.GENESIS),
    }
    assert verdict() == (True, 0, None, "")
    db.session.rollback()


EDITED_FIELDS = [
    ("occurred_dt", "2026-03-01 08:01:00.000001"),
    ("actor_name", "Mallory"),
    ("action", "test.other"),
    ("object_type", "other"),
    ("object_id", 99),
    ("summary", "改"),
    ("before", '{"n": 9}'),
    ("after", '{"n": 9}'),
    ("ip_address", "10.9.9.9"),
]


def test_an_edited_field_is_found(app, trail):
    from docmgmt.extensions import db

    postgres = app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgres")
    for column, value in EDITED_FIELDS:
        if column == "occurred_dt" and postgres:
            value += "+00"
        tamper(f"UPDATE audit_event SET {column} = :v WHERE seq = 2", v=value)
        assert verdict() == (False, 1, 2, "its content does not match its hash"), column
        assert chain.verify(db.session).first_bad_id == event_id(2)
        db.session.rollback()
    assert verdict() == (True, 4, None, "")


def test_a_changed_link_or_order_is_found(app, trail):
    from docmgmt.audit.models import AuditEvent
    from docmgmt.extensions import db

    # an edited event with its hash recomputed breaks the link to the next
    tamper("UPDATE audit_event SET summary = '改' WHERE seq = 2")
    edited = db.session.scalar(select(AuditEvent).where(AuditEvent.seq == 2))
    tamper("UPDATE audit_event SET hash = :h WHERE seq = 2", h=chain.hash_of(edited))
    assert verdict() == (False, 2, 3, "does not link to the event before it")
    assert chain.verify(db.session).first_bad_id == event_id(3)
    db.session.rollback()

    # relinked to another event
    tamper("UPDATE audit_event SET prev_hash = :h WHERE seq = 3", h=trail[1])
    assert verdict() == (False, 2, 3, "does not link to the event before it")
    db.session.rollback()

    # removed
    tamper("DELETE FROM audit_event WHERE seq = 2")
    assert verdict() == (False, 1, 3, "sequence jumps from 1 to 3")
    assert chain.verify(db.session).first_bad_id == event_id(3)
    db.session.rollback()

    # inserted: a forged #3 linked to #2, the later ones renumbered
    tamper("UPDATE audit_event SET seq = seq + 10 WHERE seq >= 3")
    tamper("UPDATE audit_event SET seq = seq - 9 WHERE seq >= 13")
    at = WHEN + timedelta(minutes=2)
    forged = chain.event_hash(
        3, trail[2], at, None, "", "test.step", "", None, "forged", None, None, ""
    )
    tamper(
        "INSERT INTO audit_event (occurred_dt, actor_name, action, object_type, summary, "
        "ip_address, seq, prev_hash, hash) VALUES (:at, '', 'test.step', '', 'forged', '', 3, "
        ":prev, :hash)",
        at=at,
        prev=trail[2],
        hash=forged,
    )
    assert verdict() == (False, 3, 4, "does not link to the event before it")
    db.session.rollback()

    # reordered
    tamper("UPDATE audit_event SET seq = 99 WHERE seq = 2")
    tamper("UPDATE audit_event SET seq = 2 WHERE seq = 3")
    tamper("UPDATE audit_event SET seq = 3 WHERE seq = 99")
    assert verdict() == (False, 1, 2, "does not link to the event before it")
    db.session.rollback()
    assert verdict() == (True, 4, None, "")


def test_the_seal_proves_the_end(app, trail):
    from docmgmt.extensions import db

    def seal(seq, digest, mac=None):
        tamper(
            "UPDATE audit_seal SET seq = :s, hash = :h, mac = :m WHERE id = 1",
            s=seq,
            h=digest,
            m=mac or chain.seal_mac(seq, digest),
        )

    tamper("DELETE FROM audit_event WHERE seq >= 3")
    assert verdict() == (
        False,
        2,
        3,
        "events #3 to #4 were removed from the end of the trail (it is sealed at #4)",
    )
    assert chain.verify(db.session).first_bad_id is None
    db.session.rollback()

    tamper("DELETE FROM audit_event WHERE seq = 4")
    assert verdict()[3] == (
        "events #4 to #4 were removed from the end of the trail (it is sealed at #4)"
    )
    db.session.rollback()

    seal(3, trail[3])
    assert verdict() == (False, 4, 4, "events after #3 were added without the seal")
    db.session.rollback()

    seal(4, trail[3])
    assert verdict() == (False, 4, 4, "the last event is not the one the seal names")
    db.session.rollback()

    seal(4, trail[4], chain.seal_mac(4, trail[4], "another key"))
    assert verdict() == (
        False,
        4,
        4,
        "the seal was not written with this server's audit key (it was forged, or the key changed)",
    )
    db.session.rollback()

    seal(0, chain.GENESIS, "x")
    assert verdict()[2:] == (
        1,
        "the seal was not written with this server's audit key (it was forged, or the key changed)",
    )
    db.session.rollback()

    tamper("DELETE FROM audit_seal")
    assert verdict() == (False, 4, 4, "the chain's seal is missing")
    db.session.rollback()

    # cut #3 and #4 and put back the seal of #2 (as if the key were known): the anchor file
    # written by the day's first commit still names #4
    tamper("DELETE FROM audit_event WHERE seq >= 3")
    seal(2, trail[2])
    day = json.loads(chain.anchors_path().read_text())["date"]
    assert verdict() == (
        False,
        2,
        4,
        f"event #4, anchored on {day}, is missing: the trail was cut",
    )
    db.session.rollback()
    assert verdict() == (True, 4, None, "")


def test_anchors_must_still_be_in_the_chain(app, trail):
    assert verdict(anchors=[{"seq": 0, "hash": "x"}]) == (True, 4, None, "")
    # An anchor without "seq" was once skipped as if it anchored nothing; it names no event, so
    # it cannot be checked and fails like the other unreadable anchors
    # (test_an_anchor_that_cannot_be_checked_fails_verification).
    assert verdict(anchors=[{"hash": "x"}, {"seq": 2, "hash": trail[2]}]) == (
        False,
        4,
        None,
        'the anchor {"hash": "x"} names no event: it cannot be checked',
    )
    assert verdict(anchors=[{"seq": 2, "hash": trail[2]}]) == (True, 4, None, "")
    assert verdict(anchors=[{"seq": 0}, {"seq": 9, "hash": trail[4]}])[2] == 9
    assert verdict(anchors=[{"seq": 2, "hash": trail[2], "date": "2026-03-01"}])[0] is True
    assert verdict(
        anchors=[
            {"seq": 3, "hash": trail[2], "date": "2026-03-02"},
            {"seq": 2, "hash": trail[3], "date": "2026-03-01"},
        ]
    ) == (False, 4, 2, "event #2 differs from the one anchored on 2026-03-01")
    assert verdict(anchors=[{"seq": 3, "hash": trail[2]}])[3] == (
        "event #3 differs from the one anchored on ?"
    )
    assert verdict(anchors=[{"seq": 9, "hash": trail[4]}]) == (
        False,
        4,
        9,
        "event #9, anchored on ?, is missing: the trail was cut",
    )
    assert verdict(anchors=[{"seq": 9, "hash": trail[4], "date": "2026-02-28"}])[3] == (
        "event #9, anchored on 2026-02-28, is missing: the trail was cut"
    )


def test_an_anchor_that_cannot_be_checked_fails_verification(app, trail):
    """Mixed with good anchors, in any order: a failure naming the anchor, never a TypeError."""
    bad = {"seq": "2", "hash": trail[2], "date": "2026-03-01"}
    for anchors in ([bad, {"seq": 3, "hash": trail[3]}], [{"seq": 3, "hash": trail[3]}, bad]):
        assert verdict(anchors=anchors) == (
            False,
            4,
            None,
            "the anchor of 2026-03-01 gives its event as '2', which is not an event number: "
            "it cannot be checked",
        )
    assert verdict(anchors=[{"seq": -1}])[3].endswith(
        "as -1, which is not an event number: it cannot be checked"
    )
    assert verdict(anchors=[{"seq": None, "date": "2026-03-02"}])[3].startswith(
        "the anchor of 2026-03-02 gives its event as None"
    )
    assert verdict(anchors=[5]) == (False, 4, None, "5 is not an anchor: it cannot be checked")
    no_seq = {"date": "2026-03-03", "hash": trail[4]}
    for anchors in ([no_seq, {"seq": 3, "hash": trail[3]}], [{"seq": 3, "hash": trail[3]}, no_seq]):
        assert verdict(anchors=anchors) == (
            False,
            4,
            None,
            f'the anchor {{"date": "2026-03-03", "hash": "{trail[4]}"}} names no event: '
            "it cannot be checked",
        )


def test_anchors_and_manifests_always_name_their_event(app):
    """Before the first event the anchor and a manifest carry the genesis seal (event #0), and
    append_anchor refuses a seal without an event number rather than write an uncheckable line."""
    from docmgmt.audit.chain import GENESIS, anchors_path, append_anchor, seal_to_anchor
    from docmgmt.audit.operations import anchor_now
    from docmgmt.extensions import db

    assert seal_to_anchor(db.session)["seq"] == 0
    assert seal_to_anchor(db.session)["hash"] == GENESIS
    assert anchor_now()["seq"] == 0
    with pytest.raises(ValueError):
        append_anchor({"hash": GENESIS, "mac": ""}, "2026-03-04")
    lines = [json.loads(x) for x in anchors_path().read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["seq"] == 0
    assert verdict() == (True, 0, None, "")
