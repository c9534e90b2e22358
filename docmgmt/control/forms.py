"""Forms of document control."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    MultipleFileField,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from docmgmt.formtools import options


def urgency_choices():
    return options([("normal", _l("Normal")), ("high", _l("Urgent")), ("low", _l("Low"))])


def link_kind_choices():
    return options(
        [
            ("refers_to", _l("Refers to")),
            ("uses_form", _l("Uses record form")),
            ("uses_instruction", _l("Uses work instruction")),
        ]
    )


class ChangeRequestForm(FlaskForm):
    reason = TextAreaField(
        _l("Why should it change?"), validators=[DataRequired(), Length(max=4000)]
    )
    proposed_change = TextAreaField(
        _l("Proposed change"), validators=[DataRequired(), Length(max=4000)]
    )
    urgency = SelectField(_l("Urgency"), choices=urgency_choices)
    attachments = MultipleFileField(_l("Attachments"))


class AttachmentForm(FlaskForm):
    attachments = MultipleFileField(_l("Attachments"))


class DecisionForm(FlaskForm):
    comment = TextAreaField(_l("Comment (required to reject)"), validators=[Length(max=4000)])


class ReviewForm(FlaskForm):
    review_date = DateField(_l("Review date"), validators=[DataRequired()])
    finding = TextAreaField(_l("Finding"), validators=[DataRequired(), Length(max=4000)])
    change_needed = BooleanField(_l("A change is needed: open a change request"))
    proposed_change = TextAreaField(
        _l("Proposed change"), validators=[Optional(), Length(max=4000)]
    )


class LinkForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=link_kind_choices)
    target_id = IntegerField(_l("Document"), validators=[DataRequired()])
