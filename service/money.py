"""Money as integer minor units plus an ISO 4217 code; never a float."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from fractions import Fraction

from service.numbers import Number, as_fraction, describe

# ISO 4217 minor-unit exponents that differ from 2, plus the common two-digit ones we accept.
_EXPONENT_OVERRIDES = {
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
_TWO_DIGIT = {
    "AED",
    "ARS",
    "AUD",
    "BRL",
    "CAD",
    "CHF",
    "CNY",
    "CZK",
    "DKK",
    "EUR",
    "GBP",
    "HKD",
    "HUF",
    "IDR",
    "ILS",
    "INR",
    "MXN",
    "MYR",
    "NOK",
    "NZD",
    "PHP",
    "PLN",
    "RON",
    "SEK",
    "SGD",
    "THB",
    "TRY",
    "TWD",
    "UAH",
    "USD",
    "ZAR",
}
CURRENCIES = frozenset(_TWO_DIGIT | set(_EXPONENT_OVERRIDES))


class MoneyError(ValueError):
    """An amount or currency that cannot be understood."""


def exponent(currency: str) -> int:
    """Number of minor-unit digits of an ISO 4217 currency."""
    code = normalize_currency(currency)
    return _EXPONENT_OVERRIDES.get(code, 2)


def normalize_currency(currency: str) -> str:
    code = (currency or "").strip().upper()
    if code not in CURRENCIES:
        raise MoneyError(f"unknown currency {currency!r}: expected an ISO 4217 code such as USD")
    return code


# The largest amount in minor units anywhere (budgets, minimums, pledges): 10^15, inside
# a 64-bit column and exact as a JSON number.
MAX_MINOR = 10**15


def parse_amount(text: str | int | Decimal, currency: str) -> int:
    """Turn '1234.50' into minor units (123450 for USD); refuses excess precision."""
    digits = exponent(currency)
    try:
        value = Decimal(str(text).strip().replace("_", ""))
    except InvalidOperation:
        raise MoneyError(f"amount {text!r} is not a decimal number") from None
    if not value.is_finite():
        raise MoneyError(f"amount {text!r} is not a finite number")
    if value < 0:
        raise MoneyError(f"amount {text!r} is negative")
    minor = value.scaleb(digits)
    if minor != minor.to_integral_value():
        raise MoneyError(f"amount {text!r} has more than {digits} decimal places for {currency}")
    check_amount(int(minor), currency, f"amount {text!r}")
    return int(minor)


def check_amount(minor: int, currency: str, what: str = "the amount") -> None:
    """Refuse amounts above MAX_MINOR (kept well inside a 64-bit column), naming the limit."""
    if minor > MAX_MINOR:
        raise MoneyError(
            f"{what} is above the largest amount Tributary takes, "
            f"{format_amount(MAX_MINOR, currency)} {currency}"
        )


def format_amount(minor: int, currency: str) -> str:
    """Minor units as a plain decimal string ('1234.50')."""
    digits = exponent(currency)
    value = Decimal(minor).scaleb(-digits)
    return str(value.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN))


@dataclass(frozen=True, slots=True)
class Money:
    minor: int
    currency: str

    @classmethod
    def parse(cls, text: str | int | Decimal, currency: str) -> Money:
        code = normalize_currency(currency)
        return cls(parse_amount(text, code), code)

    def __str__(self) -> str:
        return f"{format_amount(self.minor, self.currency)} {self.currency}"

    @property
    def decimal(self) -> str:
        return format_amount(self.minor, self.currency)


def split_among_maintainers(
    amount: int,
    shares: Mapping[str, Number | None] | Iterable[str],
    granularity: int = 1,
) -> dict[str, int]:
    """Split one line among its maintainers, exactly: ``{login: minor units}``.

    ``shares`` maps logins to the percentages they agreed (any non-negative numbers; they
    are normalized by their total, so 50/50 and 1/1 mean the same); a plain list of
    logins, or all values None, means equal shares. Amounts are multiples of
    ``granularity`` by largest remainder, ties to the earlier login, and sum to
    ``amount``. The result is ordered by login.
    """
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount must be minor units ≥ 0, got {describe(amount)}")
    if isinstance(granularity, bool) or not isinstance(granularity, int) or granularity < 1:
        raise ValueError(f"granularity must be an integer ≥ 1, got {describe(granularity)}")
    if amount % granularity:
        raise ValueError(f"amount {amount} is not a multiple of the granularity {granularity}")
    pairs = (
        list(shares.items()) if isinstance(shares, Mapping) else [(login, None) for login in shares]
    )
    if not pairs:
        raise ValueError("no maintainers to split among")
    logins = [login for login, _ in pairs]
    for login in logins:
        if not isinstance(login, str) or not login.strip():
            raise ValueError(
                f"maintainer login: expected a non-empty string, got {describe(login)}"
            )
    if len({login.casefold() for login in logins}) != len(logins):
        raise ValueError("a maintainer is listed twice (logins are case-insensitive)")
    given = [value for _, value in pairs if value is not None]
    if not given:
        weights = [Fraction(1)] * len(pairs)
    elif len(given) != len(pairs):
        raise ValueError("give a share for every maintainer, or for none (equal split)")
    else:
        weights = []
        for login, value in pairs:
            weight = as_fraction(value, f"shares[{login}]")
            if weight < 0:
                raise ValueError(f"share of {login} must be ≥ 0, got {describe(value)}")
            weights.append(weight)
    whole = sum(weights)
    if whole <= 0:
        raise ValueError("the shares add up to 0")
    units = amount // granularity
    quotas = [units * weight / whole for weight in weights]
    floors = [q.numerator // q.denominator for q in quotas]
    order = sorted(range(len(pairs)), key=lambda i: (-(quotas[i] - floors[i]), logins[i]))
    for i in order[: units - sum(floors)]:
        floors[i] += 1
    return {
        logins[i]: floors[i] * granularity
        for i in sorted(range(len(pairs)), key=lambda i: logins[i])
    }
