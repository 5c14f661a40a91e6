"""Day-ahead forecasts from the forecaster champion over the clean history."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Query

from energy_assets import schema
from energy_assets.settings import FORECASTER_MODEL_NAME

from api import history as clean_history
from api.deps import Champions, History, Metrics, Workers, json_response
from api.errors import SERVICE_UNAVAILABLE, InputRejected
from api.schemas import Forecast, HistorySpan

router = APIRouter(tags=["predictions"])


@router.get(
    "/forecast",
    response_model=Forecast,
    summary="The 96 interval forecasts of one day from the forecaster champion",
    responses=SERVICE_UNAVAILABLE,
)
async def forecast(
    champions: Champions,
    history: History,
    metrics: Metrics,
    workers: Workers,
    day: dt.date = Query(..., description="The day to forecast, YYYY-MM-DD"),
):
    served = champions.require(FORECASTER_MODEL_NAME)

    def run():
        try:
            prepared = clean_history.forecast_input(history.frame(), day)
        except clean_history.ForecastUnavailable as error:
            raise InputRejected(("query", "day"), str(error), "forecast_unavailable") from None
        predicted = served.predict_frame(prepared.frame)[-schema.INTERVALS_PER_DAY:]
        return prepared, predicted

    prepared, predicted = await workers.run(run)
    rows = prepared.frame.iloc[-schema.INTERVALS_PER_DAY:]
    intervals = [
        {"timestamp": ts.isoformat(), "usage_kwh": float(value), "load_type": load}
        for ts, value, load in zip(rows[schema.TIMESTAMP], predicted, rows["load_type"])
    ]
    metrics.predictions.labels(served.name, served.version).inc(len(intervals))
    body = {
        "day": day.isoformat(),
        "load_type_source": prepared.load_type_source,
        "history_days": prepared.history_days,
        "intervals": intervals,
        "lineage": served.lineage(),
    }
    return json_response(body, served.lineage_headers())


@router.get("/history", response_model=HistorySpan, summary="The days and months the clean readings cover")
async def history_span(history: History):
    days = history.frame()["_day"]
    if days.empty:
        return {"first_day": None, "last_day": None, "days": 0, "months": [], "next_day": None}
    first, last = days.iloc[0].date(), days.iloc[-1].date()
    months = sorted(days.dt.strftime("%Y-%m").unique().tolist())
    return {"first_day": first, "last_day": last, "days": int(days.nunique()), "months": months, "next_day": last + dt.timedelta(days=1)}
