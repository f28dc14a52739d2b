"""The typed input fields every filter and form is made of."""

from __future__ import annotations

from service.core.forms import Choice, Flag, Number, QueryForm, Required, Text, WholeNumber


class Filters(QueryForm):
    q = Text(limit=5)
    short = Text(limit=3, strict=False)
    risk = Number(low=0, high=100)
    ratio = Number()
    page = WholeNumber(low=1, high=9, message="expected {low} to {high}, got {raw!r}")
    count = WholeNumber()
    sort = Choice(choices=("name", "size"))
    lenient = Choice(choices=("a", "b"), strict=False)
    on = Flag(on="all")


def test_values_read_and_problems_named():
    form = Filters(
        {
            "q": " ab ",
            "short": "abcdef",
            "risk": "nan",
            "ratio": "0.5",
            "page": "10",
            "count": "-2",
            "sort": "SIZE",
            "lenient": "c",
            "on": "all",
        }
    )
    assert form.values == {
        "q": "ab",
        "short": "abc",
        "ratio": 0.5,
        "count": -2,
        "sort": "size",
        "on": True,
    }
    assert form.problems == {
        "risk": "risk: expected a number from 0 to 100, got 'nan'",
        "page": "page: expected 1 to 9, got '10'",
    }


def test_missing_and_empty_values_keep_their_defaults():
    form = Filters({"q": "  ", "count": "", "on": "1"})
    assert form.values == {"on": False}
    assert form.problems == {}
    assert Filters({"q": "abcdefg", "count": "1.5"}).problems == {
        "q": "q: at most 5 characters",
        "count": "count: expected a whole number, got '1.5'",
    }


class Weights(QueryForm):
    path = "weights."
    direct = Number(validators=[Required("give a number")])


def test_required_takes_zero_and_names_the_field_with_its_path():
    assert Weights({"direct": "0"}).values == {"direct": 0.0}
    assert Weights({"direct": " "}).problems == {"direct": "weights.direct: give a number"}
    assert Weights({"direct": "x"}).problems == {
        "direct": "weights.direct: expected a number, got 'x'"
    }


def test_a_prefix_reads_fields_named_so():
    form = Filters({"keep_sort": "name", "sort": "size"}, prefix="keep_")
    assert form.values == {"sort": "name", "on": False}
