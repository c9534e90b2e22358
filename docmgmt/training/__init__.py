"""Training: who must know which document, read-and-understood on every new revision,
sessions, competence evaluations, and the views auditors ask for."""

from flask import Blueprint

bp = Blueprint("training", __name__, url_prefix="/training")


def connect_signals() -> None:
    from docmgmt.auth.signals import user_saved
    from docmgmt.training.operations import (
        on_document_withdrawn,
        on_revision_effective,
        on_user_saved,
    )
    from docmgmt.versioning import signals

    signals.revision_effective.connect(on_revision_effective)
    signals.document_withdrawn.connect(on_document_withdrawn)
    user_saved.connect(on_user_saved)


def desk_section():
    """For the quality manager's desk: overdue read-and-understood tasks."""
    from flask import url_for
    from flask_babel import gettext as _
    from sqlalchemy.orm import selectinload

    from docmgmt.extensions import db
    from docmgmt.training.models import TrainingTask
    from docmgmt.training.operations import tasks_query

    items = [
        (
            f"{t.user.full_name} · {t.document.number} {t.revision.version} · {t.due_date}",
            url_for("training.revision_completion", rev_id=t.revision_id),
        )
        # The person, document and revision of the 20 tasks in three queries, not one per row.
        for t in db.session.scalars(
            tasks_query(overdue=True)
            .options(
                selectinload(TrainingTask.user),
                selectinload(TrainingTask.document),
                selectinload(TrainingTask.revision),
            )
            .limit(20)
        )
    ]
    return _("Overdue training"), items
