"""Forms for the register and the revision lifecycle."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from docmgmt.formtools import options


def type_choices():
    return options(
        [
            ("manual", _l("Manual")),
            ("procedure", _l("Procedure")),
            ("work_instruction", _l("Work instruction")),
            ("record_form", _l("Record form")),
            ("external", _l("External document")),
        ]
    )


class DocumentForm(FlaskForm):
    doc_type = SelectField(_l("Type"), choices=type_choices)
    number = StringField(
        _l("Number (leave empty to number it automatically)"),
        validators=[Optional(), Length(max=40)],
    )
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    department_id = SelectField(_l("Owning department"), coerce=int, validators=[Optional()])
    review_interval_months = IntegerField(
        _l("Review interval (months)"), validators=[Optional(), NumberRange(min=1, max=120)]
    )
    external_edition = StringField(
        _l("Edition (external documents), e.g. GB/T 27922-2011"),
        validators=[Optional(), Length(max=100)],
    )
    external_source = StringField(
        _l("Issued by (external documents)"), validators=[Optional(), Length(max=200)]
    )


class DocumentEditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    department_id = SelectField(_l("Owning department"), coerce=int, validators=[Optional()])
    review_interval_months = IntegerField(
        _l("Review interval (months)"), validators=[DataRequired(), NumberRange(min=1, max=120)]
    )
    external_edition = StringField(
        _l("Edition (external documents), e.g. GB/T 27922-2011"),
        validators=[Optional(), Length(max=100)],
    )
    external_source = StringField(
        _l("Issued by (external documents)"), validators=[Optional(), Length(max=200)]
    )


class NewDraftForm(FlaskForm):
    kind = SelectField(
        _l("Kind of change"),
        choices=options(
            [("revision", _l("Revision (A0 → A1)")), ("reedition", _l("Re-edition (A3 → B0)"))]
        ),
    )
    version = StringField(_l("Version code (optional)"), validators=[Optional(), Length(max=4)])
    change_summary = TextAreaField(_l("What changes (制/修订内容)"), validators=[Length(max=2000)])
    change_number = StringField(_l("Change number (修订编号)"), validators=[Length(max=40)])


class DraftEditForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Content (Markdown)"), validators=[Length(max=500_000)])
    change_summary = TextAreaField(_l("What changes (制/修订内容)"), validators=[Length(max=2000)])
    change_number = StringField(_l("Change number (修订编号)"), validators=[Length(max=40)])
    pages_affected = StringField(_l("Pages affected (页次)"), validators=[Length(max=40)])


class SubmitForm(FlaskForm):
    # Not required here: the operation names the field and says what is missing or wrong.
    reviewer_id = SelectField(_l("Reviewer (审核)"), coerce=int, validators=[Optional()])
    approver_id = SelectField(_l("Approver (核准)"), coerce=int, validators=[Optional()])
    password = PasswordField(_l("Your password, to sign as preparer"), validators=[DataRequired()])
    # Shown only when the draft still holds placeholders 【待填写：…】.
    allow_placeholders = BooleanField(_l("Send it for review with the places still to fill in"))


class SignForm(FlaskForm):
    password = PasswordField(_l("Your password, to sign"), validators=[DataRequired()])
    comment = TextAreaField(_l("Comment (optional)"), validators=[Length(max=2000)])


class RejectForm(FlaskForm):
    # Its own id: it sits on the same page as the signing form's comment.
    comment = TextAreaField(
        _l("Why is it rejected?"),
        validators=[DataRequired(), Length(max=2000)],
        id="reject-comment",
    )


class PublishForm(FlaskForm):
    effective_date = DateField(_l("Effective date"), validators=[DataRequired()])


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class UnscheduleForm(FlaskForm):
    # Its own id: it sits on the same page as the cancel form's reason.
    reason = TextAreaField(
        _l("Reason"), validators=[DataRequired(), Length(max=2000)], id="unschedule-reason"
    )


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    approver_id = SelectField(_l("Approver (核准)"), coerce=int, validators=[DataRequired()])


class WithdrawalDecisionForm(FlaskForm):
    comment = TextAreaField(_l("Comment (required to reject)"), validators=[Length(max=2000)])
    password = PasswordField(_l("Your password, to sign"), validators=[DataRequired()])
