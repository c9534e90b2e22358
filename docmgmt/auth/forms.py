"""Log-in, profile and user administration forms."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from docmgmt.auth.models import Role
from docmgmt.formtools import options


class LoginForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])
    remember = BooleanField(_l("Keep me logged in"))


class PasswordChangeForm(FlaskForm):
    current = PasswordField(_l("Current password"), validators=[DataRequired()])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=200)])


class TokenForm(FlaskForm):
    name = StringField(_l("Token name"), validators=[DataRequired(), Length(max=100)])


def role_choices():
    return options(
        [
            (Role.ADMIN.value, _l("Administrator")),
            (Role.QUALITY_MANAGER.value, _l("Quality manager")),
            (Role.APPROVER.value, _l("Approver")),
            (Role.STAFF.value, _l("Staff")),
            (Role.AUDITOR.value, _l("Auditor")),
        ]
    )


class UserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=100)])
    email = StringField(_l("Email"), validators=[Optional(), Length(max=200)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=100)])
    department_id = SelectField(_l("Department"), coerce=int, validators=[Optional()])
    roles = SelectMultipleField(
        _l("Roles"),
        choices=role_choices,
        validators=[DataRequired()],
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    access_starts = DateField(_l("Access starts on (auditors)"), validators=[Optional()])
    access_expires = DateField(_l("Access ends on (auditors)"), validators=[Optional()])
    audit_departments = StringField(
        _l("Limited to departments (auditors; codes, comma separated; empty = all)"),
        validators=[Optional(), Length(max=200)],
    )
    password = PasswordField(_l("Password"), validators=[Optional(), Length(min=8, max=200)])
