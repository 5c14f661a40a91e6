"""The copilot over REST: monthly bills, what-if scenarios, the block scheduler and explanations, each with its lineage.

The numbers come from `energy_assets.copilot` through `api.operations.Copilot`, the same calls the
MCP tools make. Bad input is 422 naming the field and why; a missing champion or an unusable
tariff file is 503 saying which.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Query

from api.copilot_schemas import (
    MONTH_PATTERN,
    BillAnswer,
    ExplainAnswer,
    OptimizeAnswer,
    OptimizeRequest,
    PowerFactorAnswer,
    PowerFactorRequest,
    ShiftAnswer,
    ShiftRequest,
)
from api.deps import CopilotOps, Workers, json_response
from api.schemas import ErrorMessage

router = APIRouter(prefix="/copilot", tags=["copilot"])

UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "model": ErrorMessage,
        "description": "No clean readings, no forecaster champion, or an unusable tariff file (the message says which)",
    }
}


@router.get(
    "/bill",
    response_model=BillAnswer,
    summary="The bill of one month: energy by period, demand, power factor, total, CO2",
    responses=UNAVAILABLE,
)
async def bill(
    copilot: CopilotOps,
    workers: Workers,
    month: str = Query(..., pattern=MONTH_PATTERN, description="The month, YYYY-MM", examples=["2018-03"]),
):
    return json_response(await workers.run(lambda: copilot.bill(month)))


@router.post(
    "/whatif/shift",
    response_model=ShiftAnswer,
    summary="Move energy between two windows on past days: profiles, bill delta, new peak, CO2",
    responses=UNAVAILABLE,
)
async def whatif_shift(request: ShiftRequest, copilot: CopilotOps, workers: Workers):
    return json_response(await workers.run(lambda: copilot.whatif_shift(request)))


@router.post(
    "/whatif/power-factor",
    response_model=PowerFactorAnswer,
    summary="A capacitor bank or a target power factor: adjustment per month, saving, smallest bank, payback",
    responses=UNAVAILABLE,
)
async def whatif_power_factor(request: PowerFactorRequest, copilot: CopilotOps, workers: Workers):
    return json_response(await workers.run(lambda: copilot.whatif_power_factor(request)))


@router.post(
    "/optimize",
    response_model=OptimizeAnswer,
    summary="Schedule a deferrable block on a forecast day at least cost (MILP, HiGHS), optionally under a peak cap",
    responses=UNAVAILABLE,
)
async def optimize(request: OptimizeRequest, copilot: CopilotOps, workers: Workers):
    return json_response(await workers.run(lambda: copilot.optimize(request)))


@router.get(
    "/explain",
    response_model=ExplainAnswer,
    summary=(
        "Why a past day's peak was what it was: forecast and band, typical day, feature contributions, period, "
        "power factor"
    ),
    responses=UNAVAILABLE,
)
async def explain(
    copilot: CopilotOps,
    workers: Workers,
    day: dt.date = Query(..., description="A past day with readings, YYYY-MM-DD", examples=["2018-11-16"]),
):
    return json_response(await workers.run(lambda: copilot.explain(day)))
