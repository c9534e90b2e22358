"""An auditor limited to departments reads nothing of the other departments, on any route.

Two departments get the same set of objects (documents, a draft in review, records with
attachments, copies, change requests, reviews, links, a withdrawal, training, a disposal, an
import, a hold, an evidence pack...), the titles of one marked MINEQX, of the other OTHERQX.
Every GET route of the app (pages and API) is then opened by an auditor limited to the first
department, with the path filled by objects of the second: a single object answers 404, and no
answer (HTML, JSON, PDF, Word, Excel, zip) carries the other department's titles or numbers.
A GET route missing from ROUTES below fails the sweep, so a new read route must be classified.
"""

import contextlib
import io
import json
import re
import zipfile
from datetime import timedelta

import pytest

from docmgmt.extensions import db
from tests.conftest import PASSWORD

MINE, OTHER = "MINEQX", "OTHERQX"

# endpoint -> the object kind filling its path (one per argument, in order), or () for none.
# A route with an object is expected to refuse it (404/403); every route's answer is searched
# for the other department's markers.
ROUTES = {
    # not departmental, or one's own
    "main.index": (),
    "main.healthz": (),
    "main.ping": (),
    "auth.login": (),
    "auth.profile": (),
    "auth.users": (),
    "auth.new_user": (),
    "auth.edit_user": ("other_user",),
    "api.me": (),
    "api.get_notifications": (),
    "api.inbox": (),
    "api-docs.openapi_json": (),
    "static": ("static",),
    "audit.trail": (),
    "audit.verify_chain": (),
    # background jobs: quality managers and administrators only (an auditor gets 403)
    "jobs.page": (),
    "jobs_api.list_jobs": (),
    "jobs_api.get_job": ("job",),
    # documents and revisions
    "versioning.register": (),
    "versioning.new_document": (),
    "versioning.document": ("document",),
    "versioning.edit_document": ("document",),
    "versioning.compare": ("document",),
    "versioning.compare_pdf": ("document",),
    "versioning.revision": ("document", "draft"),
    "versioning.edit_revision": ("document", "draft"),
    "versioning.withdrawal": ("withdrawal",),
    "api.list_documents": (),
    "api.get_document": ("document",),
    "api.list_revisions": ("document",),
    "api.revision_record": ("document",),
    "api.get_revision": ("draft",),
    "api.list_signatures": ("draft",),
    "api.compare_revision": ("draft",),
    "api.compare_revision_pdf": ("draft",),
    # document control
    "control.desk": (),
    "control.requests_list": (),
    "control.new_request": ("document",),
    "control.request_detail": ("change_request",),
    "control.download_attachment": ("change_request", "cr_attachment"),
    "control.searchable_pdf": ("change_request", "cr_attachment"),
    "control.master_list": (),
    "control.master_list_as_pdf": (),
    "control_api.desk": (),
    "control_api.list_requests": (),
    "control_api.get_request": ("change_request",),
    "control_api.list_attachments": ("change_request",),
    "control_api.download_attachment": ("change_request", "cr_attachment"),
    "control_api.attachment_text": ("change_request", "cr_attachment"),
    "control_api.searchable_pdf": ("change_request", "cr_attachment"),
    "control_api.list_reviews": ("document",),
    "control_api.overdue": (),
    "control_api.list_links": ("document",),
    "control_api.list_withdrawals": (),
    "control_api.get_withdrawal": ("withdrawal",),
    "control_api.master_list": (),
    "control_api.master_list_as_pdf": (),
    # prints, Word, controlled copies
    "printing.print_pdf": ("revision",),
    "printing.export_docx": ("revision",),
    "printing.revision_image": ("revision", "sha"),
    "printing.download_source": ("revision", "source"),
    "printing.import_docx": ("document",),
    "printing.register": (),
    "printing.register_pdf": (),
    "printing.copy_detail": ("copy",),
    "printing.copy_pdf": ("copy",),
    "printing.verify": ("copy_token",),
    "printing_api.print_pdf": ("revision",),
    "printing_api.export_docx": ("revision",),
    "printing_api.list_copies": (),
    "printing_api.get_copy": ("copy",),
    "printing_api.copy_pdf": ("copy",),
    "printing_api.register_pdf": (),
    # records
    "records.index": (),
    "records.export": ("fmt",),
    "records.types": (),
    "records.holds": (),
    "records.new": ("record_type",),
    "records.detail": ("record",),
    "records.correct": ("record",),
    "records.attachment": ("record", "record_attachment"),
    "records.searchable_pdf": ("record", "record_attachment"),
    "records.disposition": (),
    "records.disposal": ("disposal",),
    "records.certificate": ("disposal",),
    "records.import_upload": ("record_type",),
    "records.import_detail": ("import",),
    "records.import_errors": ("import",),
    "records_api.list_records": (),
    "records_api.list_types": (),
    "records_api.list_holds": (),
    "records_api.get_record": ("record",),
    "records_api.download": ("record", "record_attachment"),
    "records_api.attachment_text": ("record", "record_attachment"),
    "records_api.searchable_pdf": ("record", "record_attachment"),
    "records_api.due": (),
    "records_api.get_disposal": ("disposal",),
    "records_api.certificate": ("disposal",),
    "records_api.preview_import": ("import",),
    "records_api.get_import": ("import",),
    "records_api.import_errors": ("import",),
    # training
    "training.index": (),
    "training.overview": (),
    "training.matrix": (),
    "training.sessions": (),
    "training.new_session": (),
    "training.evaluations": (),
    "training.session_detail": ("session",),
    "training.attachment": ("session_attachment",),
    "training.searchable_pdf": ("session_attachment",),
    "training.task": ("task",),
    "training.person": ("other_user",),
    "training.person_pdf": ("other_user",),
    "training.person_xlsx": ("other_user",),
    "training.revision_completion": ("revision",),
    "training_api.list_tasks": (),
    "training_api.list_matrix": (),
    "training_api.list_sessions": (),
    "training_api.attachment_text": ("session", "session_attachment"),
    "training_api.searchable_pdf": ("session", "session_attachment"),
    "training_api.list_evaluations": (),
    "training_api.due_evaluations": (),
    "training_api.overview": (),
    "training_api.completion": ("revision",),
    "training_api.person": ("other_user",),
    "training_api.person_pdf": ("other_user",),
    "training_api.person_xlsx": ("other_user",),
    # certification
    # the starter kit: what is still to write (quality managers and the administrator)
    "starter.checklist": (),
    "starter.setup_company": (),
    "certification.index": (),
    "certification.clauses": (),
    "certification.sample": (),
    "certification.pack": ("pack",),
    "certification.download_pack": ("pack",),
    "certification_api.clauses": (),
    "certification_api.schedule": (),
    "certification_api.sample": (),
    "certification_api.get_pack": ("pack",),
    "certification_api.download": ("pack",),
    # search
    "search.results": (),
    "search_api.search_endpoint": (),
}

