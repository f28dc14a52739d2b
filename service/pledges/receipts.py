"""Reading receipts CSV files (pure: no Flask, no database).

A file is decoded (UTF-8 with or without a BOM, UTF-16 with a BOM, else the encoding the
person chose, else Latin-1 when it is not UTF-8), its header read, and every row turned
into a `ReceiptLine` through a column mapping ``{field: header}``. Presets propose the
mapping for the files companies get; the person confirms or corrects it. Anything that
cannot be read is a `ReceiptError` naming the row and the column; nothing of such a file
is imported.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from service.money import MoneyError, normalize_currency, parse_amount

FIELDS = {
    "date": "Date of the payment",
    "amount": "Amount",
    "currency": "Currency",
    "account": "Who was paid (login, collective slug, payee)",
    "reference": "Reference",
    "type": "Transaction type",
    "kind": "Transaction kind",
}
REQUIRED = ("date", "amount", "account")
ENCODINGS = ("utf-8", "utf-16", "latin-1")


@dataclass(frozen=True)
class Preset:
    label: str
    platform: str
    # field → header names to look for (case-insensitive), first found wins
    columns: dict[str, tuple[str, ...]]
    currency: str | None = None  # when the file has no currency column
    # field → the values a row must have to be a payment (others are listed, not used)
    only: dict[str, frozenset[str]] = field(default_factory=dict)


PRESETS = {
    "github_sponsors": Preset(
        "GitHub Sponsors: organisation sponsorship export",
        "github_sponsors",
        {
            "date": ("transaction date", "date", "processed at", "created at"),
            "amount": ("processed amount", "amount", "amount in usd", "price"),
            "currency": ("currency",),
            "account": (
                "maintainer username",
                "sponsorable",
                "sponsored account",
                "maintainer",
                "username",
            ),
            "reference": ("transaction id", "invoice id", "id", "reference"),
        },
        currency="USD",
    ),
    "open_collective": Preset(
        "Open Collective: transactions CSV",
        "open_collective",
        {
            "date": ("datetime",),
            "amount": ("amount",),
            "currency": ("currency",),
            "account": ("oppositeaccountslug",),
            "reference": ("shortid",),
            "type": ("type",),
            "kind": ("kind",),
        },
        only={"type": frozenset({"DEBIT"}), "kind": frozenset({"CONTRIBUTION"})},
    ),
    "bank": Preset(
        "Bank or accounting CSV",
        "bank",
        {
            "date": ("date", "booking date", "value date", "transaction date"),
            "amount": ("amount", "debit", "value"),
            "currency": ("currency",),
            "account": ("payee", "beneficiary", "counterparty", "name"),
            "reference": ("reference", "description", "memo"),
        },
    ),
}


class ReceiptError(ValueError):
    """A file that cannot be imported; ``problems`` lists every row and column at fault."""

    def __init__(self, message: str, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.problems = problems or [message]


@dataclass(frozen=True)
class Table:
    encoding: str
    headers: list[str]
    rows: list[tuple[int, list[str]]]  # (line number in the file, cells)


@dataclass(frozen=True)
class ReceiptLine:
    row: int  # the line number in the file
    paid_on: date
    amount_minor: int
    currency: str
    account: str
    reference: str | None
    skip_reason: str | None  # set when the row is not a payment (e.g. a fee)
    fingerprint: str


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """(text, encoding used). A BOM decides; then the asked encoding; then UTF-8, else
    Latin-1 (which reads any bytes, so a file that is not UTF-8 is never refused)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="strict"), "utf-8-sig"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError as exc:
            raise ReceiptError(f"The file starts like UTF-16 but is not ({exc.reason}).") from None
    if encoding:
        if encoding not in ENCODINGS:
            raise ReceiptError(f"Unknown encoding {encoding!r}: one of {', '.join(ENCODINGS)}.")
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError as exc:
            raise ReceiptError(
                f"The file is not {encoding}: byte {exc.start} cannot be read ({exc.reason})."
            ) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def read_table(data: bytes, encoding: str | None = None) -> Table:
    """The header and rows of a CSV file (comma, semicolon or tab separated)."""
    text, used = decode(data, encoding)
    if not text.strip():
        raise ReceiptError("The file is empty.")
    first = text.splitlines()[0]
    delimiter = max((",", ";", "\t"), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        lines = [(reader.line_num, cells) for cells in reader]
    except csv.Error as exc:
        raise ReceiptError(f"Line {reader.line_num}: {exc}.") from None
    headers = [h.strip() for h in lines[0][1]]
    seen: dict[str, int] = {}
    for index, header in enumerate(headers, 1):
        if not header:
            raise ReceiptError(f"Column {index} has no name in the header.")
        if header.lower() in seen:
            raise ReceiptError(
                f"Column {header!r} appears twice in the header (columns {seen[header.lower()]} "
                f"and {index})."
            )
        seen[header.lower()] = index
    rows = [(n, cells) for n, cells in lines[1:] if any(c.strip() for c in cells)]
    return Table(used, headers, rows)


def guess_mapping(preset: Preset, headers: list[str]) -> dict[str, str]:
    """{field: header} for the fields whose preset names appear in the header."""
    lower = {h.lower(): h for h in headers}
    found = {}
    for name, candidates in preset.columns.items():
        header = next((lower[c] for c in candidates if c in lower), None)
        if header is not None:
            found[name] = header
    return found


def check_mapping(preset: Preset, headers: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """The mapping without empty choices, or a ReceiptError naming what is missing."""
    chosen = {k: v for k, v in mapping.items() if k in FIELDS and v}
    unknown = sorted(v for v in chosen.values() if v not in headers)
    if unknown:
        raise ReceiptError(f"The file has no column {', '.join(map(repr, unknown))}.")
    needed = [*REQUIRED, *([] if preset.currency else ["currency"]), *preset.only]
    missing = [FIELDS[name] for name in needed if name not in chosen]
    if missing:
        raise ReceiptError(f"Choose the column for: {', '.join(missing)}.")
    return chosen


def receipts(table: Table, preset_key: str, mapping: Mapping[str, str]) -> list[ReceiptLine]:
    """Every row as a ReceiptLine, or a ReceiptError listing every bad cell."""
    preset = PRESETS[preset_key]
    chosen = check_mapping(preset, table.headers, mapping)
    index = {name: table.headers.index(header) for name, header in chosen.items()}
    problems: list[str] = []
    found: list[ReceiptLine] = []
    for number, cells in table.rows:

        def cell(name: str, cells: list[str] = cells) -> str:
            at = index.get(name)
            return cells[at].strip() if at is not None and at < len(cells) else ""

        def problem(name: str, message: str, number: int = number) -> None:
            problems.append(f"Row {number}, column {chosen[name]!r}: {message}")

        skip = next(
            (
                f"not a payment ({chosen[name]} is {cell(name) or 'empty'})"
                for name, allowed in preset.only.items()
                if cell(name).upper() not in allowed
            ),
            None,
        )
        currency = preset.currency or ""
        if "currency" in chosen:
            try:
                currency = normalize_currency(cell("currency") or preset.currency or "")
            except MoneyError as exc:
                problem("currency", str(exc))
                continue
        paid_on = _date(cell("date"))
        if paid_on is None:
            problem("date", f"{cell('date')!r} is not a date (YYYY-MM-DD, or an ISO time)")
        amount = _amount(cell("amount"), currency)
        if isinstance(amount, str):
            problem("amount", amount)
        account = cell("account")
        if not account and skip is None:
            problem("account", "empty: say who was paid")
        if paid_on is None or isinstance(amount, str):
            continue
        if amount == 0 and skip is None:
            skip = "the amount is zero"
        values = [paid_on.isoformat(), str(amount), currency, account.lower(), cell("reference")]
        found.append(
            ReceiptLine(
                row=number,
                paid_on=paid_on,
                amount_minor=amount,
                currency=currency,
                account=account,
                reference=cell("reference") or None,
                skip_reason=skip,
                fingerprint=hashlib.sha256("\x1f".join([preset_key, *values]).encode()).hexdigest(),
            )
        )
    if problems:
        raise ReceiptError(f"{len(problems)} cell(s) cannot be read.", problems)
    return found


_DATE = re.compile(r"^(\d{4})[-/](\d{2})[-/](\d{2})")


def _date(text: str) -> date | None:
    match = _DATE.match(text)
    if not match:
        return None
    try:
        day = date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return None
    rest = text[match.end() :]
    if rest:
        try:
            datetime.fromisoformat(text.replace("Z", "+00:00").replace("/", "-"))
        except ValueError:
            return None
    return day


_SYMBOLS = re.compile(r"[$€£\s]")


def _amount(text: str, currency: str) -> int | str:
    """Minor units (a payment out may be written negative), or the message why not."""
    value = _SYMBOLS.sub("", text)
    if "," in value and "." in value:
        if value.rfind(",") > value.rfind("."):
            value = value.replace(".", "").replace(",", ".")  # 1.234,56
        else:
            value = value.replace(",", "")  # 1,234.56
    elif re.fullmatch(r"-?\d+,\d{1,2}", value):
        value = value.replace(",", ".")  # 12,50
    try:
        number = abs(Decimal(value))
    except InvalidOperation:
        return f"{text!r} is not an amount"
    try:
        return parse_amount(number, currency or "USD")
    except MoneyError as exc:
        return str(exc)
