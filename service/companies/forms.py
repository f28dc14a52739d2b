"""Company forms; Flask-WTF adds the CSRF token to each."""

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length
from wtforms.widgets import CheckboxInput, ListWidget

from service.companies.models import Role
from service.companies.services import SCOPES
from service.money import CURRENCIES

ROLE_CHOICES = [role.value for role in Role]


class CompanyForm(FlaskForm):
    slug = StringField("Short name (URL)", validators=[DataRequired(), Length(max=40)])
    name = StringField("Company name", validators=[DataRequired(), Length(max=200)])
    currency = SelectField(
        "Currency", choices=sorted(CURRENCIES), default="USD", validators=[DataRequired()]
    )
    budget = StringField("Monthly open source budget", default="0.00")


class SettingsForm(FlaskForm):
    name = StringField("Company name", validators=[DataRequired(), Length(max=200)])
    budget = StringField("Monthly open source budget", validators=[DataRequired()])


class InviteForm(FlaskForm):
    login = StringField("GitHub login", validators=[DataRequired(), Length(max=40)])
    role = SelectField("Role", choices=ROLE_CHOICES, default=Role.viewer.value)


class RoleForm(FlaskForm):
    role = SelectField("Role", choices=ROLE_CHOICES)


class TokenForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired(), Length(max=100)], default="CI upload")
    scopes = SelectMultipleField(
        "Scopes",
        choices=list(SCOPES),
        default=["sbom:write"],
        option_widget=CheckboxInput(),
        widget=ListWidget(prefix_label=False),
    )


class OrgForm(FlaskForm):
    org = StringField("GitHub organisation", validators=[DataRequired(), Length(max=40)])


class ConfirmForm(FlaskForm):
    """A bare POST form: just the CSRF token (remove, revoke, unlink, sign out)."""