# Path values that are not another department's object (a language, a file name...).
NOT_AN_OBJECT = {"lang", "static", "fmt", "record_type", "sha", "copy_token"}

# The QR check of a paper copy is public by design (whoever holds the paper holds its token)
# and says only whether the copy is in force: no log-in, so no department limit.
CAPABILITY = {"printing.verify"}

# Routes without an object that an auditor may not open at all (forms to change things, the
# quality manager's desk, user administration), so there is no list to check.
AUDITOR_REFUSED = {
    "auth.login": 302,  # already signed in
    "auth.users": 403,
    "auth.new_user": 403,
    "control.desk": 403,
    "jobs.page": 403,
    "jobs_api.list_jobs": 403,
    "control_api.desk": 403,
    "records.import_upload": 403,
    "records.new": 403,
    "starter.checklist": 403,
    "starter.setup_company": 403,
    "training.new_session": 403,
    "versioning.new_document": 403,
}

# Query strings that make a list route show as much as it can.
QUERY = {
    "versioning.register": "?obsolete=1",
    "api.list_documents": "?include_obsolete=true",
    "records.export": "",
    # A word in both departments' titles (the markers themselves would be echoed back); more
    # words are searched at the end of the sweep.
    "search.results": "?q=procedure&history=1",
    "search_api.search_endpoint": "?q=procedure&history=true&per_page=50",
    "certification.sample": "?type={record_type}&date_from={start}&date_to={end}&size=50&seed=7",
    "certification_api.sample": "?type={record_type_code}&from={start}&to={end}&size=50",
    "certification.clauses": "?date_from={start}&date_to={end}",
    "certification_api.clauses": "?from={start}&to={end}",
    "audit.trail": "",
    "control.requests_list": "?state=all",
    "control_api.list_requests": "",
    "printing.register": "?state=all",
}


