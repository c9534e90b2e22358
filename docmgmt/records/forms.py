"""Forms of records: types, filing (fields come from the type), holds, disposals, imports."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from docmgmt.formtools import options


def trigger_choices():
    return options(
        [
            ("filing", _l("Filing date")),
            ("closing", _l("Closing date")),
            ("employment_end", _l("End of employment")),
            ("contract_end", _l("End of contract")),
            ("event", _l("Another dated event")),
        ]
    )


def method_choices():
    return options(
        [
            ("destroy", _l("Destroy")),
            ("archive", _l("Transfer to the archive")),
            ("review", _l("Review again")),
        ]
    )


class TypeForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=20)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    form_document_id = SelectField(_l("Governing record form"), coerce=int)
    department_id = SelectField(_l("Keeping department"), coerce=int)
    retention_months = IntegerField(
        _l("Retention (months)"), validators=[DataRequired(), NumberRange(1, 1200)]
    )
    trigger = SelectField(_l("Retention starts at"), choices=trigger_choices)
    disposal_method = SelectField(_l("Disposal method"), choices=method_choices)
    fields = TextAreaField(
        _l("Fields, one per line: name | label | kind | required | choices"),
        validators=[Optional(), Length(max=8000)],
    )


class FilingForm(FlaskForm):
    """CSRF and the fixed parts; the type's fields are read from the request by name."""

    title = StringField(_l("Title"), validators=[Optional(), Length(max=200)])
    external_id = StringField(_l("External ID"), validators=[Optional(), Length(max=100)])
    trigger_date = DateField(_l("Trigger date"), validators=[Optional()])
    files = MultipleFileField(_l("Attachments (PDF, images, .docx, .xlsx)"))


class TriggerForm(FlaskForm):
    trigger_date = DateField(_l("Date"), validators=[DataRequired()])


class HoldForm(FlaskForm):
    scope = SelectField(
        _l("Hold"),
        choices=lambda: options(
            [
                ("record", _l("One record")),
                ("type", _l("Every record of a type")),
                ("query", _l("Records containing words")),
            ]
        ),
    )
    record_number = StringField(_l("Record number"), validators=[Optional(), Length(max=40)])
    type_id = SelectField(_l("Record type"), coerce=int, validators=[Optional()])
    query = StringField(_l("Words"), validators=[Optional(), Length(max=200)])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class ReleaseForm(FlaskForm):
    reason = TextAreaField(_l("Reason for the release"), validators=[DataRequired()])


class ProposeForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    approver_id = SelectField(_l("Approver"), coerce=int, validators=[DataRequired()])


class DecideForm(FlaskForm):
    password = PasswordField(
        _l("Your password (electronic signature)"), validators=[DataRequired()]
    )
    comment = TextAreaField(_l("Comment"), validators=[Optional(), Length(max=2000)])


class ImportUploadForm(FlaskForm):
    file = FileField(_l("CSV or .xlsx file"))


class ImportRunForm(FlaskForm):
    mode = SelectField(
        _l("Rows with errors"),
        choices=lambda: options(
            [("block", _l("Block the whole import")), ("skip", _l("Skip them, import the rest"))]
        ),
    )
