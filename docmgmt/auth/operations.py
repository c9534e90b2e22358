"""Verbs on users: create, change, deactivate, tokens, and the signing password check."""

import secrets
from datetime import datetime

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import ApiToken, Department, Role, User
from docmgmt.auth.signals import user_saved
from docmgmt.clock import utcnow
from docmgmt.errors import PermissionDenied, SigningLocked, ValidationFailed
from docmgmt.extensions import db
from docmgmt.templating import listed

MIN_PASSWORD_LENGTH = 8


class WrongSigningPassword(PermissionDenied):
    """Raised when a signature's password is wrong; the failure is counted after rollback.
    ``context`` says where it was typed when not at a signature (the trail shows it)."""

    def __init__(self, message: str, user_id: int, field: str = "password", context: str = ""):
        super().__init__(message, field=field)
        self.user_id = user_id
        self.context = context

    def after_rollback(self) -> None:
        record_sign_failure(self.user_id, self.context)


def _user_snapshot(user: User) -> dict:
    return {
        "username": user.username,
        "full_name": user.full_name,
        "email": user.email,
        "job_title": user.job_title,
        "department": user.department.code if user.department else None,
        "roles": sorted(r.value for r in user.roles),
        "is_active": user.is_active_flag,
        "access_expires_dt": user.access_expires_dt,
    }


def _check_password_rules(password: str) -> None:
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("The password must have at least %(n)d characters.", n=MIN_PASSWORD_LENGTH),
            field="password",
        )


def create_user(
    actor,
    username: str,
    full_name: str,
    password: str,
    roles,
    department: Department | None = None,
    email: str = "",
    job_title: str = "",
    access_expires_dt: datetime | None = None,
    access_starts_dt: datetime | None = None,
    audit_departments: list[str] | None = None,
) -> User:
    username = (username or "").strip()
    full_name = (full_name or "").strip()
    if not username or not username.replace("_", "").replace(".", "").replace("-", "").isalnum():
        raise ValidationFailed(
            _("A user name is letters, digits, dots, dashes or underscores."), field="username"
        )
    if not full_name:
        raise ValidationFailed(_("The full name is required."), field="full_name")
    roles = [Role(r) for r in roles]
    if not roles:
        raise ValidationFailed(_("Give the user at least one role."), field="roles")
    exists = db.session.scalar(
        select(func.count()).select_from(User).where(func.lower(User.username) == username.lower())
    )
    if exists:
        raise ValidationFailed(_('The user name "%(u)s" is taken.', u=username), field="username")
    _check_password_rules(password)
    user = User(
        username=username,
        full_name=full_name,
        email=(email or "").strip(),
        job_title=(job_title or "").strip(),
        department=department,
        access_expires_dt=access_expires_dt,
        access_starts_dt=access_starts_dt,
        audit_departments=_check_departments(audit_departments),
        is_active_flag=True,
        sign_failures=0,
        is_signing_locked=False,
    )
    user.set_password(password)
    user.set_roles(roles)
    db.session.add(user)
    db.session.flush()
    log_event(actor, "user.create", user, summary=username, after=_user_snapshot(user))
    user_saved.send(user, actor=actor)
    return user


def _check_departments(codes) -> list[str]:
    codes = sorted({c.strip() for c in codes or [] if c and c.strip()})
    known = set(db.session.scalars(select(Department.code)))
    unknown = [c for c in codes if c not in known]
    if unknown:
        raise ValidationFailed(
            _("Unknown department code: %(c)s", c=listed(unknown)), field="audit_departments"
        )
    return codes


