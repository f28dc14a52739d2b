"""Review forms; Flask-WTF checks the CSRF token of each POST form.

The review page renders one small adjustment form per line by hand (thousands of lines:
building a WTForms object per line would dominate the page's time); the POST is read
back through `AdjustForm`, so validation and CSRF are the same.
"""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from service.allocation.models import AdjustmentKind
from service.allocation.review_lines import (
    FLAGS,
    KINDS,
    MAX_PAGE,
    MAX_PER_PAGE,
    SORTS,
    LineQuery,
    default_order,
)
from service.core.forms import Choice, Flag, Number, QueryForm, Text, WholeNumber

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
    # The decision is the name/value of the button pressed: decision=approve|reject.


PAGE_RANGE = "expected a whole number from {low} to {high:,}, got {raw!r}"


class LinesForm(QueryForm):
    """The review page's filters, sort and page (GET)."""

    q = Text(limit=200, strict=False)
    kind = Choice(choices=KINDS)
    flag = Choice(choices=FLAGS)
    risk_min = Number()
    sort = Choice(choices=SORTS)
    order = Choice(choices=("asc", "desc"), strict=False)  # unreadable: the sort's own
    page = WholeNumber(low=1, high=MAX_PAGE, message=PAGE_RANGE)
    per_page = WholeNumber(low=1, high=MAX_PER_PAGE, message=PAGE_RANGE)
    omitted = Flag(on="all")
    revision = WholeNumber(strict=False)

    @property
    def query(self) -> LineQuery:
        values = self.values
        values["all_omitted"] = values.pop("omitted")
        values.setdefault("order", default_order(values.get("sort", "amount")))
        return LineQuery(**values)
