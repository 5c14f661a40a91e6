"""What every page shares: the API client, cached look-ups, failure messages and lineage lines."""

from __future__ import annotations

import datetime as dt
from typing import Any

import streamlit as st

from dashboard.client import ApiError, ApiRefused, ApiUnreachable, client

# GET answers are kept this long: the champions and the history change on the pipeline's schedule.
CACHE_SECONDS = 30


@st.cache_data(ttl=CACHE_SECONDS, show_spinner=False)
def _cached_get(base_url: str, path: str, params: tuple) -> Any:
    from dashboard.client import ApiClient

    return ApiClient(base_url).get(path, **dict(params))


def get(path: str, **params) -> Any:
    """GET from the API, cached per URL and parameters; an ApiError is shown by `answer`."""
    return _cached_get(client().base_url, path, tuple(sorted(params.items())))


def post(path: str, body: Any) -> Any:
    return client().post(path, body)


def show_error(error: ApiError) -> None:
    """The failure as the operator should read it: which URL was tried and what happened."""
    if isinstance(error, ApiUnreachable):
        st.error(
            f"The API is not answering at **{client().base_url}** ({error.method} {error.url}: {error.message}). "
            "Start it (`make run` or `make serve`), or point ENERGY_API_URL at the API."
        )
    elif isinstance(error, ApiRefused) and error.status == 404:
        st.warning(
            f"The API at **{client().base_url}** does not serve {error.url} (HTTP 404): it is an older version of "
            "the API."
        )
    elif isinstance(error, ApiRefused) and error.status == 503:
        st.warning(f"The API at **{client().base_url}** has no model to answer with yet: {error.detail}")
    else:
        st.error(f"The API at **{client().base_url}** refused {error.method} {error.url}: {error.message}")


def answer(call, *args, **kwargs) -> Any | None:
    """Run one API call; on failure show why (never a stack trace) and return None."""
    try:
        return call(*args, **kwargs)
    except ApiError as error:
        show_error(error)
        return None


def lineage_line(lineage: dict | None) -> None:
    """One caption naming the model and the data behind the numbers on the page."""
    if not lineage:
        return
    parts = []
    if lineage.get("model_name"):
        parts.append(f"model {lineage['model_name']} v{lineage.get('model_version')}")
    for key, value in lineage.items():
        if key in ("model_name", "model_version") or value in (None, "", [], {}):
            continue
        if isinstance(value, dict):  # nested lineage (e.g. one entry per model)
            value = ", ".join(f"{k} {v}" for k, v in value.items() if v)
        elif isinstance(value, list):  # the models an answer used
            parts.extend(f"model {m.get('model_name')} v{m.get('model_version')}" for m in value if isinstance(m, dict))
            continue
        parts.append(f"{key.replace('_', ' ')} {str(value)[:80]}")
    st.caption("Lineage: " + "; ".join(parts))


def money(value: float | None, currency: str | None = None) -> str:
    if value is None:
        return "—"
    return f"{value:,.0f} {currency}".strip() if currency else f"{value:,.0f}"


def history_span() -> tuple[dict, dt.date, dt.date]:
    """GET /history: the span of clean readings and its first and last day; stops the page when there are none."""
    span = answer(get, "/history")
    if span is None:
        st.stop()
    if not span.get("last_day"):
        st.warning("The API has no clean readings yet: run the pipeline first.")
        st.stop()
    return span, dt.date.fromisoformat(span["first_day"]), dt.date.fromisoformat(span["last_day"])
