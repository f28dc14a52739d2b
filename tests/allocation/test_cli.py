# ruff: noqa: RUF001, RUF003 - reasons use × as DESIGN.md writes them
"""``tributary allocate`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from service.allocation.cli import allocate_command, parse_request
from service.numbers import InputError


def run(args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(allocate_command, args, input=stdin)


def run_json(document: Any, tmp_path: Path, *extra: str) -> Result:
    path = tmp_path / "allocation.json"
    path.write_text(
        document if isinstance(document, str) else json.dumps(document), encoding="utf-8"
    )
    return run(["--input", str(path), "--json", *extra])


def error_of(result: Result) -> dict[str, Any]:
    assert result.exit_code == 1, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"error"}
    assert payload["error"]["code"] == "invalid_input"
    field = payload["error"]["details"]["field"]
    assert payload["error"]["message"].startswith(f"{field}: ")
    return payload["error"]


def document(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "budget": {"amount": "1000.00", "currency": "USD"},
        "policy": {"cap": 0.5},
        "projects": [
            {
                "key": "github.com/a/web",
                "products": [{"name": "web", "depth": 1}, {"name": "api", "depth": None}],
                "risk": 55,
                "claimed": True,
                "first_party": False,
                "excluded": False,
                "boost": 1.0,
            },
            {"key": "github.com/b/lib", "products": [{"name": "web", "depth": 2}], "claimed": True},
            {"key": "github.com/c/img", "products": [{"name": "api"}], "risk": 20},
        ],
    }
    base.update(changes)
    return base


def test_command_is_named_allocate() -> None:
    assert allocate_command.name == "allocate"


def test_json_output_has_exactly_the_documented_shape(tmp_path: Path) -> None:
    result = run_json(document(), tmp_path)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert list(payload) == ["lines", "remainder", "held", "currency"]
    assert payload["currency"] == "USD"
    assert payload["remainder"] == "0.00"
    # weights: web 1.5 × 1.05 = 1.575, lib 0.5, img 0.5 × 0.7 = 0.35 (unclaimed: held)
    assert payload["lines"] == [
        {
            "project": "github.com/a/web",
            "amount": "500.00",
            "share": 0.5,
            "weight": 1.575,
            "reason": "used by 2 of 2 products (web at depth 1, api at unknown depth "
            "(counted as 2)); risk 55 → ×1.05; capped at 50% of budget (500.00)",
        },
        {
            "project": "github.com/b/lib",
            "amount": "294.12",
            "share": 0.29412,
            "weight": 0.5,
            "reason": "used by 1 of 2 products (web at depth 2); risk unknown → ×1 (neutral)",
        },
    ]
    assert payload["held"] == [{"project": "github.com/c/img", "amount": "205.88"}]
    total = sum(float(line["amount"]) for line in payload["lines"]) + 205.88
    assert round(total, 2) == 1000.00


def test_reads_stdin_with_a_dash() -> None:
    result = run(["--input", "-", "--json"], stdin=json.dumps(document()))
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["held"][0]["project"] == "github.com/c/img"


def test_table_output_without_json(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(json.dumps(document()), encoding="utf-8")
    result = run(["--input", str(path)])
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Allocation of 1000.00 USD: 2 line(s), 1 held, remainder 0.00" in text
    assert "github.com/a/web  500.00  50.00%" in text
    assert "Held for unclaimed projects" in text and "205.88" in text
    assert "capped at 50% of budget" in text
    assert "Remainder: 0.00" in text


def test_policy_amounts_and_whole_unit_granularity(tmp_path: Path) -> None:
    doc = document(policy={"cap": 1, "minimum": "1.00", "granularity": "1.00", "unclaimed": "skip"})
    doc["budget"]["amount"] = "100.50"
    result = run_json(doc, tmp_path)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [line["amount"] for line in payload["lines"]] == ["76.00", "24.00"]
    assert payload["remainder"] == "0.50"
    assert payload["held"] == []


def test_overrides_and_pins_from_json(tmp_path: Path) -> None:
    doc = document(policy={"cap": 1, "unclaimed": "skip"})
    doc["projects"][0]["override"] = "100.00"
    doc["projects"][0]["override_note"] = "agreed"
    doc["projects"][1]["pin_minimum"] = "50.00"
    result = run_json(doc, tmp_path)
    assert result.exit_code == 0, result.output
    lines = json.loads(result.stdout)["lines"]
    assert {line["project"]: line["amount"] for line in lines} == {
        "github.com/b/lib": "900.00",
        "github.com/a/web": "100.00",
    }
    assert "fixed at 100.00 by the OSPO: agreed" in lines[1]["reason"]


def test_empty_project_list_keeps_the_whole_budget(tmp_path: Path) -> None:
    result = run_json(document(projects=[]), tmp_path)
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload == {"lines": [], "remainder": "1000.00", "held": [], "currency": "USD"}
    table = run(["--input", "-"], stdin=json.dumps(document(projects=[])))
    assert "whole budget is remainder" in table.stdout


def _with_project_field(name: str, value: Any, index: int = 2) -> dict[str, Any]:
    doc = document()
    doc["projects"][index][name] = value
    return doc


def _with_depth(value: Any) -> dict[str, Any]:
    doc = document()
    doc["projects"][2]["products"] = [{"name": "api", "depth": value}]
    return doc


@pytest.mark.parametrize(
    ("doc", "field", "fragment"),
    [
        ("{not json", "input", "invalid JSON at line 1"),
        ("[1, 2]", "input", "expected an object"),
        ({"projects": []}, "budget", "missing"),
        (document(budget="1000"), "budget", "expected"),
        (
            document(budget={"amount": "10.00", "currency": "XXX"}),
            "budget.currency",
            "unknown currency",
        ),
        (document(budget={"amount": "-5.00", "currency": "USD"}), "budget.amount", "negative"),
        (document(budget={"amount": 10.5, "currency": "USD"}), "budget.amount", "decimal string"),
        (
            document(budget={"amount": "1.005", "currency": "USD"}),
            "budget.amount",
            "decimal places",
        ),
        (document(budget={"currency": "USD"}), "budget.amount", "missing"),
        (
            document(budget={"amount": "1", "currency": "USD", "note": 1}),
            "budget.note",
            "unknown field",
        ),
        ({"budget": {"amount": "1", "currency": "USD"}}, "projects", "missing"),
        (document(projects={}), "projects", "expected a list"),
        (document(extra=1), "extra", "unknown field"),
        (_with_depth(0), "projects[2].products[0].depth", "expected an integer ≥ 1 or null"),
        (_with_depth(-1), "projects[2].products[0].depth", "integer ≥ 1 or null"),
        (_with_depth(1.5), "projects[2].products[0].depth", "integer ≥ 1 or null"),
        (_with_depth("1"), "projects[2].products[0].depth", "integer ≥ 1 or null"),
        (_with_depth(True), "projects[2].products[0].depth", "integer ≥ 1 or null"),
        (_with_depth(10**6), "projects[2].products[0].depth", "deeper than 1000"),
        (_with_depth([1]), "projects[2].products[0].depth", "integer ≥ 1 or null"),
        (
            _with_project_field("products", [{"name": ["web"], "depth": 1}]),
            "projects[2].products[0].name",
            "got a list",
        ),
        (
            _with_project_field("products", [{"depth": 1}]),
            "projects[2].products[0].name",
            "product name",
        ),
        (_with_project_field("products", "web"), "projects[2].products", "expected a list"),
        (_with_project_field("risk", 101), "projects[2].risk", "0 to 100"),
        (_with_project_field("risk", "high"), "projects[2].risk", "0 to 100"),
        (_with_project_field("claimed", "yes"), "projects[2].claimed", "true or false"),
        (_with_project_field("boost", 0), "projects[2].boost", "> 0"),
        (_with_project_field("months_held", -1), "projects[2].months_held", "integer ≥ 0"),
        (_with_project_field("override", 12.5), "projects[2].override", "decimal string"),
        (_with_project_field("pin_minimum", "-1"), "projects[2].pin_minimum", "negative"),
        (_with_project_field("owner", 7), "projects[2].owner", "string or null"),
        (_with_project_field("colour", "red"), "projects[2].colour", "unknown field"),
        (_with_project_field("key", ""), "projects[2].key", "project key"),
        (_with_project_field("key", "github.com/A/WEB"), "projects[2].key", "duplicate project"),
        (document(projects=[1]), "projects[0]", "expected an object"),
        (document(policy={"caps": 0.1}), "policy.caps", "unknown policy field"),
        (document(policy={"cap": "ten percent"}), "policy.cap", "expected a number"),
        (document(policy={"cap": 2}), "policy.cap", "≤ 1"),
        (document(policy={"minimum": 5.0}), "policy.minimum", "decimal string"),
        (document(policy={"granularity": "0"}), "policy.granularity", "> 0"),
        (document(policy={"unclaimed": "maybe"}), "policy.unclaimed", '"hold" or "skip"'),
        (document(policy={"exclude_owners": "acme"}), "policy.exclude_owners", "list of strings"),
        (
            document(policy={"boosts": {"github.com/a/web": -1}}),
            'policy.boosts["github.com/a/web"]',
            "> 0",
        ),
        (document(policy=[]), "policy", "expected an object"),
        (
            _with_project_field("override", "2000.00", 0),
            "projects[0].override",
            "larger than the budget",
        ),
        (_with_project_field("override", "10.50", 0), "projects[0].override", "granularity"),
        (
            _with_project_field("pin_minimum", "5000.00", 1),
            "projects[1].pin_minimum",
            "pinned minimums",
        ),
    ],
)
def test_invalid_input_is_a_json_error_naming_the_field(
    doc: Any, field: str, fragment: str, tmp_path: Path
) -> None:
    if field == "projects[0].override" and fragment == "granularity":
        doc["policy"] = {"granularity": "1.00"}
    error = error_of(run_json(doc, tmp_path))
    assert error["details"]["field"] == field
    assert fragment in error["message"]


def test_errors_are_json_even_without_the_json_flag(tmp_path: Path) -> None:
    error = error_of(run(["--input", "-"], stdin="{"))
    assert error["details"] == {"field": "input", "line": 1, "column": 2}


def test_unreadable_file_is_a_json_error(tmp_path: Path) -> None:
    error = error_of(run(["--input", str(tmp_path / "missing.json")]))
    assert error["details"]["field"] == "input"
    assert "cannot read" in error["message"]


def test_parse_request_is_usable_without_click() -> None:
    request = parse_request(document())
    assert request.budget.minor == 1000_00
    assert [c.key for c in request.candidates] == [
        "github.com/a/web",
        "github.com/b/lib",
        "github.com/c/img",
    ]
    assert request.candidates[2].claimed is False  # claimed defaults to false
    with pytest.raises(InputError) as error:
        parse_request(document(policy={"decay": 0}))
    assert error.value.field == "policy.decay"