# ---------------------------------------------------------------- the two departments


def _pdf(text: str) -> bytes:
    from reportlab.pdfgen import canvas

    buf = io.BytesIO()
    c = canvas.Canvas(buf)
    c.drawString(72, 720, text)
    c.save()
    return buf.getvalue()


def _populate(dep, tag, people, create_user, effective_doc, draft_of, today):
    """The same set of objects for one department; every title carries ``tag``."""
    from docmgmt import storage
    from docmgmt.control import operations as cops
    from docmgmt.printing import operations as pops
    from docmgmt.records import importing
    from docmgmt.records import operations as rops
    from docmgmt.training import operations as tops
    from docmgmt.versioning import documents, signing

    qm, reviewer, approver = people["qm"], people["reviewer"], people["approver"]
    member = create_user(f"{tag.lower()}staff", ["staff"], f"{tag} Person", department=dep)
    doc, rev = effective_doc(title=f"{tag} procedure", department=dep)
    ext = documents.create_document(
        qm,
        f"{tag} external standard",
        "external",
        department=dep,
        external_edition="2011",
        external_source=f"{tag} source",
    )
    tops.set_requirement(qm, doc, "department", dep.code, 14)
    tops.assign_for_revision(rev)
    draft = draft_of(
        doc, body=f"# 1 {tag} draft\n{tag} changed text.\n", change_summary=f"{tag} change"
    )
    signing.submit_for_review(qm, draft, reviewer=reviewer, approver=approver, password=PASSWORD)
    copy = pops.issue_copy(qm, rev, holder_name=f"{tag} holder", department=dep)
    cr = cops.create_request(
        member, doc, reason=f"{tag} reason", proposed_change=f"{tag} change", urgency="normal"
    )
    cr_att = cops.attach_to_request(member, cr, f"{tag}-cr.pdf", _pdf(f"{tag} cr file"))
    cops.record_review(qm, doc, review_date=today, finding=f"{tag} finding")
    cops.add_link(qm, doc, ext, "refers_to")
    wd = cops.propose_withdrawal(qm, ext, f"{tag} withdrawal", approver, confirm_references=True)
    rt = rops.create_type(
        qm,
        code=f"{tag[:2]}R",
        name=f"type {dep.code}",
        retention_months=1,
        trigger="closing",
        department=dep,
        fields=[{"name": "note", "label": "note", "kind": "text", "required": False}],
    )
    long_ago = today - timedelta(days=400)
    record = rops.file_record(
        member,
        rt,
        title=f"{tag} record",
        values={"note": f"{tag} value"},
        files=[(f"{tag}-scan.pdf", _pdf(f"{tag} attachment"), "application/pdf")],
        external_id=f"{tag}-EXT-1",
    )
    due = [
        rops.file_record(
            member,
            rt,
            title=f"{tag} due {i}",
            values={},
            trigger_date=long_ago,
            external_id=f"{tag}-EXT-DUE-{i}",
        )
        for i in (1, 2)
    ]
    disposal = rops.propose_disposal(qm, [due[0]], f"{tag} disposal", approver)
    rops.place_hold(qm, scope="record", reason=f"{tag} hold", record=record)
    imp, _parsed = importing.upload(
        member, rt, f"{tag}-import.csv", f"title,note\n{tag} imported,{tag} x\n".encode()
    )
    session = tops.record_session(
        qm,
        held_on=today,
        kind="classroom",
        topic=f"{tag} topic",
        trainer_name=f"{tag} trainer",
        duration_minutes=60,
        attendees=[(member, "passed", 90)],
        assessed=True,
        revisions=[rev],
    )
    s_att = tops.attach_to_session(qm, session, f"{tag}-sheet.pdf", _pdf(f"{tag} sheet"))
    tops.record_evaluation(
        qm,
        member,
        evaluated_on=today,
        criteria=f"{tag} criteria",
        result="competent",
        next_due=today + timedelta(days=10),
    )
    from docmgmt.certification import operations as certops

    certops.map_clause(qm, "5.1.4", document=doc)
    db.session.commit()
    source = next(iter(pops.revision_sources(rev)), None)
    from sqlalchemy import select

    from docmgmt.training.models import TrainingTask

    task = db.session.scalar(select(TrainingTask).where(TrainingTask.document_id == doc.id))
    assert storage.exists(record.attachments[0].sha256)
    return {
        "document": doc,
        "revision": rev,
        "draft": draft,
        "external": ext,
        "copy": copy,
        "change_request": cr,
        "cr_attachment": cr_att,
        "withdrawal": wd,
        "record_type": rt,
        "record": record,
        "record_attachment": record.attachments[0],
        "due": due,
        "disposal": disposal,
        "import": imp,
        "session": session,
        "session_attachment": s_att,
        "task": task,
        "other_user": member,
        "source": source,
    }


