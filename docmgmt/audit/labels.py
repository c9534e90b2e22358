"""The audit trail as people read it: actions, objects and before/after values in words,
never the codes (auth.login, "user 7", in_review) the trail stores."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "auditor.view": _l("Auditor viewed"),
    "auth.directory_unavailable": _l("Company directory unreachable"),
    "auth.login": _l("Logged in"),
    "auth.login_failed": _l("Log-in failed"),
    "auth.login_refused": _l("Log-in refused"),
    "auth.login_throttled": _l("Log-in attempts held back"),
    "auth.logout": _l("Logged out"),
    "certificate.audit": _l("Certification audit recorded"),
    "certificate.create": _l("Certificate registered"),
    "certificate.extension": _l("Certificate extended"),
    "certification.plan": _l("Certification body chosen"),
    "change_request.accept": _l("Change request accepted"),
    "change_request.attach": _l("File attached to a change request"),
    "change_request.create": _l("Change request raised"),
    "change_request.reject": _l("Change request rejected"),
    "clause.map": _l("Clause mapped to a document"),
    "clause.unmap": _l("Clause mapping removed"),
    "copy.due_for_recall": _l("Copy due for recall"),
    "copy.issue": _l("Controlled copy issued"),
    "copy.lost": _l("Controlled copy reported lost"),
    "copy.recall": _l("Controlled copy returned"),
    "disposal.approve": _l("Disposal approved"),
    "disposal.propose": _l("Disposal proposed"),
    "disposal.reject": _l("Disposal rejected"),
    "document.create": _l("Document created"),
    "document.link": _l("Documents linked"),
    "document.unlink": _l("Document link removed"),
    "document.update": _l("Document details changed"),
    "document.withdraw": _l("Document withdrawn"),
    "evidence.build": _l("Evidence pack built"),
    "evidence.request": _l("Evidence pack requested"),
    "hold.place": _l("Legal hold placed"),
    "hold.release": _l("Legal hold released"),
    "record.correct": _l("Record corrected"),
    "record.file": _l("Record filed"),
    "record.import": _l("Records imported"),
    "record.trigger": _l("Retention trigger set"),
    "record_type.create": _l("Record type created"),
    "review.record": _l("Periodic review recorded"),
    "revision.create": _l("Revision created"),
    "revision.edit": _l("Draft edited"),
    "revision.import_docx": _l("Revision imported from Word"),
    "revision.publish": _l("Revision published"),
    "revision.submit": _l("Submitted for review"),
    "revision.review": _l("Reviewed"),
    "revision.approve": _l("Approved"),
    "revision.reject": _l("Rejected, back to draft"),
    "revision.activate": _l("Revision in force"),
    "revision.supersede": _l("Revision superseded"),
    "revision.cancel": _l("Revision cancelled"),
    "revision.unschedule": _l("Scheduled date taken back"),
    "revision.withdraw": _l("Revision withdrawn"),
    "revision.print_controlled": _l("Controlled copy printed"),
    "revision.print_uncontrolled": _l("Uncontrolled copy printed"),
    "signature.sign": _l("Signed"),
    "signature.wrong_password": _l("Signature refused: wrong password"),
    "token.create": _l("API token created"),
    "token.revoke": _l("API token revoked"),
    "training.acknowledge": _l("Read and understood signed"),
    "training.assign": _l("Reading task assigned"),
    "training.attach": _l("File attached to a training session"),
    "training.evaluation": _l("Competence evaluated"),
    "training.requirement": _l("Training requirement set"),
    "training.requirement_removed": _l("Training requirement removed"),
    "training.session": _l("Training session recorded"),
    "user.activate": _l("Account activated"),
    "user.create": _l("Account created"),
    "user.deactivate": _l("Account deactivated"),
    "user.directory_update": _l("Account updated from the directory"),
    "user.notifications": _l("Notification settings changed"),
    "user.password": _l("Password changed"),
    "user.unlock_signing": _l("Signing unlocked"),
    "user.update": _l("Account changed"),
    "withdrawal.approve": _l("Withdrawal approved"),
    "withdrawal.propose": _l("Withdrawal proposed"),
    "withdrawal.reject": _l("Withdrawal rejected"),
    "revision.print_obsolete": _l("Obsolete copy printed (作废)"),
    "job.rerun": _l("Background job run again"),
    "revision.print_change_report": _l("Change report printed"),
}

# The object types events name, for an object no longer found.
OBJECTS = {
    "certificate": _l("Certificate"),
    "certification_plan": _l("Certification body"),
    "change_request": _l("Change request"),
    "clause_mapping": _l("Clause mapping"),
    "controlled_copy": _l("Controlled copy"),
    "department": _l("Department"),
    "disposal": _l("Disposal"),
    "document": _l("Document"),
    "document_link": _l("Document link"),
    "evidence_pack": _l("Evidence pack"),
    "job": _l("Background job"),
    "legal_hold": _l("Legal hold"),
    "periodic_review": _l("Periodic review"),
    "record": _l("Record"),
    "record_import": _l("Record import"),
    "record_type": _l("Record type"),
    "revision": _l("Revision"),
    "signature": _l("Signature"),
    "training_requirement": _l("Training requirement"),
    "training_session": _l("Training session"),
    "training_task": _l("Reading task"),
    "user": _l("Person"),
    "withdrawal": _l("Withdrawal"),
}

# The fields before/after values name.
FIELDS = {
    "access_expires_dt": _l("Access until"),
    "change_request": _l("Change request"),
    "change_summary": _l("What changed"),
    "content_hash": _l("Content hash"),
    "decision_comment": _l("Decision"),
    "department": _l("Department"),
    "doc_type": _l("Type"),
    "effective_date": _l("Effective date"),
    "email": _l("Email"),
    "external_edition": _l("Edition"),
    "external_source": _l("Source"),
    "finding": _l("Finding"),
    "full_name": _l("Full name"),
    "holder": _l("Holder"),
    "is_active": _l("Active"),
    "is_obsolete": _l("Obsolete"),
    "job_title": _l("Job title"),
    "meaning": _l("Meaning"),
    "medium": _l("Medium"),
    "note": _l("Note"),
    "number": _l("Number"),
    "outcome": _l("Outcome"),
    "review_interval_months": _l("Review interval (months)"),
    "revision_id": _l("Revision"),
    "roles": _l("Roles"),
    "signer": _l("Signed by"),
    "state": _l("State"),
    "title": _l("Title"),
    "urgency": _l("Urgency"),
    "username": _l("User name"),
    "values": _l("Content"),
    "version": _l("Version"),
}


def action_label(code: str) -> str:
    """``auth.login`` → 登录; an action not listed reads as its object and verb, never bare."""
    if code in ACTIONS:
        return str(ACTIONS[code])
    obj, _dot, verb = code.partition(".")
    return _("%(object)s: %(what)s", object=object_type_label(obj), what=verb.replace("_", " "))


def object_type_label(object_type: str) -> str:
    return str(OBJECTS.get(object_type, object_type.replace("_", " ")))


def field_label(key: str) -> str:
    return str(FIELDS.get(key, key.replace("_", " ")))


def _names(ids) -> dict:
    from sqlalchemy import select

    from docmgmt.auth.models import User
    from docmgmt.extensions import db

    ids = {i for i in ids if i}
    if not ids:
        return {}
    return dict(db.session.execute(select(User.id, User.full_name).where(User.id.in_(ids))).all())


def object_labels(events) -> dict[int, str]:
    """Each event's object as people name it: a person's name, a document's number and title,
    a revision's number and version; else the object's kind and number."""
    from sqlalchemy import select

    from docmgmt.extensions import db
    from docmgmt.versioning.models import Document, Revision

    by_type: dict[str, set] = {}
    for e in events:
        if e.object_id:
            by_type.setdefault(e.object_type, set()).add(e.object_id)
    names = {("user", k): v for k, v in _names(by_type.get("user", ())).items()}
    if by_type.get("document"):
        for d in db.session.scalars(select(Document).where(Document.id.in_(by_type["document"]))):
            names[("document", d.id)] = f"{d.number} {d.title}"
    if by_type.get("revision"):
        for r in db.session.scalars(select(Revision).where(Revision.id.in_(by_type["revision"]))):
            names[("revision", r.id)] = f"{r.document.number} {r.version}"
    out = {}
    for e in events:
        if not e.object_type:
            out[e.id] = ""
        elif (e.object_type, e.object_id) in names:
            out[e.id] = names[(e.object_type, e.object_id)]
        else:
            kind = object_type_label(e.object_type)
            out[e.id] = f"{kind} {e.object_id}" if e.object_id else kind
    return out


def value_text(key: str, value, object_type: str = "", names: dict | None = None) -> str:
    """A stored before/after value in words (``names``: the labels of a record's fields)."""
    from docmgmt import templating

    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return "、".join(value_text(key, v, object_type) for v in value) or "—"
    if isinstance(value, dict):
        names = names or {}
        return "；".join(
            f"{names.get(k, k)}{templating.colon()}{value_text('', v)}" for k, v in value.items()
        )
    text = str(value)
    if key == "roles":
        return templating.role_label(text)
    if key == "doc_type":
        return templating.type_label(text)
    if key == "meaning":
        return templating.meaning_label(text)
    if key == "medium":
        return templating.medium_label(text)
    if key == "state":
        return _state_text(text, object_type)
    if key == "urgency":
        from docmgmt.control.operations import urgency_label

        try:
            return urgency_label(text)
        except ValueError:
            return text
    if key == "content_hash" and len(text) > 16:
        return text[:16] + "…"
    return text


def _state_text(value: str, object_type: str) -> str:
    from docmgmt import templating
    from docmgmt.versioning.lifecycle import state_label
    from docmgmt.versioning.models import RevisionState

    if object_type == "controlled_copy":
        return templating.copy_state_label(value)
    if object_type == "change_request":
        return {"open": _("Open"), "accepted": _("Accepted"), "rejected": _("Rejected")}.get(
            value, value
        )
    if value in RevisionState._value2member_map_:
        return state_label(RevisionState(value))
    return value


def changes(event) -> list[tuple[str, str, str, bool]]:
    """(field, before, after, changed) for the fields the event names; unchanged fields of a
    change are left out, a creation lists what was set."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    names = _record_field_labels(event) if event.object_type == "record" else {}
    rows = []
    for key in list(dict.fromkeys([*before, *after])):
        b, a = before.get(key), after.get(key)
        if key in before and key in after and b == a:
            continue
        rows.append(
            (
                field_label(key),
                value_text(key, b, event.object_type, names) if key in before else "",
                value_text(key, a, event.object_type, names) if key in after else "",
                key in before,
            )
        )
    return rows


def _record_field_labels(event) -> dict:
    """A record's field names (visit_date) as its type labels them (上门日期)."""
    from docmgmt.extensions import db
    from docmgmt.records.models import Record

    record = db.session.get(Record, event.object_id) if event.object_id else None
    if record is None or record.type is None:
        return {}
    return {f.get("name"): f.get("label") or f.get("name") for f in record.type.fields or []}
