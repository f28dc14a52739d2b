"""Each export's exact bytes for hand-computed cases: splitting among co-maintainers,
whole dollars by largest remainder, minimums, other currencies, split files."""

from __future__ import annotations

import json

import pytest

from service.pledges import exports
from service.pledges.exports import ExportLine, LeftOut


def maintainer(login, share, *channels):
    return {
        "user_id": 0,
        "login": login,
        "share_bp": share,
        "channels": [
            {"kind": kind, "value": value, "url": None, "preferred": i == 0, **extra}
            for i, (kind, value, extra) in enumerate(
                (c if len(c) == 3 else (*c, {})) for c in channels
            )
        ],
    }


def project_channel(kind, handle):
    return {"kind": kind, "handle": handle, "url": None, "source": "FUNDING.yml"}


def line(pledge_id, project, minor, currency="USD", maintainers=(), found=(), recurrence="once"):
    return ExportLine(
        pledge_id=pledge_id,
        project=project,
        period="2026-12",
        amount_minor=minor,
        currency=currency,
        state="pledged",
        due_on="2027-01-15",
        recurrence=recurrence,
        channels={"maintainers": list(maintainers), "project": list(found)},
    )


SPONSORS_LINES = [
    # 100.00 split 66.67 / 33.33 between two co-maintainers.
    line(
        1,
        "github.com/a/lib",
        10_000,
        maintainers=[
            maintainer("alice", 6_667, ("github_sponsors", "alice-gh")),
            maintainer("bob", 3_333, ("github_sponsors", "Bob")),
        ],
    ),
    # Unclaimed, but FUNDING.yml names a sponsorable account: it takes the whole pledge.
    line(2, "github.com/b/tool", 5_050, found=[project_channel("github_sponsors", "toolorg")]),
    line(
        3,
        "github.com/c/tiny",
        80,
        maintainers=[maintainer("carol", 10_000, ("github_sponsors", "carol"))],
    ),
    line(
        4,
        "github.com/d/eu",
        2_000,
        "EUR",
        maintainers=[maintainer("dora", 10_000, ("github_sponsors", "dora"))],
    ),
    line(
        5,
        "github.com/e/x",
        3_000,
        maintainers=[maintainer("dave", 10_000, ("open_collective", "dave-oc"))],
    ),
    line(
        6,
        "github.com/f/min",
        400,
        maintainers=[
            maintainer("erin", 10_000, ("github_sponsors", "erin", {"minimum_minor": 500}))
        ],
    ),
    # bob again, spelled in lower case: one row per login.
    line(
        7,
        "github.com/g/more",
        1_025,
        maintainers=[maintainer("bob", 10_000, ("github_sponsors", "bob"))],
    ),
]


def test_github_sponsors_csv_exact_bytes():
    # Per login: alice-gh 66.67, bob 33.33 + 10.25 = 43.58, carol 0.80, erin 4.00,
    # toolorg 50.50; total 165.55 → 165 whole dollars. Floors 66+43+0+4+50 = 163; the two
    # dollars left go to the largest cents: carol (.80) and alice-gh (.67).
    made = exports.github_sponsors(SPONSORS_LINES, row_limit=3, name="acme-2026-12")
    assert [f.name for f in made.files] == ["acme-2026-12-1-of-2.csv", "acme-2026-12-2-of-2.csv"]
    assert made.files[0].content == (
        b"Maintainer username,Sponsorship amount in USD\nalice-gh,67\nbob,43\ncarol,1\n"
    )
    assert made.files[1].content == b"Maintainer username,Sponsorship amount in USD\ntoolorg,50\n"
    assert made.left_out == [
        LeftOut(
            "github.com/d/eu",
            None,
            2_000,
            "EUR",
            "other currency (EUR): GitHub Sponsors takes USD only",
        ),
        LeftOut("github.com/e/x", "dave", 3_000, "USD", "no GitHub Sponsors channel"),
        LeftOut("github.com/f/min", "erin", 400, "USD", "under erin's minimum of 5.00 USD"),
    ]
    assert made.pledge_ids == [1, 2, 3, 7]
    # Without the row limit passed: one file.
    single = exports.github_sponsors(SPONSORS_LINES, row_limit=100, name="x")
    assert [(f.name, f.rows) for f in single.files] == [("x.csv", 4)]


def test_github_sponsors_leaves_out_rows_under_one_dollar():
    made = exports.github_sponsors(
        [
            line(
                1,
                "github.com/a/lib",
                40,
                maintainers=[maintainer("alice", 10_000, ("github_sponsors", "alice"))],
            )
        ],
        row_limit=10,
    )
    assert made.files[0].content == b"Maintainer username,Sponsorship amount in USD\n"
    assert made.left_out == [
        LeftOut("github.com/a/lib", "alice", 40, "USD", "under GitHub Sponsors' one-dollar minimum")
    ]
    assert made.pledge_ids == []


def test_whole_units_carry_the_rounding_by_largest_remainder():
    # 4.50 in all: 4 whole units; floors give 3, the one left goes to the earliest tie.
    assert exports.whole_units({"a": 150, "b": 150, "c": 150}, 100) == {
        "a": 200,
        "b": 100,
        "c": 100,
    }
    assert exports.whole_units({"x": 99, "y": 1}, 100) == {"x": 100, "y": 0}
    assert exports.whole_units({}, 100) == {}


