"""Fuzzing the API against its own OpenAPI document: no 5xx, and every answer matches the document.

Bounded examples per operation keep this within seconds. Calendar-inconsistent readings and days
without history are legitimately refused with 422, so the checks are the conformance ones, not
"schema-valid input must be accepted".
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import API_TOKEN

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def fuzzed_app(api_app, client):
    # `client` has run the app's lifespan: the champions are loaded, so 503 cannot excuse a 5xx.
    assert api_app.state.champions.ready
    return api_app


def _fuzz(operation, headers):
    """A Hypothesis test of one operation: generated requests, each validated against the schema."""

    @given(case=operation.as_strategy())
    @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True, database=None)
    def fuzz(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    return fuzz


def test_no_server_errors_and_documented_responses(fuzzed_app):
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzzed_app)
    tested = []
    for result in schema.get_all_operations():
        operation = result.ok()
        headers = {"Authorization": f"Bearer {API_TOKEN}"} if operation.path == "/admin/reload" else None

        _fuzz(operation, headers)()
        tested.append(f"{operation.method.upper()} {operation.path}")
    assert {"POST /predict", "POST /predict/batch", "GET /forecast", "GET /model", "POST /admin/reload"} <= set(tested)
    copilot = {
        "GET /copilot/bill",
        "POST /copilot/whatif/shift",
        "POST /copilot/whatif/power-factor",
        "POST /copilot/optimize",
        "GET /copilot/explain",
    }
    assert copilot <= set(tested)
