"""Fixtures of the API tests: the app over the session's real champions, a live uvicorn server, readings."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import contextmanager

import pandas as pd
import pytest

API_TOKEN = "test-admin-token"


def reading_json(row: pd.Series) -> dict:
    """A clean reading as the API takes it: every estimator input column, JSON-typed."""
    from energy_assets import schema

    return schema.reading_json(row)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def live_server(app, timeout: float = 60.0):
    """The app under a real uvicorn on a free loopback port, stopped when the block ends."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
    thread = threading.Thread(target=server.run, name=f"uvicorn-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"uvicorn did not start on port {port} within {timeout} s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=30)


@pytest.fixture(scope="session")
def api_config(pipeline_result):
    from api.config import ApiConfig
    from energy_assets.settings import get_settings

    current = get_settings()
    return ApiConfig(
        tracking_uri=current.mlflow_tracking_uri,
        clean_readings_dir=current.asset_dir / "clean_readings",
        poll_seconds=3600,
        api_token=API_TOKEN,
        startup_wait_seconds=120,
    )


@pytest.fixture(scope="session")
def api_app(api_config):
    from api.app import create_app

    return create_app(api_config)


@pytest.fixture(scope="session")
def client(api_app):
    from fastapi.testclient import TestClient

    with TestClient(api_app) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def holdout(energy_home, pipeline_result) -> pd.DataFrame:
    from energy_assets.settings import get_settings

    return pd.read_parquet(get_settings().asset_dir / "holdout_readings.parquet")


@pytest.fixture
def reading(holdout) -> dict:
    return reading_json(holdout.iloc[40])
