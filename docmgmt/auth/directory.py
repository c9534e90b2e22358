"""Company log-in against LDAP / Active Directory, through ldap3 (pure Python, maintained).

A user with ``auth_source == "ldap"`` has no password here: the directory checks it at log-in
and at every signature (operations.password_matches), so a signature stays that person's own.
The directory's groups map to roles and a department (LDAP_GROUP_MAP), applied at each log-in
and by ``flask users sync-directory``, which also deactivates (never deletes) leavers.

A directory that cannot be reached raises DirectoryUnavailable: no log-in, no signature, and
never a fallback to some other check. A wrong password is an ordinary wrong password: counted
by the log-in throttling and the signing lock like a local one.
"""

import contextlib
import logging
import ssl
from dataclasses import dataclass, field

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select

from docmgmt.audit.operations import log_event
from docmgmt.auth.models import Department, Role, User
from docmgmt.auth.signals import user_saved
from docmgmt.clock import utcnow
from docmgmt.errors import DomainError, PermissionDenied
from docmgmt.extensions import db

log = logging.getLogger(__name__)

SOURCE = "ldap"
# Stored instead of a password hash: no password ever matches it (check_password_hash
# refuses a value without a method), so a directory account has no local password at all.
NO_LOCAL_PASSWORD = "!directory"
# LDAP result codes that mean "the server cannot answer now", not "wrong password".
_BUSY_CODES = {51, 52}


class DirectoryUnavailable(DomainError):
    """The directory did not answer (down, timeout, TLS failure, service account refused)."""

    status = 503

    def __init__(self, message: str | None = None):
        super().__init__(
            message
            or _(
                "The company directory cannot be reached, so your password cannot be checked. "
                "Nothing was done; try again later or tell IT."
            ),
            field="password",
        )


class NoDirectoryAccess(PermissionDenied):
    """The password is right but no mapped group gives this person access."""


@dataclass
class DirectoryEntry:
    dn: str
    username: str
    full_name: str
    email: str = ""
    department: str = ""
    groups: list[str] = field(default_factory=list)


def enabled() -> bool:
    return bool(current_app.config.get("LDAP_URL"))


# ---------------------------------------------------------------- the LDAP client


def _ldap3():
    try:
        import ldap3
    except ImportError:  # pragma: no cover - the extra is missing
        log.error("DOCMGMT_LDAP_URL is set but ldap3 is not installed (pip install docmgmt[ldap])")
        raise DirectoryUnavailable() from None
    return ldap3


def _valid_username(username: str) -> bool:
    # The same rule as for local user names; nothing else reaches a filter or a DN.
    name = username or ""
    return (
        bool(name)
        and len(name) <= 64
        and name.replace("_", "").replace(".", "").replace("-", "").isalnum()
    )


def _server():
    ldap3 = _ldap3()
    cfg = current_app.config
    url = cfg["LDAP_URL"]
    tls = None
    if url.lower().startswith("ldaps://") or cfg["LDAP_START_TLS"]:
        # The certificate is always checked: against LDAP_CA_FILE, or the system's CAs.
        tls = ldap3.Tls(
            validate=ssl.CERT_REQUIRED,
            ca_certs_file=cfg["LDAP_CA_FILE"] or None,
        )  # version None: the ssl module's default context (TLS 1.2 or newer)
    return ldap3.Server(
        url,
        use_ssl=url.lower().startswith("ldaps://"),
        tls=tls,
        connect_timeout=cfg["LDAP_TIMEOUT"],
        get_info=ldap3.NONE,
    )


def _connect(user_dn: str | None, password: str | None):
    """An open, bound connection; None when the server refused these credentials.
    Raises DirectoryUnavailable when the directory cannot be asked."""
    ldap3 = _ldap3()
    from ldap3.core.exceptions import LDAPException

    cfg = current_app.config
    conn = None
    try:
        conn = ldap3.Connection(
            _server(),
            user=user_dn or None,
            password=password if user_dn else None,
            authentication=ldap3.SIMPLE if user_dn else ldap3.ANONYMOUS,
            receive_timeout=cfg["LDAP_TIMEOUT"],
            raise_exceptions=False,
            read_only=True,
            auto_referrals=False,
        )
        conn.open()
        plain = not cfg["LDAP_URL"].lower().startswith("ldaps://")
        if cfg["LDAP_START_TLS"] and plain and not conn.start_tls():
            raise DirectoryUnavailable()
        if conn.bind():
            return conn
        code = (conn.result or {}).get("result")
        conn.unbind()
    except DirectoryUnavailable:
        _close(conn)
        raise
    except (LDAPException, OSError, ssl.SSLError) as exc:
        log.warning("directory unavailable: %s", exc)
        _close(conn)
        raise DirectoryUnavailable() from None
    if code in _BUSY_CODES or code is None:
        raise DirectoryUnavailable()
    return None


