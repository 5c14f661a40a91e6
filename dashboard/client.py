"""The dashboard's only way to data: HTTP calls to the API at ENERGY_API_URL.

Failures become two exceptions a page can show as they are: `ApiUnreachable` (no answer from the
URL tried) and `ApiRefused` (an answer with an error status, with the API's own explanation).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

import requests

DEFAULT_API_URL = "http://127.0.0.1:8000"
TIMEOUT_SECONDS = 30.0


def api_url() -> str:
    return (os.environ.get("ENERGY_API_URL") or DEFAULT_API_URL).rstrip("/")


class ApiError(Exception):
    """The API did not give a usable answer; `str()` says what was tried and what happened."""

    def __init__(self, method: str, url: str, message: str):
        super().__init__(f"{method} {url}: {message}")
        self.method, self.url, self.message = method, url, message


class ApiUnreachable(ApiError):
    """Nothing answered at the URL (refused, timed out, name not resolved)."""


class ApiRefused(ApiError):
    """The API answered with an error status."""

    def __init__(self, method: str, url: str, status: int, detail: str):
        super().__init__(method, url, f"HTTP {status}: {detail}")
        self.status, self.detail = status, detail


def _reason(error: requests.RequestException) -> str:
    """The root cause of a failed connection in a few words, e.g. `[Errno 111] Connection refused`."""
    found = re.search(r"\[Errno -?\d+\] [^'\")]+", str(error))
    if found:
        return found.group(0)
    return "timed out" if isinstance(error, requests.Timeout) else type(error).__name__


def error_detail(response: requests.Response) -> str:
    """The API's `detail` as one line: a string as is, a list of field errors as `field: message; ...`."""
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return response.text[:300] or response.reason
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict):
                loc = ".".join(str(p) for p in item.get("loc", []) if p not in ("body", "query"))
                message = str(item.get("msg", item))
                parts.append(message if not loc or message.startswith(loc) else f"{loc}: {message}")
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail if detail is not None else response.text[:300])


@dataclass(frozen=True)
class ApiClient:
    base_url: str

    def request(self, method: str, path: str, *, params: dict | None = None, body: Any = None) -> Any:
        url = f"{self.base_url}{path}"
        try:
            response = requests.request(method, url, params=params, json=body, timeout=TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise ApiUnreachable(method, url, f"no answer ({_reason(error)})") from None
        if response.status_code >= 400:
            raise ApiRefused(method, response.url, response.status_code, error_detail(response))
        try:
            return response.json()
        except ValueError:
            raise ApiRefused(method, response.url, response.status_code, f"not JSON: {response.text[:120]!r}") from None

    def get(self, path: str, **params) -> Any:
        return self.request("GET", path, params={k: v for k, v in params.items() if v is not None} or None)

    def post(self, path: str, body: Any) -> Any:
        return self.request("POST", path, body=body)


def client() -> ApiClient:
    return ApiClient(api_url())