@pytest.fixture
def two_departments(app, people, create_user, effective_doc, draft_of, today):
    from docmgmt.auth.models import Department
    from docmgmt.certification import operations as certops

    deps = {
        MINE: Department(code="AS", name="售后服务部", name_en="After-sales"),
        OTHER: Department(code="ADM", name="行政部", name_en="Administration"),
    }
    db.session.add_all(deps.values())
    db.session.commit()
    sets = {
        tag: _populate(deps[tag], tag, people, create_user, effective_doc, draft_of, today)
        for tag in (MINE, OTHER)
    }
    # What crosses the two: it touches the other department, so the limited auditor does not
    # see it (a link from their document, a session and a disposal shared by both).
    from docmgmt.control import operations as cops
    from docmgmt.records import operations as rops
    from docmgmt.training import operations as tops

    mine, other = sets[MINE], sets[OTHER]
    cops.add_link(people["qm"], mine["document"], other["document"], "refers_to")
    cops.add_link(people["qm"], other["document"], mine["external"], "refers_to")
    tops.record_session(
        people["qm"],
        held_on=today,
        kind="classroom",
        topic=f"{OTHER} shared session",
        trainer_name="Trainer",
        duration_minutes=30,
        attendees=[(mine["other_user"], "attended", None), (other["other_user"], "attended", None)],
        revisions=[mine["revision"]],
    )
    other["shared_disposal"] = rops.propose_disposal(
        people["qm"], [mine["due"][1], other["due"][1]], f"{OTHER} shared", people["approver"]
    )
    db.session.commit()
    auditor = create_user("asaudit", ["auditor"], "AS Auditor", audit_departments=["AS"])
    # A pack the quality manager built holds every department: not the limited auditor's.
    qm_pack = certops.request_pack(
        people["qm"],
        today - timedelta(days=30),
        today,
        sample_type=sets[OTHER]["record_type"],
        sample_size=5,
    )
    certops.run_pack(qm_pack, people["qm"])
    db.session.commit()
    sets[OTHER]["pack"] = qm_pack
    return deps, sets, auditor


# ---------------------------------------------------------------- reading answers back


def _text_of(data: bytes, content_type: str = "") -> str:
    """Everything readable in an answer: HTML/JSON/CSV text, PDF text, the XML and files of
    a Word, Excel or zip file."""
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(data))
        return "\n".join(p.extract_text() or "" for p in reader.pages) + " ".join(
            str(v) for v in (reader.metadata or {}).values()
        )
    if data.startswith(b"PK"):
        out = []
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            for name in z.namelist():
                out.append(name)
                out.append(_text_of(z.read(name)))
        return "\n".join(out)
    text = data.decode("utf-8", errors="replace")
    if "json" in content_type:
        with contextlib.suppress(ValueError):
            text += json.dumps(json.loads(text), ensure_ascii=False)
    return text


