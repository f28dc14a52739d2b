"""Review forms; Flask-WTF checks the CSRF token of each.

The review page renders one small adjustment form per line by hand (thousands of lines:
building a WTForms object per line would dominate the page's time); the POST is read
back through `AdjustForm`, so validation and CSRF are the same.
"""

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from service.allocation.models import AdjustmentKind

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
