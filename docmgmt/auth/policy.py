"""Who may call each route that changes something: one table for the web pages and the API.

The table is checked before a view runs, so a person without the role is refused before any
form or JSON body is read (a refusal never depends on what was typed), and the operations
check again underneath. A write route missing from the table is refused to everyone;
tests/auth/test_route_matrix.py fails when a route is added without an entry, and tries every
write route against every role.

Read routes are not listed: what a person may read depends on the object (the revision in
force, their own tasks), so the operations decide that.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l

from docmgmt.auth.models import Role

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Routes anybody may post to, signed in or not (the log-in itself, the language switch).
OPEN = frozenset({"auth.login", "auth.logout", "auth.set_language", "static"})


@dataclass(frozen=True)
class Rule:
    name: str
    allows: Callable[[object], bool]
    message: object


def _has(*roles: Role) -> Callable[[object], bool]:
    return lambda user: user.has_role(*roles)


def _not_read_only(user) -> bool:
    return not user.roles <= {Role.AUDITOR}


MANAGER = Rule(
    "quality manager", _has(Role.QUALITY_MANAGER), _l("Only a quality manager can do this.")
)
ADMIN = Rule("administrator", _has(Role.ADMIN), _l("You do not have permission to do this."))
# Quality managers and administrators: the background jobs (running a failed one again).
OPERATOR = Rule(
    "quality manager or administrator",
    _has(Role.QUALITY_MANAGER, Role.ADMIN),
    _l("Only a quality manager or an administrator can do this."),
)
# Quality managers, auditors and administrators: those who read every revision.
READER = Rule(
    "reader of the history",
    _has(Role.QUALITY_MANAGER, Role.AUDITOR, Role.ADMIN),
    _l("Only quality managers and auditors can see this."),
)
# Anyone signed in who is not a read-only auditor; the operation then checks that it is their
# own task, their own request, or the revision / withdrawal / disposal routed to them.
MEMBER = Rule("anyone but an auditor", _not_read_only, _l("Auditors have read-only access."))

_TABLE: dict[Rule, tuple[str, ...]] = {
    MANAGER: (
        # documents and revisions
        "versioning.new_document",
        "versioning.edit_document",
        "versioning.new_draft",
        "versioning.edit_revision",
        "versioning.submit",
        "versioning.publish",
        "versioning.cancel",
        "versioning.unschedule",
        "versioning.withdraw",
        "api.create_document",
        "api.create_revision",
        "api.update_revision",
        "api.submit_revision",
        "api.publish_revision",
        "api.cancel_revision",
        "api.unschedule_revision",
        # document control
        "control.decide_request",
        "control.record_review",
        "control.add_link",
        "control.remove_link",
        "control_api.accept_request",
        "control_api.reject_request",
        "control_api.record_review",
        "control_api.add_link",
        "control_api.remove_link",
        "control_api.propose_withdrawal",
        # Word files and controlled copies
        "printing.import_docx",
        "printing.save_import",
        "printing.issue",
        "printing.close",
        "printing_api.preview_import",
        "printing_api.save_import",
        "printing_api.issue_copy",
        "printing_api.close_copy",
        # records: types, holds, disposal
        "records.types",
        "records.holds",
        "records.release",
        "records.disposition",
        "records_api.create_type",
        "records_api.place_hold",
        "records_api.release_hold",
        "records_api.propose",
        # training
        "training.matrix",
        "training.remove_requirement",
        "training.new_session",
        "training.evaluations",
        "training_api.add_requirement",
        "training_api.delete_requirement",
        "training_api.create_session",
        "training_api.upload_attachment",
        "training.retry_text",
        "training_api.retry_text",
        "training_api.create_evaluation",
        # certification
        "certification.clauses",
        "certification.save_certificate",
    ),
    ADMIN: (
        "auth.new_user",
        "auth.edit_user",
        "auth.set_user_active",
        "auth.unlock_user",
        # the starter kit: a new company on an empty instance
        "starter.setup_company",
    ),
    OPERATOR: (
        "jobs.rerun",
        "jobs_api.rerun_job",
    ),
    READER: (
        "certification.request_pack",
        "certification_api.request_pack",
    ),
    MEMBER: (
        # one's own profile
        "auth.change_password",
        "auth.create_token",
        "auth.revoke_token",
        "auth.save_notifications",
        "api.put_notifications",
        # signing what is routed to you
        "versioning.sign",
        "versioning.reject",
        "versioning.decide_withdrawal",
        "api.sign_revision",
        "api.reject_revision",
        "control_api.decide_withdrawal",
        "records.decide",
        "records_api.decide",
        # change requests
        "control.new_request",
        "control.upload_attachment",
        "control_api.create_request",
        "control_api.upload_attachment",
        # filing records
        "records.new",
        "records.correct",
        "records.set_trigger",
        "records.import_upload",
        "records.import_detail",
        "records.import_run",
        "records_api.file_record",
        "records_api.file_record_with_files",
        "records_api.correct",
        "records_api.trigger",
        "records_api.upload_import",
        "records_api.run_import",
        # reading an attachment's text again (the filer or requester, or a quality manager:
        # the operation)
        "records.retry_text",
        "records_api.retry_text",
        "control.retry_text",
        "control_api.retry_text",
        # one's own training
        "training.acknowledge",
        "training_api.acknowledge",
    ),
}

WRITE_POLICY: dict[str, Rule] = {
    endpoint: rule for rule, endpoints in _TABLE.items() for endpoint in endpoints
}
assert len(WRITE_POLICY) == sum(len(e) for e in _TABLE.values()), "an endpoint listed twice"


def refusal(user, endpoint: str | None, method: str) -> str | None:
    """Why `user` may not call `endpoint` with `method`, or None when they may."""
    if method not in WRITE_METHODS or endpoint in OPEN:
        return None
    rule = WRITE_POLICY.get(endpoint or "")
    if rule is None:
        return str(_l("You do not have permission to do this."))
    return None if rule.allows(user) else str(rule.message)
