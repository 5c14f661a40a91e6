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
    failed: list[str] = field(default_factory=list)  # responses with an error status, for the messages


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
    page.on(
        "response",
        lambda response: response.status >= 400 and watched.failed.append(f"{response.status} {response.url}"),
    )
    page.on("pageerror", lambda error: watched.console_errors.append(f"uncaught: {error}"))
    return watched


def wait_until_idle(page, title: str, timeout_ms: float = 90_000) -> None:
    """Until the page titled `title` is shown and Streamlit has finished running its script."""
    page.wait_for_function(
        """title => {
            const app = document.querySelector('[data-testid="stApp"]');
            const heading = document.querySelector('[data-testid="stMain"] h1');
            return app && app.getAttribute('data-test-script-state') === 'notRunning'
                && heading && heading.innerText.trim() === title
                && !document.querySelector('[data-testid="stSkeleton"]');
        }""",
        arg=title,
        timeout=timeout_ms,
    )


def open_page(page, base_url: str, title: str) -> None:
    """Open the dashboard at its first page, then go to `title` through the sidebar, as a user does.

    (Opening a sub-page's URL directly makes Streamlit probe `<page>/_stcore/health` first, a 404 in
    the console: streamlit/streamlit#7074.)
    """
    page.goto(base_url)
    wait_until_idle(page, "Tomorrow")
    if title != "Tomorrow":
        page.locator('[data-testid="stSidebarNavLink"]', has_text=title).first.click()
        wait_until_idle(page, title)


def time_to_forecast_chart(page, url: str, points: int = 96, timeout_ms: float = 60_000) -> float:
    """Seconds from navigating to `url` until the forecast chart shows its `points` points."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_function(
        f"() => document.querySelectorAll('{FORECAST_POINTS}').length === {points}",
        timeout=timeout_ms,
    )
    return time.perf_counter() - start