def _close(conn) -> None:
    """ldap3 leaves the socket of a failed open behind; close it now rather than at GC."""
    sock = getattr(conn, "socket", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.close()


def _service_connection():
    cfg = current_app.config
    conn = _connect(cfg["LDAP_BIND_DN"] or None, cfg["LDAP_BIND_PASSWORD"])
    if conn is None:  # the service account's own password was refused: a setting is wrong
        log.error("the directory refused DOCMGMT_LDAP_BIND_DN's password")
        raise DirectoryUnavailable()
    return conn


def _values(attributes: dict, name: str) -> list[str]:
    if not name:
        return []
    for key, value in attributes.items():
        if key.lower() == name.lower():
            values = value if isinstance(value, list) else [value]
            return [v.decode() if isinstance(v, bytes) else str(v) for v in values]
    return []


def _first(attributes: dict, name: str) -> str:
    values = _values(attributes, name)
    return values[0].strip() if values else ""


def _search(conn, base, flt, attributes, size_limit=0):
    from ldap3.core.exceptions import LDAPException

    try:
        ok = conn.search(base, flt, attributes=attributes, size_limit=size_limit)
    except (LDAPException, OSError) as exc:
        log.warning("directory search failed: %s", exc)
        raise DirectoryUnavailable() from None
    code = (conn.result or {}).get("result")
    # 4: the size limit asked for was reached; 32: no such object = nothing found
    if not ok and code not in (0, 4, 32):
        log.warning("directory search failed: %s", conn.result)
        raise DirectoryUnavailable()
    return [r for r in conn.response or [] if r.get("type") == "searchResEntry"]


def _find_entry(conn, username: str) -> DirectoryEntry | None:
    from ldap3.utils.conv import escape_filter_chars

    cfg = current_app.config
    attrs = [
        a
        for a in (
            cfg["LDAP_ATTR_USERNAME"],
            cfg["LDAP_ATTR_NAME"],
            cfg["LDAP_ATTR_EMAIL"],
            cfg["LDAP_ATTR_DEPARTMENT"],
            cfg["LDAP_USER_GROUPS_ATTR"],
        )
        if a
    ]
    flt = cfg["LDAP_USER_FILTER"].replace("{username}", escape_filter_chars(username))
    found = _search(conn, cfg["LDAP_USER_BASE"], flt, attrs)
    if len(found) != 1:
        if found:
            log.warning("directory: %d entries for %r; refused", len(found), username)
        return None
    dn, attributes = found[0]["dn"], found[0].get("attributes") or {}
    entry = DirectoryEntry(
        dn=dn,
        username=_first(attributes, cfg["LDAP_ATTR_USERNAME"]) or username,
        full_name=_first(attributes, cfg["LDAP_ATTR_NAME"]) or username,
        email=_first(attributes, cfg["LDAP_ATTR_EMAIL"]),
        department=_first(attributes, cfg["LDAP_ATTR_DEPARTMENT"]),
    )
    if cfg["LDAP_USER_GROUPS_ATTR"]:
        entry.groups = _values(attributes, cfg["LDAP_USER_GROUPS_ATTR"])
    elif cfg["LDAP_GROUP_BASE"]:
        gflt = (
            cfg["LDAP_GROUP_FILTER"]
            .replace("{dn}", escape_filter_chars(dn))
            .replace("{username}", escape_filter_chars(entry.username))
        )
        entry.groups = [g["dn"] for g in _search(conn, cfg["LDAP_GROUP_BASE"], gflt, ["cn"])]
    return entry


def authenticate(username: str, password: str) -> DirectoryEntry | None:
    """The person's entry when the directory accepts this password; None when it does not
    (or knows no such person). Raises DirectoryUnavailable."""
    if not _valid_username(username) or not password:
        # An empty password would be an "unauthenticated bind", which servers accept.
        return None
    cfg = current_app.config
    template = cfg["LDAP_USER_DN_TEMPLATE"]
    if template:  # direct bind, then read the own entry
        from ldap3.utils.dn import escape_rdn

        conn = _connect(template.replace("{username}", escape_rdn(username)), password)
        if conn is None:
            return None
        try:
            return _find_entry(conn, username)
        finally:
            conn.unbind()
    conn = _service_connection()  # search-then-bind
    try:
        entry = _find_entry(conn, username)
    finally:
        conn.unbind()
    if entry is None:
        return None
    user_conn = _connect(entry.dn, password)
    if user_conn is None:
        return None
    user_conn.unbind()
    return entry


def lookup(conn, username: str) -> DirectoryEntry | None:
    return _find_entry(conn, username) if _valid_username(username) else None


# ---------------------------------------------------------------- groups to roles


def _norm_dn(dn: str) -> str:
    return ",".join(p.strip() for p in (dn or "").split(",")).lower()


def _cn(dn: str) -> str:
    first = (dn or "").split(",", 1)[0]
    return first.split("=", 1)[1].strip().lower() if "=" in first else first.strip().lower()


def mapped(groups) -> tuple[set[Role], str | None, list[str]]:
    """Roles, department code and the names of the mapped groups among ``groups``."""
    mapping = current_app.config.get("LDAP_GROUP_MAP") or {}
    have = {_norm_dn(g) for g in groups} | {_cn(g) for g in groups}
    roles: set[Role] = set()
    department = None
    names = []
    for key, rule in mapping.items():
        if _norm_dn(key) not in have:
            continue
        names.append(key)
        roles |= {Role(r) for r in (rule or {}).get("roles", [])}
        if department is None and (rule or {}).get("department"):
            department = rule["department"]
    return roles, department, names


def _snapshot(user: User) -> dict:
    return {
        "full_name": user.full_name,
        "email": user.email,
        "department": user.department.code if user.department else None,
        "roles": sorted(r.value for r in user.roles),
        "directory_groups": list(user.directory_groups or []),
    }


def apply_entry(entry: DirectoryEntry, user: User | None, actor=None, by_self=True) -> User:
    """Create the user on first log-in, or bring name, e-mail, department and roles in line
    with the directory. Raises NoDirectoryAccess when no mapped group applies."""
    roles, dep_code, names = mapped(entry.groups)
    if not roles:
        raise NoDirectoryAccess(
            _(
                "Your directory account is in no group that gives access to this system. "
                "Ask IT to add you to one."
            )
        )
    dep_code = dep_code or entry.department
    department = (
        db.session.scalar(select(Department).where(Department.code == dep_code))
        if dep_code
        else None
    )
    actor = user if by_self and actor is None else actor
    created = user is None
    if created:
        user = User(
            username=entry.username,
            password_hash=NO_LOCAL_PASSWORD,
            is_active_flag=True,
            sign_failures=0,
            is_signing_locked=False,
            auth_source=SOURCE,
            audit_departments=[],
        )
        db.session.add(user)
        before = None
    else:
        before = _snapshot(user)
    user.full_name = entry.full_name[:100]
    user.email = entry.email[:200]
    user.directory_dn = entry.dn[:500]
    user.directory_groups = sorted(names)
    if department is not None or created:
        user.department = department
    user.set_roles(roles)
    user.directory_synced_dt = utcnow()
    db.session.flush()
    after = _snapshot(user)
    if created:
        actor = user if by_self else actor
        log_event(actor, "user.create", user, summary=f"{user.username} (directory)", after=after)
        user_saved.send(user, actor=actor)
    elif after != before:
        log_event(
            actor, "user.directory_update", user, summary=user.username, before=before, after=after
        )
        user_saved.send(user, actor=actor)
    return user


def user_for_login(username: str, password: str) -> User | None:
    """The user this directory log-in opens, created on first log-in; None for a wrong
    password or an unknown name. A local account of that name is never taken over."""
    entry = authenticate(username, password)
    if entry is None:
        return None
    user = db.session.scalar(
        select(User).where(func.lower(User.username) == entry.username.lower())
    )
    if user is not None and not user.from_directory:
        return None  # a local account of that name: the directory does not speak for it
    return apply_entry(entry, user)


# ---------------------------------------------------------------- leavers


@dataclass
class SyncReport:
    deactivated_left: list[str] = field(default_factory=list)
    deactivated_no_group: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: int = 0


def sync(actor=None) -> SyncReport:
    """Every active directory account checked against the directory: leavers and people in
    no mapped group are deactivated (never deleted; their open tasks end as at any
    deactivation), the others get their current name, e-mail, department and roles. Changes
    nothing when the directory cannot be asked or finds nobody at all under the user base."""
    from docmgmt.auth import operations as ops

    report = SyncReport()
    conn = _service_connection()
    try:
        cfg = current_app.config
        anyone = _search(
            conn,
            cfg["LDAP_USER_BASE"],
            cfg["LDAP_USER_FILTER"].replace("{username}", "*"),
            ["objectClass"],
            size_limit=1,
        )
        if not anyone:
            raise DirectoryUnavailable(
                _("The directory found no users under the user base; nothing was changed.")
            )
        users = db.session.scalars(
            select(User)
            .where(User.auth_source == SOURCE, User.is_active_flag.is_(True))
            .order_by(User.username)
        ).all()
        for user in users:
            entry = lookup(conn, user.username)
            if entry is None:
                ops.set_active(actor, user, False)
                report.deactivated_left.append(user.username)
                continue
            before = _snapshot(user)
            try:
                apply_entry(entry, user, actor=actor, by_self=False)
            except NoDirectoryAccess:
                ops.set_active(actor, user, False)
                report.deactivated_no_group.append(user.username)
                continue
            if _snapshot(user) != before:
                report.updated.append(user.username)
            else:
                report.unchanged += 1
    finally:
        conn.unbind()
    return report
