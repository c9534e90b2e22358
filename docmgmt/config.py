"""All settings, read from environment variables in one place, with defaults for a demo."""

import json
import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-only-change-me"

# Who may sign each step of the approval route, by document type.  The quality manager
# prepares (制订); the route names the roles eligible to review (审核) and approve (核准).
DEFAULT_APPROVAL_ROUTES = {
    "manual": {
        "prepare": ["quality_manager"],
        "review": ["approver"],
        "approve": ["approver"],
    },
    "procedure": {
        "prepare": ["quality_manager"],
        "review": ["approver", "quality_manager"],
        "approve": ["approver"],
    },
    "work_instruction": {
        "prepare": ["quality_manager", "approver"],
        "review": ["approver", "quality_manager"],
        "approve": ["approver"],
    },
    "record_form": {
        "prepare": ["quality_manager", "approver"],
        "review": ["approver", "quality_manager"],
        "approve": ["approver", "quality_manager"],
    },
    "external": {
        "prepare": ["quality_manager"],
        "review": ["approver", "quality_manager"],
        "approve": ["approver", "quality_manager"],
    },
}

DEFAULT_TYPE_CODES = {
    "manual": "SM",
    "procedure": "SP",
    "work_instruction": "WI",
    "record_form": "SR",
    "external": "EX",
}

DEFAULT_REVIEW_MONTHS = {
    "manual": 12,
    "procedure": 12,
    "work_instruction": 24,
    "record_form": 24,
    "external": 12,
}


