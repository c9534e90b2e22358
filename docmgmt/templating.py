"""Jinja filters and globals shared by every template."""

import re

from flask import current_app, g
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape

from docmgmt.auth import permissions
from docmgmt.clock import local_today, to_local
from docmgmt.versioning.lifecycle import event_label, event_state_label, state_label

# Labels are translated one at a time, when asked for (a page shows many of them).


def _label(labels: dict, value) -> str:
    found = labels.get(value)
    return value if found is None else str(found)


_TYPE_LABELS = {
    "manual": _l("Manual"),
    "procedure": _l("Procedure"),
    "work_instruction": _l("Work instruction"),
    "record_form": _l("Record form"),
    "external": _l("External document"),
}

_MEANING_LABELS = {
    "prepared": _l("Prepared (制订)"),
    "reviewed": _l("Reviewed (审核)"),
    "approved": _l("Approved (核准)"),
}

_ROLE_LABELS = {
    "admin": _l("Administrator"),
    "quality_manager": _l("Quality manager"),
    "approver": _l("Approver"),
    "staff": _l("Staff"),
    "auditor": _l("Auditor"),
}

_WITHDRAWAL_STATE_LABELS = {
    "pending": _l("Waiting for approval"),
    "approved": _l("Approved"),
    "rejected": _l("Rejected"),
}

_MEDIUM_LABELS = {"paper": _l("Paper"), "electronic": _l("Electronic")}

_COPY_STATE_LABELS = {"issued": _l("Issued"), "recalled": _l("Returned"), "lost": _l("Lost")}

_IMPORT_KIND_LABELS = {
    "headings": _l("Headings"),
    "paragraphs": _l("Paragraphs"),
    "list_items": _l("List items"),
    "tables": _l("Tables"),
    "page_breaks": _l("Page breaks"),
    "images": _l("Images"),
}

_TASK_STATE_LABELS = {
    "open": _l("To do"),
    "done": _l("Done"),
    "replaced": _l("Replaced by a newer revision"),
    "cancelled": _l("Cancelled"),
}

_TARGET_KIND_LABELS = {
    "role": _l("Role"),
    "department": _l("Department"),
    "job_title": _l("Job title"),
}


def type_label(doc_type) -> str:
    value = getattr(doc_type, "value", doc_type)
    return _label(_TYPE_LABELS, value)


def meaning_label(meaning) -> str:
    value = getattr(meaning, "value", meaning)
    return _label(_MEANING_LABELS, value)


def role_label(role) -> str:
    value = getattr(role, "value", role)
    return _label(_ROLE_LABELS, value)


def withdrawal_state_label(state) -> str:
    value = getattr(state, "value", state)
    return _label(_WITHDRAWAL_STATE_LABELS, value)


def medium_label(value) -> str:
    return _label(_MEDIUM_LABELS, value)


def copy_state_label(value) -> str:
    return _label(_COPY_STATE_LABELS, value)


def import_kind_label(value) -> str:
    return _label(_IMPORT_KIND_LABELS, value)


def localdt(dt, fmt="%Y-%m-%d %H:%M") -> str:
    local = to_local(dt)
    return local.strftime(fmt) if local else ""


def task_state_label(value) -> str:
    return _label(_TASK_STATE_LABELS, value)


def target_kind_label(value) -> str:
    return _label(_TARGET_KIND_LABELS, value)


def target_value_label(value, kind) -> str:
    if kind == "role":
        return role_label(value)
    if kind == "department":
        from sqlalchemy import select

        from docmgmt.auth.models import Department
        from docmgmt.extensions import db

        dep = db.session.scalar(select(Department).where(Department.code == value))
        return dep.shown_name if dep else value
    return value


def session_kind_label(value) -> str:
    return {"classroom": _("Classroom"), "on_the_job": _("On the job")}.get(value, value)


def attendee_result_label(value) -> str:
    return {"passed": _("Passed"), "failed": _("Failed"), "attended": _("Attended")}.get(
        value, value
    )


def evaluation_result_label(value) -> str:
    return {
        "competent": _("Competent"),
        "needs_training": _("Needs training"),
        "not_competent": _("Not competent"),
    }.get(value, value)


def trigger_label(value) -> str:
    return {
        "filing": _("filing date"),
        "closing": _("closing date"),
        "employment_end": _("end of employment"),
        "contract_end": _("end of contract"),
        "event": _("event date"),
    }.get(value, value)


