"""Jinja filters and globals shared by every template."""

from flask import current_app
from flask_babel import get_locale
from flask_babel import gettext as _

from docmgmt.auth import permissions
from docmgmt.clock import local_today, to_local
from docmgmt.versioning.lifecycle import state_label


def type_label(doc_type) -> str:
    value = getattr(doc_type, "value", doc_type)
    return {
        "manual": _("Manual"),
        "procedure": _("Procedure"),
        "work_instruction": _("Work instruction"),
        "record_form": _("Record form"),
        "external": _("External document"),
    }.get(value, value)


def meaning_label(meaning) -> str:
    value = getattr(meaning, "value", meaning)
    return {
        "prepared": _("Prepared (制订)"),
        "reviewed": _("Reviewed (审核)"),
        "approved": _("Approved (核准)"),
    }.get(value, value)


def role_label(role) -> str:
    value = getattr(role, "value", role)
    return {
        "admin": _("Administrator"),
        "quality_manager": _("Quality manager"),
        "approver": _("Approver"),
        "staff": _("Staff"),
        "auditor": _("Auditor"),
    }.get(value, value)


def withdrawal_state_label(state) -> str:
    value = getattr(state, "value", state)
    return {
        "pending": _("Waiting for approval"),
        "approved": _("Approved"),
        "rejected": _("Rejected"),
    }.get(value, value)


def medium_label(value) -> str:
    return {"paper": _("Paper"), "electronic": _("Electronic")}.get(value, value)


def copy_state_label(value) -> str:
    return {"issued": _("Issued"), "recalled": _("Returned"), "lost": _("Lost")}.get(value, value)


def import_kind_label(value) -> str:
    return {
        "headings": _("Headings"),
        "paragraphs": _("Paragraphs"),
        "list_items": _("List items"),
        "tables": _("Tables"),
        "page_breaks": _("Page breaks"),
        "images": _("Images"),
    }.get(value, value)


def localdt(dt, fmt="%Y-%m-%d %H:%M") -> str:
    local = to_local(dt)
    return local.strftime(fmt) if local else ""


def register_template_helpers(app):
    app.jinja_env.filters.update(
        localdt=localdt,
        state_label=state_label,
        type_label=type_label,
        meaning_label=meaning_label,
        role_label=role_label,
        withdrawal_state_label=withdrawal_state_label,
        medium_label=medium_label,
        copy_state_label=copy_state_label,
        import_kind_label=import_kind_label,
    )

    from docmgmt.control.views import document_panel
    from docmgmt.versioning.operations import in_force_revision

    app.jinja_env.globals.update(doc_control=document_panel, in_force_of=in_force_revision)

    @app.context_processor
    def helpers():
        return {
            "perm": permissions,
            "company_name": current_app.config["COMPANY_NAME"],
            "current_locale": str(get_locale() or current_app.config["BABEL_DEFAULT_LOCALE"]),
            "today": local_today(),
        }
