"""Who may do what: plain functions over a user, used by views, the API and templates."""

from flask_babel import gettext as _

from docmgmt.auth.models import Role
from docmgmt.errors import PermissionDenied


def can_manage_documents(user) -> bool:
    return user.is_authenticated and user.has_role(Role.QUALITY_MANAGER)


def can_read_history(user) -> bool:
    """Quality managers, auditors and admins see every revision, not only the one in force."""
    return user.is_authenticated and user.has_role(Role.QUALITY_MANAGER, Role.AUDITOR, Role.ADMIN)


def can_compare(user, old, new) -> bool:
    """Whether ``user`` may compare two revisions (page, change report and API alike): when
    they may read both. So quality managers, auditors and admins compare any two revisions in
    their scope; the reviewer and the approver named on a revision in review or approved
    compare it with the revision in force (or any other they may read); everyone else reads
    only the revision in force, so has nothing to compare."""
    from docmgmt.versioning.queries import can_read_revision

    return (
        old is not None
        and new is not None
        and old.document_id == new.document_id
        and can_read_revision(user, old)
        and can_read_revision(user, new)
    )


def can_admin_users(user) -> bool:
    return user.is_authenticated and user.has_role(Role.ADMIN)


def can_see_jobs(user) -> bool:
    """The background jobs page and API: quality managers and administrators."""
    return user.is_authenticated and user.has_role(Role.QUALITY_MANAGER, Role.ADMIN)


def can_read_audit(user) -> bool:
    return user.is_authenticated and user.has_role(Role.ADMIN, Role.AUDITOR, Role.QUALITY_MANAGER)


def is_read_only(user) -> bool:
    # An auditor who holds no other role never changes anything.
    return user.roles <= {Role.AUDITOR}


def require(allowed: bool, message: str | None = None) -> None:
    if not allowed:
        raise PermissionDenied(message or _("You do not have permission to do this."))
