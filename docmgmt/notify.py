"""E-mail notices, sent only after the transaction that caused them commits.

Operations call notify(); the messages wait in the session and go out in after_commit, so a
rolled-back change never mails anyone.  Without DOCMGMT_SMTP_HOST nothing is sent: the in-app
inbox shows the same things.

Each mail is written in the recipient's language (their own setting, else the default), links
to what it is about when DOCMGMT_BASE_URL gives the site's public address, and carries Date and
Message-ID headers.  Nobody is mailed about what they did themselves.  Each person chooses per
kind of event whether to get the mail at once, in the daily digest (kept in PendingNotice until
the day's digest job mails it: docmgmt/jobs/digest.py) or not at all; mails that ask for a
signature always go out at once.
"""

import enum
import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from flask import current_app, has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, String, Text, event, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from docmgmt.clock import utcnow
from docmgmt.extensions import db

log = logging.getLogger(__name__)
OUTBOX = "docmgmt_outbox"


class Event(enum.StrEnum):
    """The kinds of event that send mail; each person may choose per kind (except SIGNATURE)."""

    SIGNATURE = "signature"  # review, approve, approve a withdrawal: always sent
    CHANGE_REQUEST = "change_request"  # a new change request (quality managers)
    REQUEST_DECIDED = "request_decided"  # my change request was accepted or rejected
    REVISION_REJECTED = "revision_rejected"  # a revision I prepared was rejected
    READY_TO_PUBLISH = "ready_to_publish"  # a revision is approved, to publish (quality managers)
    PUBLISHED = "published"  # a revision I asked for, or that concerns me, is published
    WITHDRAWN = "withdrawn"  # a document that concerns me is withdrawn (作废)
    WITHDRAWAL_DECIDED = "withdrawal_decided"  # the withdrawal I proposed was decided
    TRAINING = "training"  # a training task was assigned to me
    COPY_RECALL = "copy_recall"  # a controlled copy I hold is to be returned
    REVIEW_DUE = "review_due"  # a periodic review comes due (quality managers, daily)
    SURVEILLANCE_DUE = "surveillance_due"  # the next certification audit is near (daily)


#: Mails that ask for a signature: a person cannot turn them off.
ALWAYS = frozenset({Event.SIGNATURE})

EVENT_LABELS = {
    Event.SIGNATURE: _l("A review, approval or withdrawal waits for my signature"),
    Event.CHANGE_REQUEST: _l("A change request is made (quality managers)"),
    Event.REQUEST_DECIDED: _l("My change request is accepted or rejected"),
    Event.REVISION_REJECTED: _l("A revision I prepared is rejected"),
    Event.READY_TO_PUBLISH: _l("A revision is approved and ready to publish"),
    Event.PUBLISHED: _l("A revision I asked for or that concerns me is published"),
    Event.WITHDRAWN: _l("A document that concerns me is withdrawn"),
    Event.WITHDRAWAL_DECIDED: _l("A withdrawal I proposed is approved or rejected"),
    Event.TRAINING: _l("A training task is assigned to me"),
    Event.COPY_RECALL: _l("A controlled copy I hold must be returned"),
    Event.REVIEW_DUE: _l("A periodic review comes due"),
    Event.SURVEILLANCE_DUE: _l("A certification audit is within 60 days"),
}


class Delivery(enum.StrEnum):
    NOW = "now"  # mailed at once, after the change commits
    DIGEST = "digest"  # kept (PendingNotice) for the day's digest mail (docmgmt/jobs/digest.py)
    OFF = "off"  # not mailed (the inbox still shows it)


DELIVERY_LABELS = {
    Delivery.NOW: _l("At once"),
    Delivery.DIGEST: _l("In the daily digest"),
    Delivery.OFF: _l("Not at all"),
}


class NotificationPreference(db.Model):
    """How one person wants to hear of one kind of event; no row means at once."""

    __tablename__ = "notification_preference"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user.id", ondelete="CASCADE"), primary_key=True
    )
    event: Mapped[str] = mapped_column(String(30), primary_key=True)
    delivery: Mapped[str] = mapped_column(String(10), default=Delivery.NOW.value)


