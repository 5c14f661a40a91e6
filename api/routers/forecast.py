"""Day-ahead forecasts from the forecaster champion over the clean history: bands, cost and peak of the day."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import pandas as pd
from fastapi import APIRouter, Query

from api.deps import Champions, Config, CopilotOps, History, Metrics, Workers, json_response
from api.errors import SERVICE_UNAVAILABLE
from api.schemas import Forecast, HistorySpan, MonthlyActualVsForecast
from energy_assets import schema
from energy_assets.monitoring.champions import BACKTEST_ARTIFACT, load_backtest
from energy_assets.monitoring.performance import ErrorReferenceError
from energy_assets.settings import FORECASTER_MODEL_NAME
from energy_assets.training.evaluation import monthly_backtest

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
        None,
        gt=0,
        le=100_000,
        allow_inf_nan=False,
        description="A demand cap (kW): adds each interval's probability of exceeding it",
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
    return {
        "first_day": first,
        "last_day": last,
        "days": int(days.nunique()),
        "months": months,
        "next_day": last + dt.timedelta(days=1),
    }


@lru_cache(maxsize=4)
def _backtest(tracking_uri: str, run_id: str, label: str) -> pd.DataFrame:
    """A run's logged backtest, read once: a run's artifacts do not change."""
    return load_backtest(tracking_uri, run_id, label)


@router.get(
    "/forecast/monthly",
    response_model=MonthlyActualVsForecast,
    summary="Each month's actual usage against the forecaster champion's backtest forecast where it has one",
    responses=SERVICE_UNAVAILABLE,
)
async def monthly_actual_vs_forecast(champions: Champions, config: Config, history: History, workers: Workers):
    served = champions.require(FORECASTER_MODEL_NAME)

    def compute() -> dict:
        frame, version = history.snapshot()
        source = (
            f"the holdout backtest of {served.name} v{served.version} ({BACKTEST_ARTIFACT} of its MLflow run): "
            "day-ahead forecasts of days it never trained on"
        )
        try:
            backtest = _backtest(config.tracking_uri, served.run_id, f"{served.name} v{served.version}")
        except ErrorReferenceError as error:  # no backtest: the actuals alone, and why
            backtest, source = (
                pd.DataFrame({"timestamp": pd.to_datetime([]), "actual": [], "predicted": []}),
                str(error),
            )
        return {
            "months": monthly_backtest(frame, backtest),
            "forecast_source": source,
            "lineage": {**served.lineage(), "readings_version": version},
        }

    body = await workers.run(compute)
    return json_response(body, served.lineage_headers())
