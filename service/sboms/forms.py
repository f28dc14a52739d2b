"""SBOM forms; Flask-WTF adds the CSRF token to each."""

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length


class UploadForm(FlaskForm):
    files = MultipleFileField("SBOM files")
    product = StringField("Product", validators=[DataRequired(), Length(max=200)])
    version = StringField("Version (optional)", validators=[Length(max=255)])


class GitHubImportForm(FlaskForm):
    org = SelectField("GitHub organisation", choices=[], validators=[DataRequired()])
