"""Fixtures of the API tests: the app over a small registered model (fast), a live uvicorn server, readings.

Two layers:
- the tests of this folder and of routers/ stand on `small_home` (tests/api/small_registry.py): the
  real clean readings and both models registered in a real MLflow registry, small, built once per
  session in seconds. `client`, `api_app`, `api_config`, `mlflow_client`, `holdout` and `reading`
  are that home's. One app serves the session; a test that needs the app to see something else
  (another config, a copilot with another tariff) swaps that service with `app.dependency_overrides`
  through the `override` fixture, which puts it back after the test.
- end_to_end/ redefines the same fixture names over the session's full-graph pipeline run
  (tests/conftest.py), for what only the pipeline's own champions can show.
"""

from __future__ import annotations

import socket
import threading
import time
import typing
from contextlib import contextmanager
from dataclasses import dataclass, field

import pandas as pd
import pytest

from tests.api.small_registry import SmallHome, build_small_home
from tests.conftest import BUNDLED_CSV

API_TOKEN = "test-admin-token"


def reading_json(row: pd.Series) -> dict:
    """A clean reading as the API takes it: every estimator input column, JSON-typed."""
    from energy_assets import schema

    return schema.reading_json(row)


def schema_example(model: type) -> dict:
    """The first example a request model shows in the OpenAPI document: the tests send what the docs show."""
    return dict(model.model_config["json_schema_extra"]["examples"][0])


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


def served_config(tracking_uri: str, clean_readings_dir):
    """The API's configuration in the tests: no polling (reloads are explicit), the test token."""
    from api.config import ApiConfig

    return ApiConfig(
        tracking_uri=tracking_uri,
        clean_readings_dir=clean_readings_dir,
        poll_seconds=3600,
        api_token=API_TOKEN,
        startup_wait_seconds=120,
    )


@pytest.fixture(scope="session")
def small_home(tmp_path_factory) -> SmallHome:
    return build_small_home(tmp_path_factory.mktemp("small-home"), BUNDLED_CSV)


@pytest.fixture(scope="session")
def mlflow_client(small_home):
    return small_home.client()


@pytest.fixture(scope="session")
def api_config(small_home):
    return served_config(small_home.tracking_uri, small_home.clean_readings_dir)


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
def holdout(small_home) -> pd.DataFrame:
    return small_home.holdout


@pytest.fixture
def reading(holdout) -> dict:
    return reading_json(holdout.iloc[40])


def provider(alias):
    """The dependency function behind one of api.deps' `Annotated` aliases (deps.Config -> its provider)."""
    return typing.get_args(alias)[1].dependency


@dataclass
class Overrides:
    """`override(deps.Config, value)`: the session's app uses `value` for that service until the test ends."""

    app: typing.Any
    replaced: list = field(default_factory=list)

    def __call__(self, alias, value) -> None:
        dependency = provider(alias)
        self.replaced.append(dependency)
        self.app.dependency_overrides[dependency] = lambda: value


@pytest.fixture
def override(api_app, client):
    overrides = Overrides(api_app)
    try:
        yield overrides
    finally:
        for dependency in overrides.replaced:
            api_app.dependency_overrides.pop(dependency, None)