def _json_env(name: str, default):
    raw = os.environ.get(name)
    return json.loads(raw) if raw else default


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "")
    if not url:
        return f"sqlite:///{BASE_DIR / 'instance' / 'docmgmt.sqlite3'}"
    # Heroku-style URLs name the dialect "postgres"; SQLAlchemy wants psycopg 3 explicitly.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url[len("postgres://") :]
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY", DEFAULT_SECRET_KEY)
    # Seals the audit trail's newest event (docmgmt/audit/chain.py); SECRET_KEY when unset.
    # Keep it out of the database and the backups, like SECRET_KEY.
    AUDIT_KEY = os.environ.get("DOCMGMT_AUDIT_KEY", "")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}
    STORAGE_DIR = os.environ.get("DOCMGMT_STORAGE_DIR", str(BASE_DIR / "storage"))
    # Largest upload accepted (Word files, attachments, imports), in MiB; Flask refuses bigger
    # request bodies before they are read.
    UPLOAD_MAX_MB = int(os.environ.get("DOCMGMT_UPLOAD_MAX_MB", "25"))
    MAX_CONTENT_LENGTH = (UPLOAD_MAX_MB + 1) * 1024 * 1024
    # Search: where the index lives (default STORAGE_DIR/search), how many of the newest
    # matches a query ranks, how long a writer waits for the index lock before leaving its
    # change in the outbox for the next one.
    # Search engine: "whoosh" (embedded, a folder per server) or "postgres" (a table of the
    # app's PostgreSQL database, written in the change's transaction); empty = postgres when
    # DATABASE_URL is PostgreSQL, whoosh otherwise (docmgmt/search/backends.py).
    SEARCH_BACKEND = os.environ.get("DOCMGMT_SEARCH_BACKEND", "")
    SEARCH_INDEX_DIR = os.environ.get("DOCMGMT_SEARCH_DIR", "")
    SEARCH_WINDOW = int(os.environ.get("DOCMGMT_SEARCH_WINDOW", "500"))
    SEARCH_LOCK_TIMEOUT = float(os.environ.get("DOCMGMT_SEARCH_LOCK_TIMEOUT", "10"))
    # Worker processes a rebuild (`search reindex`, restore) writes segments with; 0: one per
    # CPU core, at most 4.
    SEARCH_BUILD_PROCS = int(os.environ.get("DOCMGMT_SEARCH_BUILD_PROCS", "0"))
    # Records one disposal may name (checked, tombstoned and certified in one transaction).
    DISPOSAL_MAX_RECORDS = int(os.environ.get("DOCMGMT_DISPOSAL_MAX_RECORDS", "5000"))
    # Background jobs (docmgmt/jobs): the queue's broker. Empty: a SQLite file in instance/
    # (no server; `make run` starts a worker); redis://host:6379/0 for several servers;
    # "immediate": jobs run at once in the asking process. A worker holds a job under a lease
    # it renews; a job whose lease ran out (its worker died) is run again by another.
    QUEUE_URL = os.environ.get("DOCMGMT_QUEUE_URL", "")
    JOB_LEASE_SECONDS = int(os.environ.get("DOCMGMT_JOB_LEASE_SECONDS", "60"))
    # Finished jobs (done or failed) are deleted by the daily run after this many days.
    JOB_KEEP_DAYS = int(os.environ.get("DOCMGMT_JOB_KEEP_DAYS", "90"))
    # The daily digest mail goes out from this hour (company time).
    DIGEST_HOUR = int(os.environ.get("DOCMGMT_DIGEST_HOUR", "7"))
    # The Chinese TrueType font embedded in PDFs; empty = look in the usual system places.
    CJK_FONT_PATH = os.environ.get("DOCMGMT_CJK_FONT", "")
    # How a PDF names its page: {page} is the page, {pages} the total ("{page} / {pages}").
    PDF_PAGE_NUMBERS = os.environ.get("DOCMGMT_PDF_PAGE_NUMBERS", "第 {page} 页 共 {pages} 页")
    # Text recognition of scanned attachments (docmgmt/extract): rapidocr or tesseract, and the
    # most pages of a file it reads.
    OCR_ENGINE = os.environ.get("DOCMGMT_OCR_ENGINE", "rapidocr")
    OCR_MAX_PAGES = int(os.environ.get("DOCMGMT_OCR_MAX_PAGES", "50"))

    COMPANY_NAME = os.environ.get("DOCMGMT_COMPANY_NAME", "示例电器服务有限公司")
    TIMEZONE = os.environ.get("DOCMGMT_TIMEZONE", "Asia/Shanghai")
    DOC_NUMBER_PREFIX = os.environ.get("DOCMGMT_DOC_PREFIX", "XX")
    DOC_TYPE_CODES = _json_env("DOCMGMT_DOC_TYPE_CODES", DEFAULT_TYPE_CODES)
    DOC_NUMBER_DIGITS = int(os.environ.get("DOCMGMT_DOC_NUMBER_DIGITS", "2"))
    REVIEW_INTERVAL_MONTHS = _json_env("DOCMGMT_REVIEW_MONTHS", DEFAULT_REVIEW_MONTHS)
    VERSION_SKIP_LETTERS = os.environ.get("DOCMGMT_VERSION_SKIP_LETTERS", "IO")
    APPROVAL_ROUTES = _json_env("DOCMGMT_APPROVAL_ROUTES", DEFAULT_APPROVAL_ROUTES)
    # Consecutive wrong passwords at signing before signing is locked for the user.
    SIGNING_MAX_FAILURES = int(os.environ.get("DOCMGMT_SIGNING_MAX_FAILURES", "3"))

    # E-mail notices; nothing is sent while SMTP_HOST is empty.
    SMTP_HOST = os.environ.get("DOCMGMT_SMTP_HOST", "")
    SMTP_PORT = int(os.environ.get("DOCMGMT_SMTP_PORT", "25"))
    SMTP_USER = os.environ.get("DOCMGMT_SMTP_USER", "")
    SMTP_PASSWORD = os.environ.get("DOCMGMT_SMTP_PASSWORD", "")
    SMTP_STARTTLS = os.environ.get("DOCMGMT_SMTP_STARTTLS", "") == "1"
    MAIL_FROM = os.environ.get("DOCMGMT_MAIL_FROM", "docmgmt@localhost")
    # The site's public address (https://docs.example.com): mails link to the page they are
    # about.  Without it a mail names the page's path and says it has no link.
    BASE_URL = os.environ.get("DOCMGMT_BASE_URL", "")

    BABEL_DEFAULT_LOCALE = os.environ.get("DOCMGMT_DEFAULT_LOCALE", "zh_CN")
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ["zh_CN", "en"]
    # The language of the texts the system itself writes into controlled documents and the
    # audit trail (a first issue's change text "新制订", "（更正 …）"): the company's, not the
    # language of whoever happened to act. Prints for people follow the reader's language.
    DOCUMENT_LOCALE = os.environ.get("DOCMGMT_DOCUMENT_LOCALE", "zh_CN")

    PASSWORD_HASH_METHOD = os.environ.get("DOCMGMT_PASSWORD_HASH", "scrypt")
    WTF_CSRF_TIME_LIMIT = None
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    # DOCMGMT_ENV: "production" (the default: whatever serves wsgi.py is production unless told
    # otherwise) or "development" (`make run`, on your own machine). Read case-insensitively;
    # anything else is refused. The settings that follow from it (PRODUCTION, Secure cookies,
    # the URL scheme) are set by environment_settings() when the app is created.
    ENV_NAME = os.environ.get("DOCMGMT_ENV", "")
    PROXY_FIX = int(os.environ.get("DOCMGMT_PROXY_FIX", "0"))
    # Log-in throttling: this many wrong passwords for one user name from one client address
    # within the window lock further attempts for that name from that address until the window
    # has passed; LOGIN_MAX_FAILURES_PER_NAME from all addresses together lock the name
    # everywhere (against guessing spread over many machines). Counted in the database, so it
    # holds across every worker.
    LOGIN_MAX_FAILURES = int(os.environ.get("DOCMGMT_LOGIN_MAX_FAILURES", "5"))
    LOGIN_MAX_FAILURES_PER_NAME = int(os.environ.get("DOCMGMT_LOGIN_MAX_FAILURES_PER_NAME", "50"))
    LOGIN_WINDOW_MINUTES = int(os.environ.get("DOCMGMT_LOGIN_WINDOW_MINUTES", "15"))

    # Company log-in against LDAP / Active Directory (docmgmt/auth/directory.py, README
    # "Directory log-in"). Off while DOCMGMT_LDAP_URL is empty. Direct bind when a DN template
    # is given ("uid={username},ou=people,dc=example,dc=com", or "{username}@example.com" for
    # Active Directory), otherwise search-then-bind with the service account (LDAP_BIND_DN).
    LDAP_URL = os.environ.get("DOCMGMT_LDAP_URL", "")
    LDAP_START_TLS = os.environ.get("DOCMGMT_LDAP_STARTTLS", "") == "1"
    LDAP_CA_FILE = os.environ.get("DOCMGMT_LDAP_CA_FILE", "")
    LDAP_TIMEOUT = float(os.environ.get("DOCMGMT_LDAP_TIMEOUT", "5"))
    LDAP_USER_DN_TEMPLATE = os.environ.get("DOCMGMT_LDAP_USER_DN_TEMPLATE", "")
    LDAP_BIND_DN = os.environ.get("DOCMGMT_LDAP_BIND_DN", "")
    LDAP_BIND_PASSWORD = os.environ.get("DOCMGMT_LDAP_BIND_PASSWORD", "")
    LDAP_USER_BASE = os.environ.get("DOCMGMT_LDAP_USER_BASE", "")
    LDAP_USER_FILTER = os.environ.get("DOCMGMT_LDAP_USER_FILTER", "(uid={username})")
    LDAP_ATTR_USERNAME = os.environ.get("DOCMGMT_LDAP_ATTR_USERNAME", "uid")
    LDAP_ATTR_NAME = os.environ.get("DOCMGMT_LDAP_ATTR_NAME", "cn")
    LDAP_ATTR_EMAIL = os.environ.get("DOCMGMT_LDAP_ATTR_EMAIL", "mail")
    LDAP_ATTR_DEPARTMENT = os.environ.get("DOCMGMT_LDAP_ATTR_DEPARTMENT", "departmentNumber")
    # Groups: the user entry's attribute (Active Directory: memberOf), or else a search under
    # LDAP_GROUP_BASE with LDAP_GROUP_FILTER ({dn} and {username} are filled in, escaped).
    LDAP_USER_GROUPS_ATTR = os.environ.get("DOCMGMT_LDAP_USER_GROUPS_ATTR", "")
    LDAP_GROUP_BASE = os.environ.get("DOCMGMT_LDAP_GROUP_BASE", "")
    LDAP_GROUP_FILTER = os.environ.get(
        "DOCMGMT_LDAP_GROUP_FILTER", "(|(member={dn})(uniqueMember={dn})(memberUid={username}))"
    )
    # Group (full DN or its cn) -> {"roles": [...], "department": "QA"}; a directory user in
    # none of these groups cannot log in, and `users sync-directory` deactivates them.
    LDAP_GROUP_MAP = _json_env("DOCMGMT_LDAP_GROUP_MAP", {})

    API_TITLE = "docmgmt API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
    API_SPEC_OPTIONS = {
        "components": {
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Personal token"}
            }
        },
        "security": [{"bearerAuth": []}],
    }