class PendingNotice(db.Model):
    """A notice kept for its recipient's next daily digest (they chose "in the daily digest"
    for its kind), written in their language when it happened. The digest run mails it and
    deletes it in one transaction."""

    __tablename__ = "pending_notice"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"), index=True)
    event: Mapped[str] = mapped_column(String(30))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(String(500), nullable=True)  # the page's path
    created_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class NoticeSent(db.Model):
    """Daily notices already given (review due, audit near), so each goes out once."""

    __tablename__ = "notice_sent"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    sent_dt: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


# ---------------------------------------------------------------- preferences


def preferences(user) -> dict[Event, Delivery]:
    rows = db.session.scalars(
        select(NotificationPreference).where(NotificationPreference.user_id == user.id)
    ).all()
    chosen = {r.event: r.delivery for r in rows}
    out = {}
    for ev in Event:
        value = chosen.get(ev.value, Delivery.NOW.value)
        out[ev] = Delivery.NOW if ev in ALWAYS else Delivery(value)
    return out


def set_preferences(actor, user, choices: dict) -> dict[Event, Delivery]:
    """Set ``user``'s choices ({event: delivery}); unknown kinds or modes are refused, and a
    signature request cannot be turned off."""
    from docmgmt.audit.operations import log_event
    from docmgmt.errors import PermissionDenied, ValidationFailed

    if actor.id != user.id:
        raise PermissionDenied(_("You do not have permission to do this."))
    parsed = {}
    for key, value in (choices or {}).items():
        try:
            ev = Event(key)
        except ValueError:
            raise ValidationFailed(_("Unknown kind of notice: %(k)s.", k=key), field=key) from None
        try:
            mode = Delivery(value)
        except ValueError:
            raise ValidationFailed(
                _("Choose at once, in the daily digest or not at all for %(k)s.", k=key),
                field=key,
            ) from None
        if ev in ALWAYS and mode != Delivery.NOW:
            raise ValidationFailed(_("Requests for your signature are always mailed."), field=key)
        parsed[ev] = mode
    before = {k.value: v.value for k, v in preferences(user).items()}
    for ev, mode in parsed.items():
        row = db.session.get(NotificationPreference, (user.id, ev.value))
        if row is None:
            row = NotificationPreference(user_id=user.id, event=ev.value)
            db.session.add(row)
        row.delivery = mode.value
    db.session.flush()
    after = {k.value: v.value for k, v in preferences(user).items()}
    if before != after:
        log_event(
            actor,
            "user.notifications",
            user,
            summary=user.username,
            before=before,
            after=after,
        )
    return preferences(user)


# ---------------------------------------------------------------- sending


def recipient_locale(user) -> str:
    config = current_app.config
    locale = getattr(user, "locale", None)
    return locale if locale in config["LANGUAGES"] else config["BABEL_DEFAULT_LOCALE"]


def page_path(endpoint: str, **values) -> str:
    """The path of a page, built without a request (the daily CLI run has none)."""
    adapter = current_app.url_map.bind("localhost", script_name="/")
    return adapter.build(endpoint, values)


def page_url(path: str) -> str | None:
    base = (current_app.config.get("BASE_URL") or "").rstrip("/")
    return f"{base}{path}" if base else None


def notify(user, event: Event, subject, body, *, link=None, actor=None) -> None:
    """Mail ``user`` about ``event`` once the transaction commits.

    ``subject`` and ``body`` are callables returning the text: they are called in the
    recipient's language.  ``link`` is (endpoint, {values}) of the page the notice is about.
    ``actor`` is who caused it: they are not mailed about their own act."""
    if not has_app_context() or not current_app.config.get("SMTP_HOST"):
        return
    if user is None or not getattr(user, "email", "") or not user.is_active:
        return
    if actor is not None and getattr(actor, "id", None) == user.id:
        return
    event = Event(event)
    mode = Delivery.NOW if event in ALWAYS else preferences(user)[event]
    if mode == Delivery.OFF:
        return
    if mode == Delivery.DIGEST:
        _keep(user, event, subject, body, link)
        return
    _deliver(user, _render(user, subject, body, link))


