"""No stored text is ever cut: a value longer than its column is refused before the flush.

SQLite stores an over-long VARCHAR as given and PostgreSQL refuses it with a bare data error;
both now answer alike, with a message naming the field and its limit.  A column may carry its
label in ``info={"label": ...}``; otherwise the message names the column.
"""

from sqlalchemy import String, event, inspect
from sqlalchemy.orm import Session


def _label(column) -> str:
    return str(column.info.get("label") or column.key)


@event.listens_for(Session, "before_flush")
def refuse_overlong_text(session, flush_context, instances):
    from flask_babel import gettext as _

    from docmgmt.errors import ValidationFailed

    for obj in [*session.new, *session.dirty]:
        state = inspect(obj)
        for attr in state.mapper.column_attrs:
            column = attr.columns[0]
            length = getattr(column.type, "length", None)
            if not length or not isinstance(column.type, String):
                continue
            if not state.pending and not state.attrs[attr.key].history.added:
                continue  # unchanged: a row stored long ago is not refused for another edit
            value = state.dict.get(attr.key)  # never loads: only what is about to be written
            if isinstance(value, str) and len(value) > length:
                raise ValidationFailed(
                    _(
                        "%(field)s is too long: at most %(n)d characters (%(got)d given).",
                        field=_label(column),
                        n=length,
                        got=len(value),
                    ),
                    field=attr.key,
                )
