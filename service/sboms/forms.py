"""SBOM forms; Flask-WTF adds the CSRF token to each POST form."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from service.core.forms import Flag, QueryForm, Text, WholeNumber
from service.sboms.inventory_page import InventoryFilters


class UploadForm(FlaskForm):
    files = MultipleFileField("SBOM files")
    product = StringField("Product", validators=[DataRequired(), Length(max=200)])
    version = StringField("Version (optional)", validators=[Length(max=255)])


class GitHubImportForm(FlaskForm):
    org = SelectField("GitHub organisation", choices=[], validators=[DataRequired()])


class InventoryForm(QueryForm):
    """A product page's SBOM and inventory filters (GET); whatever cannot be read is left
    out quietly, as the page has no place for errors."""

    sbom = WholeNumber(low=1, strict=False)  # an earlier SBOM than the latest
    q = Text(strict=False)
    ecosystem = Text(strict=False)
    direct = Flag()
    unresolved = Flag()
    page = WholeNumber(low=1, high=100_000, strict=False, default=1)

    @property
    def filters(self) -> InventoryFilters:
        return InventoryFilters(
            text=self.q.data,
            ecosystem=self.ecosystem.data,
            direct_only=self.direct.data,
            unresolved_only=self.unresolved.data,
        )

    @property
    def link_params(self) -> dict[str, str]:
        """The arguments given, as given, for the pager's links (which add the page)."""
        return {
            field.name: field.raw_data[0]
            for field in self
            if field.name != "page" and field.raw_data and field.raw_data[0]
        }
