"""/metrics: behind its token, the requests by route, the pool, the queue read from the
database, outbound answers by source, and several processes' figures added up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY

from service.core.fetch_results import FetchError
from service.jobs.queue import enqueue
from tests.core.test_http import make_client

TOKEN = "metrics-token-0123456789"
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_overrides() -> dict:
    return {"metrics_token": TOKEN}


def scrape(client, token: str | None = TOKEN):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.get("/metrics", headers=headers)


def test_without_a_token_setting_there_is_no_metrics_page(database, fake_github, tmp_path):
    from service.app import create_app
    from tests.conftest import app_settings

    app = create_app(app_settings(database.url, fake_github, tmp_path))
    assert app.test_client().get("/metrics").status_code == 404
    app.extensions["tributary.db"].engine.dispose()
    app.extensions["tributary.http"].close()


def test_a_scrape_without_the_token_is_refused(client):
    assert scrape(client, None).status_code == 401
    refused = scrape(client, "guess")
    assert refused.status_code == 401
    assert refused.headers["WWW-Authenticate"].startswith("Bearer")


def test_requests_pool_and_queue_are_reported(client, session):
    enqueue(session, "risk.recompute_company", {"company_id": 1})
    session.commit()
    client.get("/login")
    client.get("/c/nowhere/risk")
    answer = scrape(client)
    assert answer.status_code == 200
    assert answer.mimetype == "text/plain"
    text = answer.get_data(as_text=True)
    assert 'tributary_http_requests_total{method="GET",route="/login",status="200"}' in text
    assert 'route="/c/<slug>/risk"' in text  # the route's template, not the path asked
    assert 'tributary_http_request_duration_seconds_bucket{le="0.005",method="GET"' in text
    assert "tributary_db_pool_capacity" in text
    assert "tributary_db_connections_in_use" in text
    assert 'tributary_tasks{kind="risk.recompute_company",status="queued"} 1.0' in text
    assert 'tributary_tasks_due{kind="risk.recompute_company"} 1.0' in text
    assert "tributary_metrics_database_up 1.0" in text


def _outbound(source: str, answer: str) -> float:
    return (
        REGISTRY.get_sample_value(
            "tributary_outbound_requests_total", {"source": source, "answer": answer}
        )
        or 0.0
    )


def test_outbound_requests_are_counted_by_source_and_answer():
    before = (_outbound("pypi", "404"), _outbound("npm", "timeout"))
    with pytest.raises(FetchError):
        not_found = make_client(lambda request: httpx.Response(404))
        not_found.get("https://pypi.example/x", source="pypi")

    def slow(request):
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(FetchError):
        make_client(slow, max_retries=0).get("https://npm.example/x", source="npm")
    assert (_outbound("pypi", "404"), _outbound("npm", "timeout")) == (
        before[0] + 1,
        before[1] + 1,
    )


def test_processes_sharing_a_metrics_directory_are_added_up(tmp_path):
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    count = "from service.core.http import record_outbound; record_outbound('npm', '200')"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", count], env=env, cwd=REPO, check=True)
    report = (
        "from prometheus_client import generate_latest;"
        "from service.core.metrics import process_registry;"
        "print(generate_latest(process_registry()).decode())"
    )
    done = subprocess.run(
        [sys.executable, "-c", report], env=env, cwd=REPO, check=True, capture_output=True
    )
    assert (
        'tributary_outbound_requests_total{answer="200",source="npm"} 2.0' in done.stdout.decode()
    )
