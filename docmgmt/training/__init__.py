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

    from docmgmt.auth.models import User
    from docmgmt.extensions import db
    from docmgmt.preload import preload
    from docmgmt.training.operations import tasks_query
    from docmgmt.versioning.models import Document, Revision

    tasks = db.session.scalars(tasks_query(overdue=True).limit(20)).all()
    # The person, document and revision of the tasks: one query each for those not loaded.
    held = [  # noqa: F841  (kept while the lines are built: the session holds rows weakly)
        *preload(User, {t.user_id for t in tasks}),
        *preload(Document, {t.document_id for t in tasks}),
        *preload(Revision, {t.revision_id for t in tasks}),
    ]
    items = [
        (
            f"{t.user.full_name} · {t.document.number} {t.revision.version} · {t.due_date}",
            url_for("training.revision_completion", rev_id=t.revision_id),
        )
        for t in tasks
    ]
    return _("Overdue training"), items
