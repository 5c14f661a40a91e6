"""The copilot's MCP tools, driven by the official MCP client: over the API's streamable HTTP mount and over stdio.

Each tool is called with the arguments of its REST route and must answer the REST route's JSON.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.stdio import StdioServerParameters

from api.copilot_schemas import OptimizeRequest, ShiftRequest

from .conftest import live_server, schema_example

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SHIFT = schema_example(ShiftRequest)
POWER_FACTOR = {"bank_kvar": 50, "months": ["2018-03", "2018-04"]}
OPTIMIZE = schema_example(OptimizeRequest)

# tool name, its arguments, and the REST call that must answer the same
CALLS = [
    ("forecast_day", {"day": "2018-11-14", "cap_kw": 300}, ("get", "/forecast", {"day": "2018-11-14", "cap_kw": 300})),
    ("monthly_bill", {"month": "2018-03"}, ("get", "/copilot/bill", {"month": "2018-03"})),
    ("whatif_shift", {"request": SHIFT}, ("post", "/copilot/whatif/shift", SHIFT)),
    ("whatif_power_factor", {"request": POWER_FACTOR}, ("post", "/copilot/whatif/power-factor", POWER_FACTOR)),
    ("optimize_block", {"request": OPTIMIZE}, ("post", "/copilot/optimize", OPTIMIZE)),
    ("explain_day", {"day": "2018-11-16"}, ("get", "/copilot/explain", {"day": "2018-11-16"})),
]


def _rest(base: str, method: str, path: str, payload: dict) -> dict:
    with httpx.Client(base_url=base, timeout=120) as http:
        response = http.get(path, params=payload) if method == "get" else http.post(path, json=payload)
    assert response.status_code == 200, response.text
    return response.json()


async def _session(server) -> tuple[list[str], dict[str, dict], str]:
    """Tool names, each tool's structured answer, and the message of a call with a bad field."""
    async with Client(server, read_timeout_seconds=120) as client:
        tools = [tool.name for tool in (await client.list_tools()).tools]
        answers = {}
        for name, arguments, _ in CALLS:
            result = await client.call_tool(name, arguments)
            assert not result.is_error, (name, result.content)
            answers[name] = result.structured_content
        bad = await client.call_tool("monthly_bill", {"month": "2017-05"})
        assert bad.is_error
        return tools, answers, " ".join(getattr(c, "text", "") for c in bad.content)


@pytest.fixture(scope="module")
def served_api(api_config):
    from api.app import create_app

    with live_server(create_app(api_config)) as base:
        yield base


def _comparable(body: dict) -> dict:
    """The answer without the solver's own wall time, which differs between two solves of one problem."""
    if isinstance(body.get("solver"), dict):
        body = {**body, "solver": {k: v for k, v in body["solver"].items() if k != "solve_ms"}}
    return body


def _check(base: str, tools: list[str], answers: dict[str, dict], bad: str) -> None:
    assert sorted(tools) == sorted(name for name, _, _ in CALLS)
    for name, _, (method, path, payload) in CALLS:
        assert _comparable(answers[name]) == _comparable(_rest(base, method, path, payload)), name
    assert "month" in bad and "no readings" in bad


def test_tools_over_streamable_http_answer_what_rest_answers(served_api):
    tools, answers, bad = asyncio.run(_session(f"{served_api}/mcp/"))
    _check(served_api, tools, answers, bad)
    assert answers["forecast_day"]["peak_risk"]["cap_kw"] == 300 and answers["forecast_day"]["bands"] is True


def test_mcp_endpoint_refuses_a_foreign_host_header(served_api):
    # DNS-rebinding protection: a page on another site cannot drive the tools through the browser.
    response = httpx.post(
        f"{served_api}/mcp/", headers={"Host": "evil.example:80", "content-type": "application/json"}, json={}
    )
    assert response.status_code in (400, 403, 421), response.text


def test_tools_over_stdio_answer_what_rest_answers(served_api, small_home):
    # The server finds the registry from ENERGY_HOME, as `python -m api.mcp` does on a machine.
    env = {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}
    env.update({"ENERGY_HOME": str(small_home.home), "PYTHONPATH": str(PROJECT_ROOT)})
    params = StdioServerParameters(command=sys.executable, args=["-m", "api.mcp"], env=env, cwd=str(PROJECT_ROOT))
    tools, answers, bad = asyncio.run(_session(params))
    _check(served_api, tools, answers, bad)
