"""Service records and their retention: record types, filing, bulk import, holds, disposal."""

from flask import Blueprint

bp = Blueprint("records", __name__, url_prefix="/records")


def desk_section():
    """For the quality manager's desk: records due for disposal, and disposals to sign."""
    from flask import url_for
    from flask_babel import gettext as _
    from sqlalchemy import func, select

    from docmgmt.clock import local_today
    from docmgmt.extensions import db
    from docmgmt.records.models import Record, RecordState

    n = db.session.scalar(
        select(func.count())
        .select_from(Record)
        .where(Record.state == RecordState.ACTIVE, Record.dispose_after <= local_today())
    )
    items = (
        [(_("%(n)d records due for disposal", n=n), url_for("records.disposition"))] if n else []
    )
    return _("Records"), items
