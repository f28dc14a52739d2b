"""The risk weights form; Flask-WTF checks its CSRF token."""

from __future__ import annotations

from flask_wtf import FlaskForm

from service.core.forms import FieldProblems, Flag, Number, Required
from service.risk.signals import SIGNAL_NAMES


class WeightsForm(FieldProblems, FlaskForm):
    """One weight per signal; the service checks their range (and names the signal)."""

    path = "weights."
    reset = Flag()  # the "Reset to the defaults" button

    @property
    def weights(self) -> dict[str, float]:
        return {name: self[name].data for name in SIGNAL_NAMES}


for _name in SIGNAL_NAMES:
    setattr(
        WeightsForm,
        _name,
        Number(validators=[Required("give a number (0 switches the signal off)")]),
    )
