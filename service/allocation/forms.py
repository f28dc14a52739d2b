"""Review forms; Flask-WTF checks the CSRF token of each POST form.

The review page renders one small adjustment form per line by hand (thousands of lines:
building a WTForms object per line would dominate the page's time); the POST is read
back through `AdjustForm`, so validation and CSRF are the same.
"""

from typing import Any

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from service.allocation.models import AdjustmentKind
from service.allocation.policy import POLICY_FIELDS
from service.allocation.review_lines import (
    FLAGS,
    KINDS,
    MAX_PAGE,
    MAX_PER_PAGE,
    SORTS,
    LineQuery,
    default_order,
)
from service.core.forms import (
    Choice,
    FieldProblems,
    Flag,
    InputField,
    Number,
    QueryForm,
    Text,
    WholeNumber,
)

ADJUSTMENT_CHOICES = [kind.value for kind in AdjustmentKind]


class AdjustForm(FlaskForm):
    project_id = IntegerField(validators=[InputRequired()])
    revision = IntegerField(validators=[InputRequired()])
    kind = SelectField(choices=ADJUSTMENT_CHOICES, validators=[DataRequired()])
    value = StringField(validators=[Optional(), Length(max=40)])
    note = StringField(validators=[Optional(), Length(max=500)])


class RevisionForm(FlaskForm):
    """Submit, remove an adjustment: only the revision the person was looking at."""

    revision = IntegerField(validators=[InputRequired()])


class DecisionForm(FlaskForm):
    revision = IntegerField(validators=[InputRequired()])
    comment = TextAreaField("Comment", validators=[Optional(), Length(max=2000)])
    # The name/value of the button pressed; anything else is asked again, not refused.
    decision = Choice(choices=("approve", "reject"), strict=False)


PAGE_RANGE = "expected a whole number from {low} to {high:,}, got {raw!r}"


class RevisionArgs(QueryForm):
    """?revision=: an earlier revision of a proposal (unreadable: the current one)."""

    revision = WholeNumber(strict=False)


class LinesForm(RevisionArgs):
    """The review page's filters, sort and page (GET; with prefix "keep_", the same sent
    back by the page's POST forms)."""

    q = Text(limit=200, strict=False)
    kind = Choice(choices=KINDS)
    flag = Choice(choices=FLAGS)
    risk_min = Number()
    sort = Choice(choices=SORTS)
    order = Choice(choices=("asc", "desc"), strict=False)  # unreadable: the sort's own
    page = WholeNumber(low=1, high=MAX_PAGE, message=PAGE_RANGE)
    per_page = WholeNumber(low=1, high=MAX_PER_PAGE, message=PAGE_RANGE)
    omitted = Flag(on="all")

    @property
    def query(self) -> LineQuery:
        values = self.values
        values["all_omitted"] = values.pop("omitted")
        values.setdefault("order", default_order(values.get("sort", "amount")))
        return LineQuery(**values)


LIST_FIELDS = ("exclude_projects", "exclude_owners", "exclude_ecosystems", "first_party_owners")
INTEGER_FIELDS = ("unknown_depth", "hold_months")


class Items(InputField):
    """One item per line (commas separate too)."""

    def parse(self, raw: str) -> list[str]:
        return [item.strip() for item in raw.replace(",", "\n").splitlines() if item.strip()]


class Boosts(InputField):
    """`project = factor` per line; Policy.from_dict reads the factors."""

    separator = ","  # "boosts, line 2: ..."

    def parse(self, raw: str) -> dict[str, str]:
        boosts: dict[str, str] = {}
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, factor = line.partition("=")
            if not sep or not key.strip() or not factor.strip():
                raise ValueError(
                    f"line {number}: write one project per line as “github.com/owner/name = 1.5”"
                )
            boosts[key.strip()] = factor.strip()
        return boosts


class PolicyForm(FieldProblems, FlaskForm):
    """The allocation policy page (POST): a field per policy setting, read as text that
    Policy.from_dict checks (naming the field), and the review and notification settings."""

    four_eyes = Flag()
    notify_email = Flag()
    webhook_url = Text()
    webhook_secret = Text()  # empty: keep the stored one

    @property
    def policy(self) -> dict[str, Any]:
        """The policy as Policy.from_dict reads it; a setting left empty is the default."""
        values = self.values
        return {name: values[name] for name in POLICY_FIELDS if name in values}


for _name in POLICY_FIELDS:
    if _name in LIST_FIELDS:
        _field: InputField = Items(default=list)
    elif _name == "boosts":
        _field = Boosts(default=dict)
    elif _name in INTEGER_FIELDS:
        _field = WholeNumber()
    else:
        _field = Text()
    setattr(PolicyForm, _name, _field)
