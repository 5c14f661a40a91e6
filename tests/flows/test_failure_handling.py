"""Failure handling shared by the flows: transport errors are retried, failed runs are not; alerts are sent."""

import asyncio
import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from prefect import flow
from prefect.client.orchestration import get_client

from energy_assets.flows import dagster_runs, tasks


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens once the probe is closed


def test_an_unreachable_webserver_is_retried_then_fails_as_transport(monkeypatch):
    monkeypatch.setenv(dagster_runs.DAGSTER_URL_ENV, f"http://127.0.0.1:{_closed_port()}")
    attempts = []

    @flow(retries=0)
    def launch_once():
        state = tasks.run_dagster_job.with_options(retry_delay_seconds=0, on_failure=[lambda *a: None]).submit(
            "retrain_models"
        )
        attempts.append(state)
        return state.result()

    with pytest.raises(dagster_runs.DagsterTransportError):
        launch_once()
    run = attempts[0]

    # The task ran once and was retried TRANSPORT_RETRIES times before giving up.
    async def run_count() -> int:
        async with get_client() as client:
            task_run = await client.read_task_run(run.task_run_id)
            return task_run.run_count

    assert asyncio.run(run_count()) == tasks.TRANSPORT_RETRIES + 1


def test_a_failed_dagster_run_is_not_a_transport_error():
    failed = dagster_runs.DagsterRunFailed("check_continuity failed: 8 intervals missing")

    class _State:
        def result(self):
            raise failed

    assert tasks._is_transport_error(None, None, _State()) is False

    class _Transport:
        def result(self):
            raise dagster_runs.DagsterTransportError("connection refused")

    assert tasks._is_transport_error(None, None, _Transport()) is True


def test_a_failure_notice_is_posted_to_the_webhook(monkeypatch):
    received = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    monkeypatch.setenv(tasks.ALERT_WEBHOOK_ENV, f"http://127.0.0.1:{server.server_port}/alerts")

    @flow
    def failing():
        tasks.notify_failure("retrain", RuntimeError("check_usage_estimator_beats_champion errored"))

    try:
        failing()
        thread.join(timeout=10)
    finally:
        server.server_close()
    assert received == [
        {
            "flow": "retrain",
            "error": "check_usage_estimator_beats_champion errored",
            "text": "retrain failed: check_usage_estimator_beats_champion errored",
        }
    ]


def test_an_unreachable_webhook_does_not_hide_the_failure(monkeypatch):
    monkeypatch.setenv(tasks.ALERT_WEBHOOK_ENV, f"http://127.0.0.1:{_closed_port()}/alerts")

    @flow
    def failing():
        tasks.notify_failure("ingest", RuntimeError("boom"))
        return "notified"

    assert failing() == "notified"
