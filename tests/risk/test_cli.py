"""``tributary risk score`` through click's test runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from service.risk.cli import risk_group


def run(args: list[str], stdin: str | None = None) -> Result:
    return CliRunner().invoke(risk_group, args, input=stdin)


def run_json(document: Any, tmp_path: Path) -> Result:
    path = tmp_path / "signals.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return run(["score", "--input", str(path), "--json"])


def error_of(result: Result) -> dict[str, Any]:
    assert result.exit_code != 0
    payload = json.loads(result.stdout)
    assert set(payload) == {"error"}
    assert payload["error"]["code"] == "invalid_input"
    return payload["error"]


def test_group_name() -> None:
    assert risk_group.name == "risk"
    assert "score" in risk_group.commands


def test_json_output_shape(tmp_path: Path) -> None:
    result = run_json(
        {
            "signals": {
                "publishers": {"value": 1, "source": "PyPI"},
                "months_since_release": 12,
            }
        },
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert set(payload) == {"score", "coverage", "criticality", "breakdown", "explanation"}
    # (1·15 + 0.5·10)/25 = 80.0; coverage 25/110 = 0.2273
    assert payload["score"] == 80.0
    assert payload["coverage"] == 0.2273
    assert payload["criticality"] is None
    assert payload["breakdown"] == [
        {
            "signal": "publishers",
            "raw": 1,
            "normalized": 1.0,
            "weight": 15.0,
            "contribution": 60.0,
            "source": "PyPI",
        },
        {
            "signal": "months_since_release",
            "raw": 12,
            "normalized": 0.5,
            "weight": 10.0,
            "contribution": 20.0,
            "source": None,
        },
    ]
    assert payload["explanation"] == [
        "one person can publish (source: PyPI)",
        "no release for 12 months",
    ]


def test_weights_and_criticality_inputs(tmp_path: Path) -> None:
    result = run_json(
        {
            "signals": {"publishers": 1, "contributor_count": 5000},
            "weights": {"criticality": 5},
        },
        tmp_path,
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    # criticality 2/8.5 = 0.23529; (0.2353·5 + 1·15)/20 = 16.1765/20 = 80.88 -> 80.9
    assert payload["criticality"] == 0.23529
    assert payload["score"] == 80.9
    line = next(b for b in payload["breakdown"] if b["signal"] == "criticality")
    assert line["raw"] == {"contributor_count": 5000}
    assert line["weight"] == 5.0


def test_stdin() -> None:
    result = run(["score", "--input", "-", "--json"], stdin='{"signals": {"publishers": 4}}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["score"] == 25.0


def test_no_data_gives_null_score(tmp_path: Path) -> None:
    result = run_json({"signals": {}}, tmp_path)
    assert result.exit_code == 0
    assert json.loads(result.stdout) == {
        "score": None,
        "coverage": 0.0,
        "criticality": None,
        "breakdown": [],
        "explanation": [],
    }


def test_table_output(tmp_path: Path) -> None:
    path = tmp_path / "in.json"
    path.write_text(
        json.dumps(
            {
                "signals": {"products_using": 0.75, "direct": True, "publishers": 1},
                "context": {"products_total": 4},
            }
        )
    )
    result = run(["score", "--input", str(path)])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Risk score:" in out
    assert "signal" in out and "contribution" in out
    assert "publishers" in out
    assert "- used directly by 3 of 4 products" in out
    assert "- one person can publish" in out
    assert "No data:" in out


def test_unknown_signal(tmp_path: Path) -> None:
    error = error_of(run_json({"signals": {"foo": 1, "publishers": 1}}, tmp_path))
    assert error["message"].startswith("signals.foo: unknown signal")
    assert error["details"]["field"] == "signals.foo"


def test_non_numeric_value(tmp_path: Path) -> None:
    error = error_of(run_json({"signals": {"downloads": "lots"}}, tmp_path))
    assert error["details"]["field"] == "signals.downloads"
    assert "expected a number" in error["message"]


def test_invalid_json(tmp_path: Path) -> None:
    error = error_of(run_json('{"signals": {', tmp_path))
    assert error["details"]["field"] == "input"
    assert "invalid JSON" in error["message"]


def test_invalid_json_without_json_flag(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text("not json")
    result = run(["score", "--input", str(path)])
    assert error_of(result)["details"]["field"] == "input"


@pytest.mark.parametrize(
    ("document", "field"),
    [
        ([1, 2], "input"),
        ({}, "signals"),
        ({"signals": [1]}, "signals"),
        ({"signals": {}, "weight": {}}, "weight"),
        ({"signals": {}, "weights": {"bogus": 1}}, "weights.bogus"),
        ({"signals": {}, "weights": {"publishers": -2}}, "weights.publishers"),
        ({"signals": {}, "context": 3}, "context"),
        ({"signals": {"publishers": {"source": "PyPI"}}}, "signals.publishers"),
    ],
)
def test_invalid_documents(document: Any, field: str, tmp_path: Path) -> None:
    assert error_of(run_json(document, tmp_path))["details"]["field"] == field


def test_missing_file(tmp_path: Path) -> None:
    result = run(["score", "--input", str(tmp_path / "nope.json"), "--json"])
    assert error_of(result)["details"]["field"] == "input"


def test_input_is_required() -> None:
    result = run(["score", "--json"])
    assert result.exit_code != 0
