"""Payment files for a month's pledges, exactly as the platforms take them (pure: no
Flask, no database).

Every export says what it left out and why; the service records that it was made.

- **GitHub Sponsors** bulk sponsorship CSV: header ``Maintainer username,Sponsorship
  amount in USD``, one row per GitHub login. A pledge is split among its claimed
  maintainers by the shares they agreed (exact cents, largest remainder); a maintainer
  without a GitHub Sponsors channel is left out. An unclaimed project whose metadata
  names a GitHub Sponsors account pays that account. The logins' totals become whole
  dollars by largest remainder (ties to the earlier login), so the file's total is the
  whole-dollar part of what the rows add up to; a row under the maintainer's own minimum,
  or under one dollar, is left out and listed. Only USD pledges go in. Files are split
  when a row limit is passed.
- **Open Collective**: a CSV ``collective slug,URL,amount in cents,currency`` per
  collective and currency, and the same as JSON shaped like the GraphQL ``createOrder``
  inputs (``toAccount.slug``, ``amount.valueInCents``, ``amount.currency``,
  ``frequency``) for an operator's script (which adds its own ``fromAccount``). The
  project's own collective takes the whole pledge; otherwise the maintainers' collectives
  share it as they agreed.
- **Generic** CSV and JSON: every line (a pledge, or a maintainer's share of it) with
  every channel the pledge knew.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from service.money import format_amount, split_among_maintainers

GITHUB_HEADER = ["Maintainer username", "Sponsorship amount in USD"]
OPEN_COLLECTIVE_HEADER = ["collective slug", "URL", "amount in cents", "currency"]
CHANNEL_KINDS = (
    "github_sponsors",
    "open_collective",
    "thanks_dev",
    "liberapay",
    "polar",
    "funding_json",
    "custom",
)
GENERIC_HEADER = [
    "pledge id",
    "period",
    "project",
    "maintainer",
    "share (basis points)",
    "amount",
    "amount in minor units",
    "currency",
    "state",
    "due on",
    *CHANNEL_KINDS,
]
KINDS = ("github-sponsors", "open-collective", "csv", "json")


@dataclass(frozen=True)
class ExportLine:
    """One pledge as an export sees it."""

    pledge_id: int
    project: str
    period: str
    amount_minor: int
    currency: str
    state: str
    due_on: str
    recurrence: str
    channels: dict[str, Any]


@dataclass(frozen=True)
class LeftOut:
    project: str
    who: str | None  # a maintainer's login, a collective, or None for the whole pledge
    amount_minor: int
    currency: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "project": self.project,
            "who": self.who,
            "amount": format_amount(self.amount_minor, self.currency),
            "currency": self.currency,
            "reason": self.reason,
        }


@dataclass
class ExportFile:
    name: str
    content: bytes
    rows: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


@dataclass
class Export:
    kind: str
    files: list[ExportFile]
    left_out: list[LeftOut] = field(default_factory=list)
    pledge_ids: list[int] = field(default_factory=list)  # pledges with money in a file

    @property
    def checksum(self) -> str:
        """SHA-256 over every file's name and content, in order."""
        digest = hashlib.sha256()
        for f in self.files:
            digest.update(f.name.encode() + b"\0" + f.content + b"\0")
        return digest.hexdigest()


def _csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def maintainer_parts(amount_minor: int, channels: dict[str, Any]) -> dict[str, int]:
    """{login: minor units} of a pledge's claimed maintainers, by their agreed shares
    (exact, largest remainder; equal shares when none were recorded)."""
    maintainers = channels.get("maintainers", [])
    if not maintainers or amount_minor == 0:
        return {}
    shares = {m["login"]: m.get("share_bp") or 0 for m in maintainers}
    if not any(shares.values()):
        shares = dict.fromkeys(shares)
    return split_among_maintainers(amount_minor, shares)


def _channel(maintainer: dict[str, Any], kind: str) -> dict[str, Any] | None:
    found = [c for c in maintainer.get("channels", []) if c["kind"] == kind]
    found.sort(key=lambda c: not c.get("preferred"))
    return found[0] if found else None