ENVIRONMENTS = ("production", "development")
MIN_SECRET_KEY_BYTES = 32


class ConfigurationError(RuntimeError):
    """A setting the app must not start with; the message names the variable and the rule."""


def environment_settings(raw: str | None, *, testing: bool = False) -> dict:
    """The settings that follow from DOCMGMT_ENV. Unset means production, so a server started
    without it fails safe; only the tests (TESTING) default to development."""
    name = (raw or "").strip().lower()
    if not name:
        name = "development" if testing else "production"
    if name not in ENVIRONMENTS:
        raise ConfigurationError(
            f"DOCMGMT_ENV={raw!r} is not an environment docmgmt knows; "
            f"use {' or '.join(ENVIRONMENTS)}"
        )
    production = name == "production"
    return {
        "ENV_NAME": name,
        "PRODUCTION": production,
        "SESSION_COOKIE_SECURE": production,
        "REMEMBER_COOKIE_SECURE": production,
        "PREFERRED_URL_SCHEME": "https" if production else "http",
    }


def check_page_numbers(config) -> None:
    """DOCMGMT_PDF_PAGE_NUMBERS must name {page} and {pages} and nothing else in braces."""
    fmt = config.get("PDF_PAGE_NUMBERS") or ""
    try:
        sample = fmt.format(page=1, pages=2)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigurationError(
            f"DOCMGMT_PDF_PAGE_NUMBERS={fmt!r} is not a page label: use {{page}} and {{pages}} "
            f"and no other braces ({exc})"
        ) from None
    if "1" not in sample or "2" not in sample or "{page}" not in fmt or "{pages}" not in fmt:
        raise ConfigurationError(
            f"DOCMGMT_PDF_PAGE_NUMBERS={fmt!r} must contain both {{page}} and {{pages}}, "
            "e.g. '第 {page} 页 共 {pages} 页' or '{page} / {pages}'"
        )