def _markers(objs) -> list[str]:
    """What must never show: the tag, and the numbers of that department's objects."""
    out = [OTHER]
    out += [objs["document"].number, objs["external"].number, objs["change_request"].number]
    out += [objs["record"].number, objs["disposal"].number, objs["shared_disposal"].number]
    out += [r.number for r in objs["due"]]
    return out


def _leaks(text: str, markers) -> list[str]:
    return [m for m in markers if re.search(rf"(?<![\w-]){re.escape(m)}(?![\w])", text)]


def _url(app, rule, objs, extra) -> str:
    kinds = ROUTES[rule.endpoint]
    args = [a for a in rule.rule.split("<")[1:]]
    assert len(args) == len(kinds), (rule.endpoint, rule.rule, kinds)
    url = rule.rule
    for kind in kinds:
        value = {
            "lang": "en",
            "static": "app.css",
            "fmt": "csv",
            "sha": "0" * 64,
            "copy_token": extra["copy_token"],
            "record_type": str(extra["record_type"]),
            "job": "1",  # a background job belongs to no department; refused to auditors
        }.get(kind)
        if value is None:
            obj = objs[kind]
            value = str(obj.id) if obj is not None else "999999"
        url = re.sub(r"<[^>]+>", value, url, count=1)
    q = QUERY.get(rule.endpoint, "")
    return url + q.format(**extra)


# ---------------------------------------------------------------- the sweep


def test_every_get_route_is_classified(app):
    gets = {r.endpoint for r in app.url_map.iter_rules() if "GET" in (r.methods or set())}
    missing = gets - set(ROUTES)
    assert not missing, f"GET routes not classified in ROUTES (say what they show): {missing}"
    stale = set(ROUTES) - gets
    assert not stale, f"ROUTES lists routes that no longer exist: {sorted(stale)}"


def test_a_limited_auditor_reads_nothing_of_another_department_on_any_route(
    app, client, auth, two_departments, token_for, today
):
    _deps, sets, auditor = two_departments
    other, mine = sets[OTHER], sets[MINE]
    markers = _markers(other)
    headers = token_for(auditor)
    auth.login("asaudit")
    extra = {
        "start": (today - timedelta(days=30)).isoformat(),
        "end": today.isoformat(),
        "record_type": other["record_type"].id,
        "record_type_code": other["record_type"].code,
        "copy_token": other["copy"].token,
    }
    leaks, not_refused, refused_lists, checked = [], [], {}, 0
    for rule in app.url_map.iter_rules():
        if "GET" not in (rule.methods or set()):
            continue
        assert rule.endpoint in ROUTES, f"classify {rule.endpoint} in ROUTES"
        url = _url(app, rule, other, extra)
        r = client.get(url, headers=headers if url.startswith("/api/") else None)
        assert r.status_code < 500, (url, r.status_code)
        body = _text_of(r.get_data(), r.content_type or "")
        found = [] if rule.endpoint in CAPABILITY else _leaks(body, markers)
        if found:
            leaks.append((url, r.status_code, found))
        objects = [k for k in ROUTES[rule.endpoint] if k not in NOT_AN_OBJECT]
        if objects and rule.endpoint not in CAPABILITY and r.status_code not in (403, 404):
            not_refused.append((url, r.status_code))
        if not objects and r.status_code != 200:
            refused_lists[rule.endpoint] = r.status_code
        r.close()
        checked += 1
    for word in ("record", "topic", "standard", "finding", "reason", "value", "person"):
        for url, h in (
            (f"/search/?q={word}&history=1", None),
            (f"/api/v1/search?q={word}&history=true&per_page=50", headers),
        ):
            r = client.get(url, headers=h)
            assert r.status_code == 200, url
            found = _leaks(r.get_data(as_text=True), markers)
            if found:
                leaks.append((url, 200, found))
    assert checked == len(ROUTES)
    assert not leaks, "\n".join(f"{u} [{s}]: {f}" for u, s, f in leaks)
    assert not not_refused, not_refused
    # A list checked for leaks must have answered: only these are closed to an auditor.
    assert refused_lists == AUDITOR_REFUSED, str(sorted(refused_lists.items()))
    assert mine  # the auditor's own objects exist (read in the next test)