def whole_units(amounts: dict[str, int], unit: int) -> dict[str, int]:
    """``{key: minor}`` to multiples of ``unit`` summing to the whole-unit part of the
    total: floors first, the units left over to the largest remainders, ties to the
    earlier key."""
    floors = {key: minor // unit for key, minor in amounts.items()}
    left = sum(amounts.values()) // unit - sum(floors.values())
    order = sorted(amounts, key=lambda key: (-(amounts[key] % unit), key))
    for key in order[:left]:
        floors[key] += 1
    return {key: floors[key] * unit for key in sorted(amounts)}


def github_sponsors(
    lines: Iterable[ExportLine], *, row_limit: int, name: str = "github-sponsors"
) -> Export:
    left_out: list[LeftOut] = []
    per_login: dict[str, int] = {}  # lower-case login → minor units
    minimums: dict[str, int] = {}  # a maintainer's own minimum, when recorded
    pledges: dict[str, set[int]] = {}
    projects: dict[str, list[str]] = {}
    for line in lines:
        if line.currency != "USD":
            reason = f"other currency ({line.currency}): GitHub Sponsors takes USD only"
            left_out.append(LeftOut(line.project, None, line.amount_minor, line.currency, reason))
            continue
        for login, minor, minimum in _sponsors_parts(line, left_out):
            key = login.lower()
            per_login[key] = per_login.get(key, 0) + minor
            pledges.setdefault(key, set()).add(line.pledge_id)
            projects.setdefault(key, []).append(line.project)
            if minimum:
                minimums[key] = minimum
    rows: list[list[Any]] = []
    paid: set[int] = set()
    for login, minor in whole_units(per_login, 100).items():
        minimum = max(minimums.get(login, 0), 100)
        if minor < minimum:
            reason = (
                f"under {login}'s minimum of {format_amount(minimum, 'USD')} USD"
                if login in minimums
                else "under GitHub Sponsors' one-dollar minimum"
            )
            where = ", ".join(projects[login])
            left_out.append(LeftOut(where, login, per_login[login], "USD", reason))
            continue
        rows.append([login, minor // 100])
        paid |= pledges[login]
    files = _split_files(name, GITHUB_HEADER, rows, row_limit)
    return Export("github-sponsors", files, left_out, sorted(paid))


def _sponsors_parts(line: ExportLine, left_out: list[LeftOut]) -> list[tuple[str, int, int]]:
    """(GitHub login, minor units, the login's own minimum or 0) for one USD pledge; what
    cannot be paid through GitHub Sponsors goes to ``left_out``."""
    maintainers = {m["login"]: m for m in line.channels.get("maintainers", [])}
    if not maintainers:
        found = [c for c in line.channels.get("project", []) if c["kind"] == "github_sponsors"]
        if found:
            return [(found[0]["handle"], line.amount_minor, 0)]
        left_out.append(
            LeftOut(line.project, None, line.amount_minor, "USD", "no GitHub Sponsors channel")
        )
        return []
    parts = []
    for login, minor in maintainer_parts(line.amount_minor, line.channels).items():
        channel = _channel(maintainers[login], "github_sponsors")
        if channel is None:
            left_out.append(
                LeftOut(line.project, login, minor, "USD", "no GitHub Sponsors channel")
            )
            continue
        parts.append((channel["value"], minor, channel.get("minimum_minor") or 0))
    return parts


def _split_files(
    name: str, header: list[str], rows: list[list[Any]], row_limit: int
) -> list[ExportFile]:
    if row_limit < 1:
        raise ValueError("the row limit must be at least 1")
    chunks = [rows[i : i + row_limit] for i in range(0, len(rows), row_limit)] or [[]]
    if len(chunks) == 1:
        return [ExportFile(f"{name}.csv", _csv(header, chunks[0]), len(chunks[0]))]
    return [
        ExportFile(f"{name}-{number}-of-{len(chunks)}.csv", _csv(header, chunk), len(chunk))
        for number, chunk in enumerate(chunks, 1)
    ]


def open_collective(lines: Iterable[ExportLine], *, name: str = "open-collective") -> Export:
    left_out: list[LeftOut] = []
    totals: dict[tuple[str, str], int] = {}
    monthly: dict[tuple[str, str], bool] = {}
    pledge_ids: set[int] = set()
    for line in lines:
        if line.amount_minor == 0:
            continue
        parts: dict[str, int] = {}
        own = [c for c in line.channels.get("project", []) if c["kind"] == "open_collective"]
        if own:
            parts[own[0]["handle"].lower()] = line.amount_minor
        else:
            maintainers = {m["login"]: m for m in line.channels.get("maintainers", [])}
            for login, minor in maintainer_parts(line.amount_minor, line.channels).items():
                channel = _channel(maintainers[login], "open_collective")
                if channel is None:
                    left_out.append(
                        LeftOut(
                            line.project, login, minor, line.currency, "no Open Collective channel"
                        )
                    )
                    continue
                slug = channel["value"].lower()
                parts[slug] = parts.get(slug, 0) + minor
            if not maintainers:
                left_out.append(
                    LeftOut(
                        line.project,
                        None,
                        line.amount_minor,
                        line.currency,
                        "no Open Collective channel",
                    )
                )
        for slug, minor in parts.items():
            key = (slug, line.currency)
            totals[key] = totals.get(key, 0) + minor
            monthly[key] = monthly.get(key, True) and line.recurrence == "monthly"
            pledge_ids.add(line.pledge_id)
    keys = sorted(totals)
    rows = [
        [slug, f"https://opencollective.com/{slug}", totals[(slug, cur)], cur] for slug, cur in keys
    ]
    orders = [
        {
            "toAccount": {"slug": slug},
            "amount": {"valueInCents": totals[(slug, cur)], "currency": cur},
            "frequency": "MONTHLY" if monthly[(slug, cur)] else "ONETIME",
        }
        for slug, cur in keys
    ]
    files = [
        ExportFile(f"{name}.csv", _csv(OPEN_COLLECTIVE_HEADER, rows), len(rows)),
        ExportFile(f"{name}.json", _json(orders), len(orders)),
    ]
    return Export("open-collective", files, left_out, sorted(pledge_ids))


def _json(value: Any) -> bytes:
    return (json.dumps(value, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _generic_rows(lines: Iterable[ExportLine]) -> list[dict[str, Any]]:
    rows = []
    for line in lines:
        maintainers = {m["login"]: m for m in line.channels.get("maintainers", [])}
        project_channels = {
            kind: [c["handle"] for c in line.channels.get("project", []) if c["kind"] == kind]
            for kind in CHANNEL_KINDS
        }
        parts = maintainer_parts(line.amount_minor, line.channels) or {None: line.amount_minor}
        for login, minor in parts.items():
            mine = maintainers.get(login, {})
            channels = {
                kind: [c["value"] for c in mine.get("channels", []) if c["kind"] == kind]
                + project_channels[kind]
                for kind in CHANNEL_KINDS
            }
            rows.append(
                {
                    "pledge_id": line.pledge_id,
                    "period": line.period,
                    "project": line.project,
                    "maintainer": login,
                    "share_bp": mine.get("share_bp") if login else None,
                    "amount": format_amount(minor, line.currency),
                    "amount_minor": minor,
                    "currency": line.currency,
                    "state": line.state,
                    "due_on": line.due_on,
                    "channels": channels,
                }
            )
    return rows


def generic_csv(lines: Iterable[ExportLine], *, name: str = "pledges") -> Export:
    lines = list(lines)
    rows = [
        [
            r["pledge_id"],
            r["period"],
            r["project"],
            r["maintainer"] or "",
            "" if r["share_bp"] is None else r["share_bp"],
            r["amount"],
            r["amount_minor"],
            r["currency"],
            r["state"],
            r["due_on"],
            *(" ".join(r["channels"][kind]) for kind in CHANNEL_KINDS),
        ]
        for r in _generic_rows(lines)
    ]
    return Export(
        "csv",
        [ExportFile(f"{name}.csv", _csv(GENERIC_HEADER, rows), len(rows))],
        [],
        sorted(line.pledge_id for line in lines),
    )


def generic_json(lines: Iterable[ExportLine], *, name: str = "pledges") -> Export:
    lines = list(lines)
    rows = _generic_rows(lines)
    return Export(
        "json",
        [ExportFile(f"{name}.json", _json(rows), len(rows))],
        [],
        sorted(line.pledge_id for line in lines),
    )
