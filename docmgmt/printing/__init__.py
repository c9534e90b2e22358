"""Paper and Word: .docx import and export, ReportLab PDFs, controlled copies and their register."""

from flask import Blueprint

bp = Blueprint("printing", __name__)


def connect_signals() -> None:
    """Copies of a revision that stops being in force become due for recall."""
    from docmgmt.printing.operations import on_document_withdrawn, on_revision_effective
    from docmgmt.versioning import signals

    signals.revision_effective.connect(on_revision_effective)
    signals.document_withdrawn.connect(on_document_withdrawn)


def desk_section():
    """For the quality manager's desk: copies still out whose revision is no longer in force."""
    from flask import url_for
    from flask_babel import gettext as _

    from docmgmt.preload import preload
    from docmgmt.printing.operations import due_for_recall
    from docmgmt.versioning.models import Document, Revision

    copies = due_for_recall()
    # Each label names the copy's document and revision: one query each for those not loaded.
    # (kept while the lines are built: the session holds rows weakly)
    held = preload(Revision, {c.revision_id for c in copies})
    held += preload(Document, {c.revision.document_id for c in copies})
    items = [
        (f"{c.label} · {c.holder_name}", url_for("printing.copy_detail", copy_id=c.id))
        for c in copies
    ]
    del held
    return _("Controlled copies due for recall"), items
