"""The comparison of two revisions (redline page) and its PDF change report.

Who may compare is one rule, :func:`docmgmt.auth.permissions.can_compare`, for the page, the
change report and the API alike."""

from io import BytesIO

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from docmgmt.auth.permissions import can_compare, can_read_history, require
from docmgmt.extensions import db
from docmgmt.versioning import bp, queries
from docmgmt.versioning import compare as cmp
from docmgmt.versioning.models import Document, Revision, RevisionState


def default_pair(user, doc: Document) -> tuple[Revision | None, Revision | None]:
    """What to compare when nothing is asked: a revision on its way (in review, approved) of
    which the user is the named reviewer or approver with the revision in force; otherwise the
    last two revisions the user may read."""
    in_force = queries.in_force_revision(doc)
    for rev in reversed(doc.revisions):
        if (
            rev.state in (RevisionState.IN_REVIEW, RevisionState.APPROVED)
            and user.id in (rev.reviewer_id, rev.approver_id)
            and in_force is not None
            and in_force.id != rev.id
        ):
            return in_force, rev
    revs = readable_revisions(user, doc)
    if len(revs) < 2:
        return None, None
    return revs[-2], revs[-1]


@bp.app_template_global("change_count")
def change_count(old: Revision, new: Revision) -> int:
    """How many changes the comparison of two revisions shows (for the signing page's link)."""
    return cmp.compare(old.body_blocks or [], new.body_blocks or []).count


def readable_revisions(user, doc: Document) -> list[Revision]:
    return [
        r
        for r in doc.revisions
        if r.state != RevisionState.CANCELLED and queries.can_read_revision(user, r)
    ]


def _pair(doc_id):
    # views imports this module to attach its routes: its helpers are looked up when called
    from docmgmt.versioning.views import get_document, get_revision

    doc = get_document(doc_id)
    a_id, b_id = request.args.get("a", type=int), request.args.get("b", type=int)
    if a_id is None or b_id is None:
        a, b = default_pair(current_user, doc)
        if a is None:
            require(
                can_read_history(current_user),
                _(
                    "Only quality managers, auditors and the reviewer and approver of a "
                    "revision can compare revisions."
                ),
            )
            return doc, None, None
        a = get_revision(doc, a_id) if a_id is not None else a
        b = get_revision(doc, b_id) if b_id is not None else b
    else:
        a, b = get_revision(doc, a_id), get_revision(doc, b_id)
    require(
        can_compare(current_user, a, b),
        _(
            "Only quality managers, auditors and the reviewer and approver of a revision can "
            "compare revisions."
        ),
    )
    return doc, a, b


def meta_rows(a: Revision, b: Revision):
    """Title, change text and change number of both revisions, changes marked."""
    rows = []
    for label, x, y in (
        (_("Title"), a.title, b.title),
        (_("What changes"), a.change_summary, b.change_summary),
        (_("Change number"), a.change_number, b.change_number),
    ):
        x, y = x or "", y or ""
        segs = cmp.segments(x, y)
        rows.append((label, cmp.marked(segs, "old"), cmp.marked(segs, "new"), x != y, x, y))
    return rows


@bp.get("/<int:doc_id>/compare")
@login_required
def compare(doc_id):
    doc, a, b = _pair(doc_id)
    if a is None:
        flash(_("This document has only one revision."), "info")
        return redirect(url_for(".document", doc_id=doc.id))
    view = "inline" if request.args.get("view") == "inline" else "side"
    result = cmp.compare(a.body_blocks or [], b.body_blocks or [])
    return render_template(
        "versioning/compare.html",
        doc=doc,
        a=a,
        b=b,
        result=result,
        counts=result.counts(),
        meta=meta_rows(a, b),
        revs=readable_revisions(current_user, doc),
        view=view,
        nav_html=cmp.nav_html,
    )


@bp.get("/<int:doc_id>/compare.pdf")
@login_required
def compare_pdf(doc_id):
    doc, a, b = _pair(doc_id)
    if a is None:
        flash(_("This document has only one revision."), "info")
        return redirect(url_for(".document", doc_id=doc.id))
    from docmgmt.printing.change_report import report_for

    data = report_for(current_user, a, b)
    db.session.commit()  # the download's audit event
    name = f"{doc.number}-{a.version}-{b.version}-change-report.pdf"
    return send_file(BytesIO(data), mimetype="application/pdf", download_name=name)
