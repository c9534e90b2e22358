"""The search page: one box on every page, results with filters, counts and highlights."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from docmgmt.auth.models import Department
from docmgmt.extensions import db
from docmgmt.records.models import RecordType
from docmgmt.search import bp
from docmgmt.search.forms import SearchForm
from docmgmt.search.service import Filters, search
from docmgmt.search.sources import hit_url, kind_label
from docmgmt.templating import type_label
from docmgmt.versioning.lifecycle import state_label
from docmgmt.versioning.models import RevisionState


def _state_label(value: str) -> str:
    if value in RevisionState._value2member_map_:
        return state_label(value)
    # A record's state: kept (active) or disposed; a change request's.
    return {
        "active": _("In retention"),
        "disposed": _("Disposed"),
        "open": _("Open"),
        "accepted": _("Accepted"),
        "rejected": _("Rejected"),
    }.get(value, value)


def _type_label(record_types: dict):
    """A document type (程序文件) or, for records, the record type's name (派工单, not WO)."""

    def label(value: str) -> str:
        return record_types.get(value) or type_label(value)

    return label


@bp.get("/")
@login_required
def results():
    form = SearchForm(request.args)
    errors = []
    if not form.validate():
        for name, msgs in form.errors.items():
            errors.extend(f"{getattr(form, name).label.text}: {m}" for m in msgs)
    f = Filters(
        kind=form.kind.data or "",
        doc_type=form.type.data or "",
        department=form.department.data or "",
        state=form.state.data or "",
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not (form.date_to.errors or form.date_from.errors) else None,
        history=bool(form.history.data),
    )
    page_no = form.page.data if form.page.data and not form.page.errors else 1
    text = (form.q.data or "").strip()
    page = search(current_user, text, f, sort=form.sort.data or "relevance", page=page_no)
    departments = {
        d.code: d.shown_name
        for d in db.session.scalars(select(Department).order_by(Department.code))
    }
    return render_template(
        "search/results.html",
        form=form,
        page=page,
        filters=f,
        errors=errors,
        departments=departments,
        kind_label=kind_label,
        hit_url=hit_url,
        type_label_fn=_type_label(
            dict(db.session.execute(select(RecordType.code, RecordType.name)).all())
        ),
        state_label_fn=_state_label,
        dept_label=lambda code: departments.get(code, code),
        title=_("Search"),
    )
