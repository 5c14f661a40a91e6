"""Every page in Debian's Chromium (Playwright): no console error, nothing leaves loopback, the
forecast chart's 96 points, a what-if submitted in the browser, the API's /docs. Screenshots of
each page are saved in the test's temporary folder."""

from __future__ import annotations

import pytest

from tests.dashboard.browser import FORECAST_POINTS, open_page, time_to_forecast_chart, watched_page

PAGES = {
    "tomorrow": "Tomorrow",
    "bills": "Bills",
    "whatif": "What-if",
    "explain": "Explain",
    "models": "Models",
}


@pytest.fixture
def watched(chromium):
    watched = watched_page(chromium)
    yield watched
    watched.page.context.close()


@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_offline_without_console_errors(path, watched, dashboard_url, tmp_path):
    page = watched.page
    open_page(page, dashboard_url, PAGES[path])
    if path == "tomorrow":
        page.wait_for_function(f"() => document.querySelectorAll('{FORECAST_POINTS}').length > 0", timeout=60_000)
    page.screenshot(path=str(tmp_path / f"{path}.png"), full_page=True)
    assert not page.locator('[data-testid="stException"]').count(), page.locator(
        '[data-testid="stException"]'
    ).first.inner_text()
    assert not watched.console_errors, (watched.console_errors, watched.failed)
    assert not watched.outside, f"requests left the machine: {watched.outside}"


def test_the_forecast_chart_shows_96_points(watched, dashboard_url):
    seconds = time_to_forecast_chart(watched.page, dashboard_url)
    assert watched.page.locator(FORECAST_POINTS).count() == 96
    assert seconds > 0
    assert not watched.outside, watched.outside


def test_a_whatif_submitted_in_the_browser_shows_the_api_s_saving(watched, dashboard_url, api_url, tmp_path):
    import requests

    from tests.dashboard.test_pages import money, shift_body

    page = watched.page
    open_page(page, dashboard_url, "What-if")
    page.get_by_role("button", name="Compute the shift").click()
    saving = page.locator('[data-testid="stMetric"]', has_text="Saving (shift)")
    saving.wait_for(timeout=90_000)
    page.wait_for_selector('[data-testid="stVegaLiteChart"]', timeout=60_000)
    page.screenshot(path=str(tmp_path / "whatif-shift.png"), full_page=True)
    last_day = requests.get(f"{api_url}/history", timeout=30).json()["last_day"]
    answer = requests.post(f"{api_url}/copilot/whatif/shift", json=shift_body(last_day), timeout=120).json()
    shown = saving.locator('[data-testid="stMetricValue"]').inner_text().strip()
    assert shown == money(-answer["delta_total"]["total"], answer["tariff"]["currency"])
    assert not watched.console_errors, (watched.console_errors, watched.failed)
    assert not watched.outside, watched.outside


def test_the_api_docs_render_their_operations_offline(watched, api_url, tmp_path):
    import requests

    operations = sum(
        len(methods) for methods in requests.get(f"{api_url}/openapi.json", timeout=30).json()["paths"].values()
    )
    page = watched.page
    page.goto(f"{api_url}/docs")
    page.wait_for_selector(".opblock", timeout=60_000)
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
    assert page.locator(".opblock").count() == operations
    assert not watched.console_errors, (watched.console_errors, watched.failed)
    assert not watched.outside, f"requests left the machine: {watched.outside}"
