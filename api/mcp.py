"""The copilot's operations as tools of a Model Context Protocol server (the official `mcp` SDK).

Any MCP-capable client (an LLM desktop app, an agent) can use the copilot through these tools; every
number is computed here, by the same `api.operations.Copilot` calls the REST routes make, so a tool
answers exactly what its route answers. No language model ships with or is called by the project.

Two ways to reach it:
- mounted in the API (streamable HTTP) at `/mcp/` of the API's address, e.g. http://127.0.0.1:8000/mcp/;
- `python -m api.mcp` (stdio): a process of its own over the same registry, readings and tariff,
  configured by the same environment as the API (ENERGY_HOME, MLFLOW_TRACKING_URI, ENERGY_TARIFF).

Tool arguments are the REST route's query parameters or body; a bad argument is a tool error whose
message names the field and why.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.transport_security import TransportSecuritySettings
from pydantic import Field, ValidationError

from api.copilot_schemas import MONTH_PATTERN, OptimizeRequest, PowerFactorRequest, ShiftRequest
from api.history import ForecastUnavailable
from api.operations import Copilot, CopilotUnavailable
from api.registry import ModelNotServed
from energy_assets.copilot.errors import CopilotInputError

log = logging.getLogger("api.mcp")

INSTRUCTIONS = (
    "Energy Optimization Copilot for a steel plant's 15-minute electricity readings. Tools answer with numbers "
    "computed from the plant's readings, the day-ahead forecaster and the tariff file: forecast_day (tomorrow's use, "
    "bands, cost and peak), monthly_bill, whatif_shift (move load between hours), whatif_power_factor (capacitor "
    "bank / target power factor), optimize_block (least-cost schedule of a production block) and explain_day (why "
    "a past day peaked). Every answer carries its lineage: model versions, readings version, tariff version."
)

Runner = Callable[[Callable[[], dict]], Awaitable[dict]]


async def _in_thread(fn: Callable[[], dict]) -> dict:
    import anyio.to_thread

    return await anyio.to_thread.run_sync(fn)


def build_server(copilot: Copilot, run: Runner = _in_thread) -> MCPServer:
    """An MCP server whose tools call `copilot` (through `run`, which puts the CPU work off the event loop)."""
    server = MCPServer(
        name="energy-copilot", title="Energy Optimization Copilot", instructions=INSTRUCTIONS, version="0.1.0"
    )

    async def answer(fn: Callable[[], dict]) -> dict:
        try:
            return await run(fn)
        except CopilotInputError as error:
            raise ToolError(f"{error.field}: {error.reason}") from None
        except ForecastUnavailable as error:
            raise ToolError(f"day: {error}") from None
        except ValidationError as error:
            raise ToolError(str(error)) from None
        except (ModelNotServed, CopilotUnavailable) as error:
            raise ToolError(f"unavailable: {error}") from None

    @server.tool(
        description="The 96 interval forecasts of a day (kWh) with the quantiles p025..p975, the day's cost and peak; "
        "with cap_kw, each interval's probability of exceeding that demand. Same answer as GET /forecast."
    )
    async def forecast_day(
        day: Annotated[dt.date, Field(description="The day to forecast, YYYY-MM-DD")],
        cap_kw: Annotated[float | None, Field(gt=0, le=100_000, description="A demand cap in kW")] = None,
    ) -> dict[str, Any]:
        return await answer(lambda: copilot.forecast(day, cap_kw)[0])

    @server.tool(
        description="The bill of a month with readings: energy charge by tariff period, billing demand and demand "
        "charge, power-factor adjustment, total and CO2. Same answer as GET /copilot/bill."
    )
    async def monthly_bill(
        month: Annotated[str, Field(pattern=MONTH_PATTERN, description="The month, YYYY-MM")],
    ) -> dict[str, Any]:
        return await answer(lambda: copilot.bill(month))

    @server.tool(
        description="Move energy from one time window to another on past days: profiles, bill before/after and "
        "the delta per component, the new peak, CO2. Same answer as POST /copilot/whatif/shift."
    )
    async def whatif_shift(request: ShiftRequest) -> dict[str, Any]:
        return await answer(lambda: copilot.whatif_shift(request))

    @server.tool(
        description="A capacitor bank (kVAr) or a target lagging power factor: power factor and adjustment per month "
        "before/after, saving, smallest standard bank, payback. Same answer as POST /copilot/whatif/power-factor."
    )
    async def whatif_power_factor(request: PowerFactorRequest) -> dict[str, Any]:
        return await answer(lambda: copilot.whatif_power_factor(request))

    @server.tool(
        description="Schedule a deferrable production block on a forecast day at least cost (a MILP solved by HiGHS), "
        "optionally under a peak cap: the schedule, its cost against running as early as allowed, whether the cap "
        "binds. Same answer as POST /copilot/optimize."
    )
    async def optimize_block(request: OptimizeRequest) -> dict[str, Any]:
        return await answer(lambda: copilot.optimize(request))

    @server.tool(
        description=(
            "Why a past day's peak was what it was: the peak, the forecast and its band there, the typical day of "
            "the same kind, the features that moved the forecast (SHAP), the tariff period and power factor, each "
            "with one plain sentence. Same answer as GET /copilot/explain."
        )
    )
    async def explain_day(
        day: Annotated[dt.date, Field(description="A past day with readings, YYYY-MM-DD")],
    ) -> dict[str, Any]:
        return await answer(lambda: copilot.explain(day))

    return server


class LifespanMount:
    """The ASGI app at /mcp/: the streamable HTTP app made by the API's current lifespan (503 before one runs)."""

    def __init__(self):
        self.app = None

    async def __call__(self, scope, receive, send):
        if self.app is None:
            from starlette.responses import JSONResponse

            response = JSONResponse(
                {"detail": "the MCP tools start with the API's lifespan (serve it with uvicorn)"}, status_code=503
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


def transport_security(allowed_hosts: tuple[str, ...]) -> TransportSecuritySettings:
    """DNS-rebinding protection: requests must name this machine (loopback) or one of `allowed_hosts`."""
    hosts = ["127.0.0.1:*", "localhost:*", "[::1]:*", *allowed_hosts]
    origins = [f"http://{h}" for h in hosts] + [f"https://{h}" for h in allowed_hosts]
    return TransportSecuritySettings(enable_dns_rebinding_protection=True, allowed_hosts=hosts, allowed_origins=origins)


def main(argv: list[str] | None = None) -> int:
    """`python -m api.mcp`: the tools over stdio, on the champions of the configured registry."""
    import argparse

    from api.config import from_environment
    from api.history import CleanHistory
    from api.registry import ChampionRegistry

    parser = argparse.ArgumentParser(prog="python -m api.mcp", description=main.__doc__)
    parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = from_environment()
    champions = ChampionRegistry(config.tracking_uri)
    with contextlib.redirect_stdout(sys.stderr):  # stdout carries the protocol: nothing else may write there
        outcomes = champions.refresh()
    for name, outcome in outcomes.items():
        if outcome.error:
            log.warning("%s: %s (its tools answer 'unavailable')", name, outcome.error)
    build_server(Copilot(champions, CleanHistory(config.clean_readings_dir))).run("stdio")
    return 0


if __name__ == "__main__":
    sys.exit(main())