def _keep(user, event: Event, subject, body, link) -> None:
    """Keep the notice, written in the recipient's language, for their next digest; it is part
    of the transaction that caused it (a rollback keeps nothing)."""
    with force_locale(recipient_locale(user)):
        subject_text = str(subject() if callable(subject) else subject)
        text = str(body() if callable(body) else body)
    path = page_path(link[0], **link[1]) if link is not None else None
    db.session.add(
        PendingNotice(
            user_id=user.id,
            event=event.value,
            subject=subject_text[:300],
            body=text,
            link=path[:500] if path else None,
        )
    )


def _render(user, subject, body, link) -> tuple[str, str]:
    with force_locale(recipient_locale(user)):
        subject_text = str(subject() if callable(subject) else subject)
        text = str(body() if callable(body) else body)
        if link is not None:
            endpoint, values = link
            path = page_path(endpoint, **values)
            url = page_url(path)
            if url:
                text += "\n\n" + _("Open it: %(url)s", url=url)
            else:
                text += "\n\n" + _(
                    "In docmgmt: %(path)s (the site's address is not configured, so this mail "
                    "has no link; the administrator sets DOCMGMT_BASE_URL).",
                    path=path,
                )
        settings = page_url(page_path("auth.profile"))
        text += "\n\n-- \n" + (
            _("Choose which mails you get: %(url)s", url=settings + "#notifications")
            if settings
            else _("Choose which mails you get on your profile page in docmgmt.")
        )
    return subject_text, text


def _deliver(user, rendered: tuple[str, str]) -> None:
    subject, text = rendered
    db.session.info.setdefault(OUTBOX, []).append((user.email, subject, text))


def _send(messages, config) -> None:
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            domain = config["MAIL_FROM"].rpartition("@")[2].strip(">") or None
            for to, subject, body in messages:
                msg = EmailMessage()
                msg["From"] = config["MAIL_FROM"]
                msg["To"] = to
                msg["Subject"] = f"[{config['COMPANY_NAME']}] {subject}"
                msg["Date"] = formatdate(localtime=False, usegmt=True)
                msg["Message-ID"] = make_msgid(domain=domain)
                msg.set_content(body)
                smtp.send_message(msg)
    except (OSError, smtplib.SMTPException):
        # The change is committed and the inbox shows it; a mail failure must not undo it.
        log.exception("could not send %d notice(s)", len(messages))


@event.listens_for(Session, "after_commit")
def _flush_outbox(session):
    if session.in_nested_transaction():  # a savepoint: the outer transaction decides
        return
    messages = session.info.pop(OUTBOX, None)
    if messages and has_app_context():
        _send(messages, current_app.config)


@event.listens_for(Session, "after_rollback")
def _drop_outbox(session):
    session.info.pop(OUTBOX, None)


# ---------------------------------------------------------------- who is concerned


def quality_managers() -> list:
    from docmgmt.auth.models import Role, User

    users = db.session.scalars(select(User).order_by(User.id)).all()
    return [u for u in users if u.is_active and u.has_role(Role.QUALITY_MANAGER)]


def staff_concerned(document_id: int) -> list:
    """The people the training matrix says must know the document."""
    from docmgmt.auth.models import User
    from docmgmt.training.models import TrainingRequirement
    from docmgmt.training.operations import covers

    reqs = db.session.scalars(
        select(TrainingRequirement).where(TrainingRequirement.document_id == document_id)
    ).all()
    if not reqs:
        return []
    users = db.session.scalars(
        select(User).where(User.is_active_flag.is_(True)).order_by(User.id)
    ).all()
    return [u for u in users if any(covers(r, u) for r in reqs)]
