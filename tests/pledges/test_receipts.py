"""Reading receipts files without a database: encodings, headers, presets, cells."""

from __future__ import annotations

import codecs
from datetime import date

import pytest

from service.pledges import receipts
from service.pledges.receipts import PRESETS, ReceiptError

GITHUB = (
    "Transaction date,Maintainer username,Processed amount,Transaction ID\n"
    "2027-01-05,left,100.00,T1\n"
    "2027-01-05,stranger,5.00,T2\n"
)


def lines(text_or_bytes, preset="github_sponsors", mapping=None, encoding=None):
    data = text_or_bytes.encode() if isinstance(text_or_bytes, str) else text_or_bytes
    table = receipts.read_table(data, encoding)
    chosen = mapping or receipts.guess_mapping(PRESETS[preset], table.headers)
    return table, receipts.receipts(table, preset, chosen)


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        (GITHUB.encode("utf-8"), "utf-8"),
        (codecs.BOM_UTF8 + GITHUB.encode("utf-8"), "utf-8-sig"),
        (GITHUB.encode("utf-16"), "utf-16"),  # with its BOM
        (GITHUB.replace("stranger", "Jürgen").encode("latin-1"), "latin-1"),  # detected
    ],
)
def test_encodings_are_read(data, encoding):
    table, found = lines(data)
    assert table.encoding == encoding
    first = found[0]
    assert (first.row, first.account, first.amount_minor, first.currency, first.paid_on) == (
        2,
        "left",
        10_000,
        "USD",
        date(2027, 1, 5),
    )


def test_an_asked_encoding_that_does_not_fit_is_named():
    with pytest.raises(ReceiptError, match="not utf-8: byte 46"):
        receipts.read_table(
            "Transaction date,Maintainer username,Processed\xe9\n".encode("latin-1"), "utf-8"
        )
    with pytest.raises(ReceiptError, match="Unknown encoding"):
        receipts.read_table(b"a,b\n", "ebcdic")


def test_header_problems_are_named():
    with pytest.raises(
        ReceiptError, match=r"Column 'amount' appears twice in the header \(columns 2 and 3\)"
    ):
        receipts.read_table(b"Date,Amount,amount\n2027-01-01,1,2\n")
    with pytest.raises(ReceiptError, match="Column 2 has no name"):
        receipts.read_table(b"Date,,Amount\n")
    with pytest.raises(ReceiptError, match="empty"):
        receipts.read_table(b"  \n")
    table = receipts.read_table(b"Date,Amount\n2027-01-01,1\n")
    with pytest.raises(ReceiptError, match="Choose the column for: Who was paid"):
        receipts.receipts(table, "github_sponsors", {"date": "Date", "amount": "Amount"})
    with pytest.raises(ReceiptError, match="no column 'Payee'"):
        receipts.receipts(table, "bank", {"date": "Date", "amount": "Amount", "account": "Payee"})


def test_bad_cells_name_the_row_and_the_column():
    text = (
        "Transaction date,Maintainer username,Processed amount\n"
        "2027-01-05,left,ten\n"
        "2027-02-30,left,1.00\n"
        "2027-01-05,,1.00\n"
    )
    with pytest.raises(ReceiptError) as caught:
        lines(text)
    assert caught.value.problems == [
        "Row 2, column 'Processed amount': 'ten' is not an amount",
        "Row 3, column 'Transaction date': '2027-02-30' is not a date (YYYY-MM-DD, or an ISO time)",
        "Row 4, column 'Maintainer username': empty: say who was paid",
    ]


def test_open_collective_transactions_keep_only_contributions_paid_out():
    text = (
        "datetime,shortId,description,type,kind,amount,currency,accountSlug,oppositeAccountSlug\n"
        "2027-01-06T10:00:00Z,abc123,Contribution,DEBIT,CONTRIBUTION,-15.00,USD,acme,fw-oc\n"
        "2027-01-06T10:00:00Z,abc124,Fee,DEBIT,PAYMENT_PROCESSOR_FEE,-0.50,USD,acme,stripe\n"
        "2027-01-07T09:00:00Z,abc125,Refund,CREDIT,CONTRIBUTION,15.00,USD,acme,fw-oc\n"
    )
    _table, found = lines(text, "open_collective")
    assert [(r.account, r.amount_minor, r.reference, r.skip_reason) for r in found] == [
        ("fw-oc", 1_500, "abc123", None),
        ("stripe", 50, "abc124", "not a payment (kind is PAYMENT_PROCESSOR_FEE)"),
        ("fw-oc", 1_500, "abc125", "not a payment (type is CREDIT)"),
    ]


def test_bank_files_with_semicolons_and_decimal_commas():
    text = (
        "Date;Payee;Amount;Currency;Reference\n"
        "2027-01-07;left;-1.234,50;EUR;Überweisung\n"
        "2027/01/08;x;12,5;EUR;\n"
    )
    table, found = lines(text.encode("latin-1"), "bank")
    assert table.encoding == "latin-1"
    assert [(r.amount_minor, r.currency, r.reference, r.paid_on) for r in found] == [
        (123_450, "EUR", "Überweisung", date(2027, 1, 7)),
        (1_250, "EUR", None, date(2027, 1, 8)),
    ]


def test_fingerprints_identify_a_row():
    _t, first = lines(GITHUB)
    _t, again = lines(GITHUB.replace("T2", "T3"))
    assert first[0].fingerprint == again[0].fingerprint
    assert first[1].fingerprint != again[1].fingerprint
