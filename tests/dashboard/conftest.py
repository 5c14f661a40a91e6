"""Fixtures of the dashboard tests: the API over the small registered models of the API tests
(tests/api/small_registry.py) on a free port, the dashboard served by Streamlit over it, and
Debian's Chromium driven by Playwright. The pages show what the API answers, whichever models it serves."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from tests.api.conftest import api_app, api_config, free_port, live_server, small_home  # noqa: F401  (fixtures reused)
from tests.postgres.conftest import BackgroundService

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VIEWS = PROJECT_ROOT / "dashboard" / "views"
CHROMIUM = Path(os.environ.get("ENERGY_CHROMIUM", "/usr/bin/chromium"))


@pytest.fixture(scope="session")
def api_url(api_app):  # noqa: F811
    with live_server(api_app) as url:
        yield url


@pytest.fixture
def on_api(api_url, monkeypatch):
    """Point the dashboard at the test API for one test."""
    monkeypatch.setenv("ENERGY_API_URL", api_url)
    return api_url


def app_test(page: str):
    """One page script under Streamlit's AppTest, with a timeout for a busy machine."""
    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(VIEWS / f"{page}.py"), default_timeout=120)


@pytest.fixture(scope="session")
def dashboard_url(api_url, tmp_path_factory):
    """`python -m dashboard` on a free loopback port, over the test API, as `make run` starts it."""
    port = free_port()
    service = BackgroundService(
        "dashboard",
        [sys.executable, "-m", "dashboard", "--host", "127.0.0.1", "--port", str(port)],
        {**os.environ, "ENERGY_API_URL": api_url},
        f"http://127.0.0.1:{port}/_stcore/health",
        tmp_path_factory.mktemp("dashboard") / "streamlit.log",
    )
    try:
        service.start().wait_healthy(timeout=90)
        yield f"http://127.0.0.1:{port}"
    finally:
        service.stop()


# Module scope: while Playwright's sync API is active it holds an asyncio loop on the main thread,
# and later tests that call asyncio.run() (Prefect's client in the flow tests) would fail.
@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium under Playwright; skipped when it is not installed, except under CI."""
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is not installed (`make browser` installs it with apt-get as root)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
        try:
            yield browser
        finally:
            browser.close()