def test_a_limited_auditor_still_reads_their_own_department(
    app, client, auth, two_departments, token_for, today
):
    from docmgmt.certification import operations as certops

    _deps, sets, auditor = two_departments
    mine, other = sets[MINE], sets[OTHER]
    headers = token_for(auditor)
    auth.login("asaudit")
    markers = _markers(other)

    def read(url):
        r = client.get(url, headers=headers if url.startswith("/api/") else None)
        assert r.status_code == 200, (url, r.status_code, r.get_data(as_text=True)[:300])
        text = _text_of(r.get_data(), r.content_type or "")
        r.close()
        assert not _leaks(text, markers), url
        return text

    def read_json(url):
        read(url)
        return client.get(url, headers=headers).get_json()

    doc, rev, draft, record = mine["document"], mine["revision"], mine["draft"], mine["record"]
    assert doc.number in read(f"/documents/{doc.id}")  # its link to the other's is not shown
    links = read_json(f"/api/v1/documents/{doc.id}/links")
    assert [x["target_number"] for x in links] == [mine["external"].number]
    assert MINE in read(f"/documents/{mine['external'].id}")  # nor who refers to it
    assert doc.number in read("/documents/")
    assert doc.number in read(f"/api/v1/documents/{doc.id}")
    assert doc.number in read("/api/v1/documents")
    assert MINE in read(f"/api/v1/revisions/{draft.id}")
    assert len(read_json(f"/api/v1/documents/{doc.id}/revisions")) == 2
    assert doc.number in read(f"/revisions/{rev.id}/print.pdf")
    assert MINE in read(f"/api/v1/revisions/{rev.id}/export.docx")
    assert mine["copy"].label in read(f"/copies/{mine['copy'].id}")
    assert mine["copy"].label in read("/api/v1/copies")
    assert record.number in read(f"/records/{record.id}")
    assert record.number in read("/api/v1/records")
    assert record.number in read(f"/api/v1/records/{record.id}")
    att = mine["record_attachment"]
    assert MINE in read(f"/api/v1/records/{record.id}/attachments/{att.id}")
    assert mine["due"][1].number in read("/api/v1/disposition/due")
    assert mine["disposal"].number in read(f"/api/v1/disposals/{mine['disposal'].id}")
    assert MINE in read(f"/change-requests/{mine['change_request'].id}")
    assert MINE in read(f"/training/sessions/{mine['session'].id}")
    assert MINE in read(f"/api/v1/training/people/{mine['other_user'].id}")
    assert doc.number in read("/register/master-list.pdf")
    for word in ("procedure", "record", "topic"):
        hits = read_json(f"/api/v1/search?q={word}&history=true&per_page=50")
        assert hits["total"] >= 1 and MINE in json.dumps(hits["hits"]), word
    start, end = (today - timedelta(days=30)).isoformat(), today.isoformat()
    assert record.number in read(
        f"/api/v1/certification/sample?type={mine['record_type'].code}&from={start}&to={end}&size=50"
    )
    # The pack the limited auditor builds holds their department and nothing else.
    pack = certops.request_pack(
        auditor,
        today - timedelta(days=30),
        today,
        sample_type=mine["record_type"],
        sample_size=5,
    )
    certops.run_pack(pack, auditor)
    db.session.commit()
    text = read(f"/api/v1/certification/packs/{pack.id}/evidence.zip")
    assert doc.number in text and record.number in text and f"{MINE}-scan.pdf" in text
    read(f"/certification/packs/{pack.id}")
    # Another department's record type samples nothing of that department either.
    ot = other["record_type"].code
    r = client.get(
        f"/api/v1/certification/sample?type={ot}&from={start}&to={end}&size=50", headers=headers
    )
    assert r.status_code == 200 and r.get_json()["records"] == []


def test_an_unlimited_auditor_reads_both_departments(client, auth, two_departments, people):
    _deps, sets, _auditor = two_departments
    auth.login("auditor")
    text = client.get("/documents/").get_data(as_text=True)
    assert sets[MINE]["document"].number in text and sets[OTHER]["document"].number in text
    r = client.get(f"/documents/{sets[OTHER]['document'].id}")
    assert r.status_code == 200
