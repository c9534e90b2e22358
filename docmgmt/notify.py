"""E-mail notices, sent only after the transaction that caused them commits.

Operations call notify(); the messages wait in the session and go out in after_commit, so a
rolled-back change never mails anyone.  Without DOCMGMT_SMTP_HOST nothing is sent: the in-app
inbox shows the same things.
"""

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, has_app_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from docmgmt.extensions import db

log = logging.getLogger(__name__)
OUTBOX = "docmgmt_outbox"


def notify(user, subject: str, body: str) -> None:
    if not has_app_context() or not current_app.config.get("SMTP_HOST"):
        return
    if user is None or not getattr(user, "email", "") or not user.is_active:
        return
    db.session.info.setdefault(OUTBOX, []).append((user.email, str(subject), str(body)))


def _send(messages, config) -> None:
    try:
        with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=10) as smtp:
            if config.get("SMTP_STARTTLS"):
                smtp.starttls()
            if config.get("SMTP_USER"):
                smtp.login(config["SMTP_USER"], config.get("SMTP_PASSWORD", ""))
            for to, subject, body in messages:
                msg = EmailMessage()
                msg["From"] = config["MAIL_FROM"]
                msg["To"] = to
                msg["Subject"] = f"[{config['COMPANY_NAME']}] {subject}"
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