def check_ocr_engine(config) -> None:
    """DOCMGMT_OCR_ENGINE must name an engine docmgmt knows."""
    from docmgmt.extract.ocr import ENGINES

    name = config.get("OCR_ENGINE")
    if name not in ENGINES:
        raise ConfigurationError(
            f"DOCMGMT_OCR_ENGINE={name!r} is not a text recognition engine: use "
            + " or ".join(ENGINES)
        )


def check_secret_key(config, *, served_by_gunicorn: bool = False) -> None:
    """Sessions are signed with SECRET_KEY: whoever knows it can sign in as anyone. Only the
    development server (DOCMGMT_ENV=development, as `make run` sets) and the tests may run with
    the published default or a short key; gunicorn never may, whatever DOCMGMT_ENV says."""
    if config.get("TESTING"):
        return
    if not config.get("PRODUCTION") and not served_by_gunicorn:
        return
    key = config.get("SECRET_KEY") or ""
    raw = key if isinstance(key, bytes) else str(key).encode()
    if key == DEFAULT_SECRET_KEY or len(raw) < MIN_SECRET_KEY_BYTES:
        where = (
            "gunicorn"
            if served_by_gunicorn and not config.get("PRODUCTION")
            else ("DOCMGMT_ENV=production (the default)")
        )
        raise ConfigurationError(
            f"{where} needs SECRET_KEY set to a random value of at least "
            f"{MIN_SECRET_KEY_BYTES} bytes, not the development default "
            '(python -c "import secrets; print(secrets.token_hex(32))"); '
            "for the development server on your own machine set DOCMGMT_ENV=development "
            "(make run does)"
        )
