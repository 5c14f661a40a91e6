"""Opening dashboard pages in a real browser: what a test and the benchmark both need."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

LOOPBACK = ("127.", "localhost", "[::1]", "::1")
FORECAST_POINTS = '[data-testid="stVegaLiteChart"] [aria-roledescription="point"]'


def is_loopback(url: str) -> bool:
    scheme = urlsplit(url).scheme
    if scheme in ("data", "blob", "about", "chrome", "chrome-extension"):
        return True
    host = urlsplit(url).hostname or ""
    return host.startswith(LOOPBACK) or host == "localhost"


@dataclass
class Watched:
    """A page whose console errors and every request leaving loopback (refused) are recorded."""

    page: object
    console_errors: list[str] = field(default_factory=list)
    outside: list[str] = field(default_factory=list)


def watched_page(browser) -> Watched:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    watched = Watched(page)

    def route(route):
        if is_loopback(route.request.url):
            route.continue_()
        else:
            watched.outside.append(route.request.url)
            route.abort()

    context.route("**/*", route)
    page.on("console", lambda message: message.type == "error" and watched.console_errors.append(message.text))
    page.on("pageerror", lambda error: watched.console_errors.append(f"uncaught: {error}"))
    return watched


def wait_until_idle(page, timeout_ms: float = 60_000) -> None:
    """Until Streamlit has finished running the page's script (its status widget is gone)."""
    page.wait_for_selector('[data-testid="stApp"]', timeout=timeout_ms)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && document.querySelector('[data-testid=\"stMain\"] h1')",
        timeout=timeout_ms,
    )


def time_to_forecast_chart(page, url: str, points: int = 96, timeout_ms: float = 60_000) -> float:
    """Seconds from navigating to `url` until the forecast chart shows its `points` points."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        f"() => document.querySelectorAll('{FORECAST_POINTS}').length === {points}",
        timeout=timeout_ms,
    )
    return time.perf_counter() - start