def update_user(
    actor,
    user: User,
    *,
    full_name,
    email,
    job_title,
    department,
    roles,
    access_expires_dt,
    access_starts_dt=None,
    audit_departments=None,
) -> User:
    before = _user_snapshot(user)
    if not (full_name or "").strip():
        raise ValidationFailed(_("The full name is required."), field="full_name")
    roles = [Role(r) for r in roles]
    if not roles:
        raise ValidationFailed(_("Give the user at least one role."), field="roles")
    if user.id == getattr(actor, "id", None) and Role.ADMIN not in roles:
        raise ValidationFailed(_("You cannot remove your own administrator role."), field="roles")
    user.full_name = full_name.strip()
    user.email = (email or "").strip()
    user.job_title = (job_title or "").strip()
    user.department = department
    user.access_expires_dt = access_expires_dt
    user.access_starts_dt = access_starts_dt
    user.audit_departments = _check_departments(audit_departments)
    if access_starts_dt and access_expires_dt and access_expires_dt <= access_starts_dt:
        raise ValidationFailed(_("Access must end after it starts."), field="access_expires")
    user.set_roles(roles)
    db.session.flush()
    log_event(
        actor, "user.update", user, summary=user.username, before=before, after=_user_snapshot(user)
    )
    user_saved.send(user, actor=actor)
    return user


def set_active(actor, user: User, active: bool) -> User:
    if not active and user.id == getattr(actor, "id", None):
        raise ValidationFailed(_("You cannot deactivate yourself."))
    before = _user_snapshot(user)
    user.is_active_flag = active
    if not active:
        user.end_sessions()
    db.session.flush()
    log_event(
        actor,
        "user.activate" if active else "user.deactivate",
        user,
        summary=user.username,
        before=before,
        after=_user_snapshot(user),
    )
    user_saved.send(user, actor=actor)
    return user


def _directory_password_message() -> str:
    # A directory account's password lives in the directory only.
    return _("This account logs in with the company directory; its password is changed there.")


def set_password(actor, user: User, password: str) -> None:
    """A new password ends every session and remember-me cookie of the user."""
    if user.from_directory:
        raise ValidationFailed(_directory_password_message(), field="password")
    _check_password_rules(password)
    user.set_password(password)
    user.end_sessions()
    log_event(actor, "user.password", user, summary=user.username)


def change_own_password(user: User, current: str, new: str) -> None:
    """The current password is the signing password: wrong guesses here count towards the same
    lock as wrong passwords at a signature, and a locked account cannot change it."""
    if user.from_directory:
        raise ValidationFailed(_directory_password_message(), field="new")
    if user.is_signing_locked:
        raise SigningLocked(
            _(
                "The password cannot be changed while your account is locked after repeated "
                "wrong passwords. Ask an administrator to unlock it."
            )
        )
    try:
        verify_signing_password(user, current)
    except WrongSigningPassword:
        raise WrongSigningPassword(
            _("The current password is wrong."), user.id, field="current", context="password change"
        ) from None
    set_password(user, user, new)


def log_out(user: User) -> None:
    """Log-out ends every session of the user, a copied cookie included."""
    user.end_sessions()
    log_event(user, "auth.logout", user, summary=user.username)


def unlock_signing(actor, user: User) -> None:
    before = {"sign_failures": user.sign_failures, "is_signing_locked": user.is_signing_locked}
    user.sign_failures = 0
    user.is_signing_locked = False
    log_event(
        actor,
        "user.unlock_signing",
        user,
        summary=user.username,
        before=before,
        after={"sign_failures": 0, "is_signing_locked": False},
    )


def verify_signing_password(user: User, password: str) -> None:
    """Check the password given with a signature; count failures, lock after a few."""
    if user.is_signing_locked:
        raise SigningLocked(
            _(
                "Signing is locked for your account after repeated wrong passwords. "
                "Ask an administrator to unlock it."
            ),
            field="password",
        )
    if not password_matches(user, password):
        raise WrongSigningPassword(_("The password is wrong; nothing was signed."), user.id)
    if user.sign_failures:
        user.sign_failures = 0


