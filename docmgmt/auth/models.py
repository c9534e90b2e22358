"""People: departments, users, their roles, and personal API tokens."""

import enum
import hashlib
import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
    select,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from docmgmt.clock import as_utc, utcnow
from docmgmt.extensions import db


def enum_column(enum_cls, length=24):
    # Stored as plain strings with a CHECK constraint: the same on SQLite and PostgreSQL.
    return Enum(
        enum_cls,
        native_enum=False,
        length=length,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
        create_constraint=True,
        name=f"{enum_cls.__name__.lower()}_value",
    )


class Role(enum.StrEnum):
    ADMIN = "admin"
    QUALITY_MANAGER = "quality_manager"
    APPROVER = "approver"
    STAFF = "staff"
    AUDITOR = "auditor"


class Department(db.Model):
    __tablename__ = "department"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")

    def display_name(self, locale: str | None = None) -> str:
        if locale and locale.startswith("en") and self.name_en:
            return self.name_en
        return self.name

    @property
    def shown_name(self) -> str:
        """The name in the reader's language: the English name in the English UI where the
        department has one (controlled prints keep the Chinese name)."""
        from flask_babel import get_locale

        locale = get_locale()
        return self.display_name(str(locale) if locale else None)


class UserRole(db.Model):
    __tablename__ = "user_role"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    role: Mapped[Role] = mapped_column(enum_column(Role))


# One hash of a random password per hash method, made on first use (see check_password_of_nobody).
_NOBODY_HASHES: dict[str, str] = {}


class User(UserMixin, db.Model):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(200), default="")
    job_title: Mapped[str] = mapped_column(String(100), default="")
    department_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    password_hash: Mapped[str] = mapped_column(String(256))
    is_active_flag: Mapped[bool] = mapped_column("is_active", Boolean, default=True)
    locale: Mapped[str | None] = mapped_column(String(10))
    # Auditors get access for a limited time; after this instant they cannot log in.
    access_expires_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    access_starts_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # An auditor may be limited to some departments (codes); empty = all.
    audit_departments: Mapped[list] = mapped_column(JSON, default=list)
    sign_failures: Mapped[int] = mapped_column(Integer, default=0)
    is_signing_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    # Part of the id every session and remember-me cookie carries (get_id); raising it (log-out,
    # a new password, deactivation) makes every cookie issued before worthless.
    session_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # "local" (password hash here) or "ldap" (the company directory checks the password, at
    # log-in and at every signature; docmgmt/auth/directory.py). The directory's DN of the
    # person, the groups seen at the last log-in or sync, and when.
    auth_source: Mapped[str] = mapped_column(String(10), default="local", server_default="local")
    directory_dn: Mapped[str | None] = mapped_column(String(500))
    directory_groups: Mapped[list | None] = mapped_column(JSON)
    directory_synced_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    department: Mapped[Department | None] = relationship()
    role_rows: Mapped[list[UserRole]] = relationship(
        cascade="all, delete-orphan", lazy="selectin", order_by=UserRole.id
    )

    def get_id(self) -> str:  # Flask-Login keeps this in the session and remember-me cookie
        return f"{self.id}:{self.session_version or 0}"

    def end_sessions(self) -> None:
        self.session_version = (self.session_version or 0) + 1

    @property
    def roles(self) -> set[Role]:
        return {r.role for r in self.role_rows}

    def set_roles(self, roles) -> None:
        wanted = {Role(r) for r in roles}
        self.role_rows = [r for r in self.role_rows if r.role in wanted] + [
            UserRole(role=r) for r in sorted(wanted - self.roles)
        ]

    def has_role(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login asks this at every request
        if not self.is_active_flag:
            return False
        return not self.access_expired()

    def access_expired(self, now: datetime | None = None) -> bool:
        now = now or utcnow()
        if self.access_starts_dt is not None and as_utc(self.access_starts_dt) > now:
            return True  # not yet
        if self.access_expires_dt is None:
            return False
        return as_utc(self.access_expires_dt) <= now

    def allowed_departments(self) -> set[str] | None:
        """Department codes an auditor is limited to; None = no limit."""
        codes = {c for c in (self.audit_departments or []) if c}
        return codes or None

    @property
    def from_directory(self) -> bool:
        return self.auth_source == "ldap"

    def set_password(self, password: str) -> None:
        from flask import current_app

        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password or "")

    @staticmethod
    def check_password_of_nobody(password: str) -> bool:
        """What a log-in with an unknown user name costs: one check of the same method, so
        the answer's timing does not tell which names exist. Always False."""
        from flask import current_app

        method = current_app.config["PASSWORD_HASH_METHOD"]
        pwhash = _NOBODY_HASHES.get(method)
        if pwhash is None:
            pwhash = _NOBODY_HASHES.setdefault(
                method, generate_password_hash(secrets.token_hex(16), method=method)
            )
        check_password_hash(pwhash, password or "")
        return False

    @classmethod
    def by_username(cls, username: str):
        return select(cls).where(cls.username == username)

    def __repr__(self) -> str:
        return f"<User {self.username}>"


class ApiToken(db.Model):
    """A personal bearer token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_used_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_dt: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()

    @staticmethod
    def hash_secret(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()
