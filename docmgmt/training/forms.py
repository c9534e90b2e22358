"""Forms of training: matrix cells, acknowledgement, sessions, evaluations."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from docmgmt.formtools import options


def target_kind_choices():
    return options(
        [("role", _l("Role")), ("department", _l("Department")), ("job_title", _l("Job title"))]
    )


class RequirementForm(FlaskForm):
    document_id = SelectField(_l("Document"), coerce=int, validators=[DataRequired()])
    target_kind = SelectField(_l("Who"), choices=target_kind_choices)
    target_value = StringField(
        _l("Role, department code or job title"), validators=[DataRequired(), Length(max=100)]
    )
    due_days = IntegerField(
        _l("Days to complete"), default=14, validators=[DataRequired(), NumberRange(1, 365)]
    )


class AcknowledgeForm(FlaskForm):
    password = PasswordField(
        _l("Your password (electronic signature)"), validators=[DataRequired()]
    )
    confirm = BooleanField(
        _l("I have read and understood this revision."), validators=[DataRequired()]
    )


class SessionForm(FlaskForm):
    held_on = DateField(_l("Date held"), validators=[DataRequired()])
    kind = SelectField(
        _l("Kind"),
        choices=lambda: options([("classroom", _l("Classroom")), ("on_the_job", _l("On the job"))]),
    )
    topic = StringField(_l("Topic"), validators=[DataRequired(), Length(max=200)])
    trainer_name = StringField(_l("Trainer"), validators=[DataRequired(), Length(max=100)])
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), validators=[DataRequired(), NumberRange(1, 1440)]
    )
    revisions = SelectMultipleField(_l("Revisions covered"), coerce=int, validators=[Optional()])
    assessed = BooleanField(_l("With an assessment (a pass completes the matching tasks)"))
    attendees = SelectMultipleField(_l("Attendees"), coerce=int, validators=[Optional()])
    failed = SelectMultipleField(
        _l("Attendees who did not pass"), coerce=int, validators=[Optional()]
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])
    files = MultipleFileField(_l("Sign-in sheet or materials (PDF, image, .docx, .xlsx)"))


class EvaluationForm(FlaskForm):
    user_id = SelectField(_l("Person"), coerce=int, validators=[DataRequired()])
    evaluated_on = DateField(_l("Date evaluated"), validators=[DataRequired()])
    criteria = TextAreaField(_l("Criteria"), validators=[DataRequired(), Length(max=4000)])
    result = SelectField(
        _l("Result"),
        choices=lambda: options(
            [
                ("competent", _l("Competent")),
                ("needs_training", _l("Needs training")),
                ("not_competent", _l("Not competent")),
            ]
        ),
    )
    next_due = DateField(_l("Next evaluation"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=4000)])


__all__ = ["FileField"]
