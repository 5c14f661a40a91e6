"""Day-ahead forecasts from the forecaster champion over the clean history: bands, cost and peak of the day."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query

from energy_assets import schema

from api.deps import CopilotOps, History, Metrics, Workers, json_response
from api.errors import SERVICE_UNAVAILABLE
from api.schemas import Forecast, HistorySpan

router = APIRouter(tags=["predictions"])


@router.get(
    "/forecast",
    response_model=Forecast,
    summary="The 96 interval forecasts of one day with their bands, the day's cost and peak",
    responses=SERVICE_UNAVAILABLE,
)
async def forecast(
    copilot: CopilotOps,
    metrics: Metrics,
    workers: Workers,
    day: dt.date = Query(..., description="The day to forecast, YYYY-MM-DD", examples=["2018-11-14"]),
    cap_kw: float | None = Query(
        None, gt=0, le=100_000, allow_inf_nan=False, description="A demand cap (kW): adds each interval's probability of exceeding it"
    ),
):
    body, served = await workers.run(lambda: copilot.forecast(day, cap_kw))
    metrics.predictions.labels(served.name, served.version).inc(schema.INTERVALS_PER_DAY)
    return json_response(body, served.lineage_headers())


@router.get("/history", response_model=HistorySpan, summary="The days and months the clean readings cover")
async def history_span(history: History):
    days = history.frame()["_day"]
    if days.empty:
        return {"first_day": None, "last_day": None, "days": 0, "months": [], "next_day": None}
    first, last = days.iloc[0].date(), days.iloc[-1].date()
    months = sorted(days.dt.strftime("%Y-%m").unique().tolist())
    return {"first_day": first, "last_day": last, "days": int(days.nunique()), "months": months, "next_day": last + dt.timedelta(days=1)}
