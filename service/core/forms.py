"""Reading input: the typed fields every page's filters and forms are made of.

A GET filter is a `QueryForm` over the query string (no CSRF token: it changes nothing);
a POST form is a FlaskForm using the same fields with `FieldProblems` mixed in. Either
way a value that cannot be read is left at its default and named in `problems`
("per_page: expected 1 to 500, got '0'"), so a page can say what it left out. A field
made with `strict=False` reads a bad value as its default (or, for text, its first
`limit` characters) without a problem: links people type by hand keep working.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from werkzeug.datastructures import MultiDict
from wtforms import Field, Form
from wtforms.validators import StopValidation
from wtforms.widgets import TextInput


class FieldProblems:
    """{field: "field: message"} and the values read, for any WTForms form. `path` goes
    before each field's name (a form of weights: "weights.")."""

    path = ""

    @property
    def problems(self) -> dict[str, str]:
        return {
            field.short_name: f"{self.path}{field.short_name}{getattr(field, 'separator', ':')} "
            f"{field.errors[0]}"
            for field in self  # type: ignore[attr-defined]
            if field.errors
        }

    @property
    def values(self) -> dict[str, Any]:
        """The input fields given and read without a problem."""
        return {
            field.short_name: field.data
            for field in self  # type: ignore[attr-defined]
            if isinstance(field, InputField) and not field.errors and field.data is not None
        }


class QueryForm(FieldProblems, Form):
    """Filters from query-string arguments (a MultiDict such as request.args, or a dict),
    read and checked at once; `prefix` reads them from fields named so ("keep_sort")."""

    def __init__(self, args: Mapping[str, str], prefix: str = "") -> None:
        super().__init__(args if hasattr(args, "getlist") else MultiDict(args), prefix=prefix)
        self.validate()


class InputField(Field):
    """One text input, stripped; empty means the default. Subclasses `parse` the text
    (ValueError: the message)."""

    widget = TextInput()
    separator = ":"  # between the field's name and a problem's message

    def __init__(self, *args: Any, strict: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.strict = strict

    def process_formdata(self, valuelist: list[Any]) -> None:
        raw = valuelist[0].strip() if valuelist and isinstance(valuelist[0], str) else ""
        if not raw:
            return
        try:
            self.data = self.parse(raw)
        except ValueError:
            if self.strict:
                raise

    def parse(self, raw: str) -> Any:
        return raw

    @property
    def text(self) -> str:
        """The text as given (to show a form back with what the person typed)."""
        return str(self.raw_data[0]) if self.raw_data else ""

    def _value(self) -> str:
        return self.text if self.raw_data else "" if self.data is None else str(self.data)


class Required:
    """A value must be given (0 is one); `message` says what to give."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, form: Any, field: Field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(self.message)


class Text(InputField):
    def __init__(
        self, *args: Any, limit: int | None = None, lower: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.limit, self.lower = limit, lower

    def parse(self, raw: str) -> str:
        if self.limit is not None and len(raw) > self.limit:
            if self.strict:
                raise ValueError(f"at most {self.limit} characters")
            raw = raw[: self.limit]
        return raw.lower() if self.lower else raw


class Number(InputField):
    """A decimal number, from `low` to `high` when they are given."""

    def __init__(
        self, *args: Any, low: float | None = None, high: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.low, self.high = low, high

    def parse(self, raw: str) -> float:
        bounded = self.low is not None and self.high is not None
        expected = f"a number from {self.low:g} to {self.high:g}" if bounded else "a number"
        try:
            number = float(raw)
        except ValueError:
            raise ValueError(f"expected {expected}, got {raw!r}") from None
        # NaN fails every comparison, so it is out of any range.
        if (self.low is not None and not number >= self.low) or (
            self.high is not None and not number <= self.high
        ):
            raise ValueError(f"expected {expected}, got {raw!r}")
        return number


class WholeNumber(InputField):
    """Digits, optionally signed, from `low` to `high` when they are given. `message`
    names what is expected, with {low}, {high} and {raw} filled in."""

    def __init__(
        self,
        *args: Any,
        low: int | None = None,
        high: int | None = None,
        message: str = "expected a whole number, got {raw!r}",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.low, self.high, self.message = low, high, message

    def parse(self, raw: str) -> int:
        if not raw.removeprefix("-").isdigit():
            raise ValueError(self.message.format(low=self.low, high=self.high, raw=raw))
        number = int(raw)
        if (self.low is not None and number < self.low) or (
            self.high is not None and number > self.high
        ):
            raise ValueError(self.message.format(low=self.low, high=self.high, raw=raw))
        return number


class Choice(InputField):
    """One of `choices`, in any case (read in lower case). `message` names what is
    expected, with {choices} and {raw} filled in."""

    def __init__(
        self,
        *args: Any,
        choices: Iterable[str] = (),
        message: str = "expected one of {choices}, got {raw!r}",
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.choices, self.message = tuple(choices), message

    def parse(self, raw: str) -> str:
        if raw.lower() not in self.choices:
            raise ValueError(self.message.format(choices=", ".join(self.choices), raw=raw))
        return raw.lower()


class Flag(InputField):
    """On when the value is exactly `on` (a checkbox's value, or ?omitted=all)."""

    def __init__(self, *args: Any, on: str = "1", **kwargs: Any) -> None:
        super().__init__(*args, default=False, **kwargs)
        self.on = on

    def parse(self, raw: str) -> bool:
        return raw == self.on


class PageForm(QueryForm):
    """A pager's page number: 1 when missing or unreadable (links people edit by hand keep
    working). Extend it with a page's own filters."""

    page = WholeNumber(default=1, low=1, high=100_000, strict=False)
