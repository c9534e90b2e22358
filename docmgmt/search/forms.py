"""The search form: read from the query string, validated like any other form."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField
from wtforms.validators import Length, NumberRange, Optional, ValidationError

from docmgmt.formtools import options


class SearchForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    q = StringField(_l("Search"), validators=[Optional(), Length(max=10000)])
    kind = SelectField(_l("Kind"), validators=[Optional()], validate_choice=False)
    type = SelectField(_l("Type"), validators=[Optional()], validate_choice=False)
    department = SelectField(_l("Department"), validators=[Optional()], validate_choice=False)
    state = SelectField(_l("State"), validators=[Optional()], validate_choice=False)
    date_from = DateField(_l("From"), validators=[Optional()])
    date_to = DateField(_l("To"), validators=[Optional()])
    history = BooleanField(_l("Include revisions not in force"))
    sort = SelectField(
        _l("Sort by"),
        choices=lambda: options([("relevance", _l("Relevance")), ("date", _l("Newest first"))]),
        validators=[Optional()],
        validate_choice=False,
    )
    page = IntegerField(validators=[Optional(), NumberRange(min=1, max=100)], default=1)

    def validate_date_to(self, field):
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError(_l("The end date is before the start date."))