OC_LINES = [
    line(1, "github.com/a/lib", 10_000, found=[project_channel("open_collective", "a-lib")]),
    line(
        2,
        "github.com/b/tool",
        2_000,
        "EUR",
        maintainers=[
            maintainer("alice", 5_000, ("open_collective", "alice-oc")),
            maintainer("bob", 5_000, ("github_sponsors", "bob")),
        ],
    ),
    line(3, "github.com/c/x", 700, recurrence="monthly"),
    line(
        4,
        "github.com/d/y",
        300,
        found=[project_channel("open_collective", "A-Lib")],
        recurrence="monthly",
    ),
    line(
        5,
        "github.com/e/z",
        500,
        found=[project_channel("open_collective", "zed")],
        recurrence="monthly",
    ),
]


def test_open_collective_csv_and_json_exact_bytes():
    made = exports.open_collective(OC_LINES, name="acme-2026-12-oc")
    csv_file, json_file = made.files
    assert csv_file.name == "acme-2026-12-oc.csv"
    assert csv_file.content == (
        b"collective slug,URL,amount in cents,currency\n"
        b"a-lib,https://opencollective.com/a-lib,10300,USD\n"
        b"alice-oc,https://opencollective.com/alice-oc,1000,EUR\n"
        b"zed,https://opencollective.com/zed,500,USD\n"
    )
    assert json_file.name == "acme-2026-12-oc.json"
    assert json.loads(json_file.content) == [
        {
            "toAccount": {"slug": "a-lib"},
            "amount": {"valueInCents": 10300, "currency": "USD"},
            "frequency": "ONETIME",
        },
        {
            "toAccount": {"slug": "alice-oc"},
            "amount": {"valueInCents": 1000, "currency": "EUR"},
            "frequency": "ONETIME",
        },
        {
            "toAccount": {"slug": "zed"},
            "amount": {"valueInCents": 500, "currency": "USD"},
            "frequency": "MONTHLY",
        },
    ]
    assert json_file.content.startswith(b'[\n  {\n    "toAccount": {\n      "slug": "a-lib"\n')
    assert made.left_out == [
        LeftOut("github.com/b/tool", "bob", 1_000, "EUR", "no Open Collective channel"),
        LeftOut("github.com/c/x", None, 700, "USD", "no Open Collective channel"),
    ]
    assert made.pledge_ids == [1, 2, 4, 5]


GENERIC_LINES = [
    line(
        1,
        "github.com/a/lib",
        10_001,
        found=[
            project_channel("open_collective", "a-lib"),
            project_channel("github_sponsors", "alib"),
        ],
    ),
    line(
        2,
        "github.com/b/tool",
        2_001,
        "EUR",
        maintainers=[
            maintainer("alice", 5_000, ("open_collective", "alice-oc"), ("liberapay", "alice")),
            maintainer("bob", 5_000, ("github_sponsors", "bob")),
        ],
    ),
]


def test_generic_csv_exact_bytes():
    made = exports.generic_csv(GENERIC_LINES, name="all")
    assert made.files[0].content == (
        b"pledge id,period,project,maintainer,share (basis points),amount,"
        b"amount in minor units,currency,state,due on,github_sponsors,open_collective,"
        b"thanks_dev,liberapay,polar,funding_json,custom\n"
        b"1,2026-12,github.com/a/lib,,,100.01,10001,USD,pledged,2027-01-15,alib,a-lib,,,,,\n"
        # 20.01 EUR split equally: the odd cent to the earlier login.
        b"2,2026-12,github.com/b/tool,alice,5000,10.01,1001,EUR,pledged,2027-01-15,,alice-oc,"
        b",alice,,,\n"
        b"2,2026-12,github.com/b/tool,bob,5000,10.00,1000,EUR,pledged,2027-01-15,bob,,,,,,\n"
    )
    assert made.left_out == [] and made.pledge_ids == [1, 2]


def test_generic_json_has_every_line_with_every_channel():
    made = exports.generic_json(GENERIC_LINES, name="all")
    rows = json.loads(made.files[0].content)
    assert [(r["maintainer"], r["amount_minor"], r["currency"]) for r in rows] == [
        (None, 10_001, "USD"),
        ("alice", 1_001, "EUR"),
        ("bob", 1_000, "EUR"),
    ]
    assert rows[1]["channels"] == {
        "github_sponsors": [],
        "open_collective": ["alice-oc"],
        "thanks_dev": [],
        "liberapay": ["alice"],
        "polar": [],
        "funding_json": [],
        "custom": [],
    }
    assert made.files[0].name == "all.json"


def test_checksums_cover_every_file():
    made = exports.open_collective(OC_LINES)
    again = exports.open_collective(OC_LINES)
    assert made.checksum == again.checksum and len(made.checksum) == 64
    assert made.checksum != exports.open_collective(OC_LINES[:1]).checksum
    with pytest.raises(ValueError, match="row limit"):
        exports.github_sponsors(SPONSORS_LINES, row_limit=0)
