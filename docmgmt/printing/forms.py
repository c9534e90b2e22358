"""Forms of printing: issuing copies, recalls, Word import."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from docmgmt.formtools import options


def medium_choices():
    return options([("paper", _l("Paper")), ("electronic", _l("Electronic"))])


class IssueCopyForm(FlaskForm):
    holder_id = SelectField(_l("Holder (a user)"), coerce=int, validators=[Optional()])
    holder_name = StringField(_l("or holder's name"), validators=[Optional(), Length(max=100)])
    department_id = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    medium = SelectField(_l("Medium"), choices=medium_choices)


class CloseCopyForm(FlaskForm):
    note = TextAreaField(_l("Note (required for a lost copy)"), validators=[Length(max=2000)])


class ImportForm(FlaskForm):
    file = FileField(_l("Word file (.docx)"))


class SaveImportForm(FlaskForm):
    change_summary = TextAreaField(_l("What changes"), validators=[Length(max=2000)])