def method_label(value) -> str:
    return {
        "destroy": _("Destroy"),
        "archive": _("Transfer to the archive"),
        "review": _("Review again"),
    }.get(value, value)


def disposal_state_label(value) -> str:
    return {
        "pending": _("Waiting for approval"),
        "approved": _("Approved and carried out"),
        "rejected": _("Rejected"),
    }.get(value, value)


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def text_lang(text) -> str | None:
    """The language of a piece of content: Chinese when it has Han characters, English when it
    has Latin words and none, otherwise none (numbers, codes, dates)."""
    text = str(text or "")
    if _HAN.search(text):
        return "zh-CN"
    if _LATIN_WORD.search(text):
        return "en"
    return None


def ui_lang() -> str:
    locale = str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"])
    return "zh-CN" if locale.startswith("zh") else "en"


def lang_attr(text) -> Markup:
    """` lang="…"` for content in the other language than the page's (WCAG 3.1.2), else ''."""
    lang = text_lang(text)
    if lang is None or lang == ui_lang():
        return Markup("")
    return Markup(' lang="%s"') % lang


_HAN_RUN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]+"
    r"(?:[/、\s]+[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+)*"
)


def mark_lang(text) -> Markup:
    """Text of the English page with Chinese terms in it ("Reviewer (审核)"): each Chinese run
    carries lang="zh-CN", so a screen reader speaks it in Chinese (WCAG 3.1.2)."""
    escaped = escape(text if text is not None else "")
    if ui_lang() != "en":
        return escaped
    return Markup(_HAN_RUN.sub(lambda m: f'<span lang="zh-CN">{m.group(0)}</span>', escaped))


def colon() -> str:
    """The colon after a label: full-width (：) in Chinese, ": " in English."""
    return "：" if ui_lang().startswith("zh") else ": "


def claim_focus() -> bool:
    """True once per page: the first field with an error takes the focus (autofocus)."""
    if g.get("_focus_claimed"):
        return False
    g._focus_claimed = True
    return True


def _translations():
    """The request's translations, looked up once per locale rather than at every ``_()`` of
    a template (Flask-Babel asks for the locale and its catalogue each time). Keyed by the
    locale object itself: a language switch (``refresh``) or ``force_locale`` makes a new one."""
    from flask_babel import get_translations

    locale = get_locale()
    if locale is None:
        return get_translations()
    memo = g.get("_docmgmt_translations")
    if memo is None or memo[0] is not locale:
        memo = g._docmgmt_translations = (locale, get_translations())
    return memo[1]


def message_of(row) -> str:
    """A job's, record import's or evidence pack's message in the reader's language."""
    from docmgmt.jobs.said import text_of

    return text_of(row)


def work_state(state: str) -> str:
    """The state of background work (a job, an evidence pack) in words, never its code."""
    from docmgmt.jobs.labels import state_label

    return state_label(state)


def register_template_helpers(app):
    # Flask-Babel's own callables, with the catalogue looked up once per request.
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )
    app.jinja_env.filters.update(
        localdt=localdt,
        state_label=state_label,
        event_label=event_label,
        event_state_label=event_state_label,
        type_label=type_label,
        meaning_label=meaning_label,
        role_label=role_label,
        withdrawal_state_label=withdrawal_state_label,
        medium_label=medium_label,
        copy_state_label=copy_state_label,
        import_kind_label=import_kind_label,
        task_state_label=task_state_label,
        target_kind_label=target_kind_label,
        target_value_label=target_value_label,
        session_kind_label=session_kind_label,
        attendee_result_label=attendee_result_label,
        evaluation_result_label=evaluation_result_label,
        trigger_label=trigger_label,
        method_label=method_label,
        disposal_state_label=disposal_state_label,
        lang_attr=lang_attr,
        mark_lang=mark_lang,
        text_lang=text_lang,
    )

    # A feature's own template globals (doc_control, related_for_reading, in_force_of) are
    # registered by its blueprint, so this module stays below every feature.
    app.jinja_env.globals.update(
        claim_focus=claim_focus, colon=colon, message_of=message_of, work_state=work_state
    )

    @app.context_processor
    def helpers():
        return {
            "perm": permissions,
            "company_name": current_app.config["COMPANY_NAME"],
            "current_locale": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
            "today": local_today(),
            "ui_lang": ui_lang(),
        }