def record_sign_failure(user_id: int, context: str = "") -> None:
    """Runs after the failed request was rolled back, so the count survives the error."""
    user = db.session.get(User, user_id)
    if user is None:
        return
    user.sign_failures = (user.sign_failures or 0) + 1
    limit = current_app.config["SIGNING_MAX_FAILURES"]
    locked = user.sign_failures >= limit
    if locked:
        user.is_signing_locked = True
    log_event(
        user,
        "signature.wrong_password",
        user,
        summary=f"{user.sign_failures}/{limit}"
        + (" locked" if locked else "")
        + (f" ({context})" if context else ""),
    )
    db.session.commit()


def create_token(actor: User, name: str) -> tuple[ApiToken, str]:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_("Give the token a name."), field="name")
    secret = "dm_" + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=actor.id,
        name=name[:100],
        token_hash=ApiToken.hash_secret(secret),
        prefix=secret[:10],
    )
    db.session.add(token)
    db.session.flush()
    log_event(actor, "token.create", token, summary=f"{name} ({token.prefix}…)")
    return token, secret


def revoke_token(actor: User, token: ApiToken) -> None:
    if token.user_id != actor.id:
        raise PermissionDenied(_("This token is not yours."))
    if token.revoked_dt is None:
        token.revoked_dt = utcnow()
        log_event(actor, "token.revoke", token, summary=f"{token.name} ({token.prefix}…)")


def user_for_token(secret: str) -> User | None:
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == ApiToken.hash_secret(secret or ""))
    )
    if token is None or token.revoked_dt is not None or not token.user.is_active:
        return None
    return token.user


def password_matches(user: User, password: str) -> bool:
    """The one password check of a known user, at log-in and at every signature: the
    directory's for a directory account (DirectoryUnavailable when it cannot be asked; never
    a fallback), the stored hash for a local one."""
    if user.from_directory:
        from docmgmt.auth import directory

        if not directory.enabled():
            raise directory.DirectoryUnavailable()
        return directory.authenticate(user.username, password) is not None
    return user.check_password(password)


def user_for_login(username: str, password: str) -> User | None:
    """The user a log-in opens, None for a wrong password or unknown name. A local account
    is checked here; a directory account, or a name unknown here while the directory log-in
    is on, by the directory (the account is created or brought up to date from it).
    Raises directory.DirectoryUnavailable and directory.NoDirectoryAccess."""
    from docmgmt.auth import directory

    user = db.session.scalar(User.by_username(username))
    if user is not None and not user.from_directory:
        return user if user.check_password(password) else None
    if not directory.enabled():
        if user is not None:  # a directory account while the directory log-in is off
            raise directory.DirectoryUnavailable()
        User.check_password_of_nobody(password)
        return None
    return directory.user_for_login(username, password)


def login_throttled(username: str, address: str, now: datetime | None = None) -> bool:
    """Too many wrong passwords for this user name within the window: from this client address
    (LOGIN_MAX_FAILURES), so a stranger cannot lock the owner out, or from all addresses
    together (LOGIN_MAX_FAILURES_PER_NAME), against guessing spread over many machines. Counted
    from the audit trail, so every worker sees the same numbers."""
    from datetime import timedelta

    from sqlalchemy import case

    from docmgmt.audit.models import AuditEvent

    cfg = current_app.config
    since = (now or utcnow()) - timedelta(minutes=cfg["LOGIN_WINDOW_MINUTES"])
    total, from_here = db.session.execute(
        select(
            func.count(),
            func.coalesce(
                func.sum(case((AuditEvent.ip_address == (address or ""), 1), else_=0)), 0
            ),
        )
        .select_from(AuditEvent)
        .where(
            AuditEvent.action == "auth.login_failed",
            AuditEvent.summary == (username or "")[:64],
            AuditEvent.occurred_dt >= since,
        )
    ).one()
    return from_here >= cfg["LOGIN_MAX_FAILURES"] or total >= cfg["LOGIN_MAX_FAILURES_PER_NAME"]
