"""The prediction service: FastAPI app factory and lifespan.

`create_app()` wires the champion registry (api.registry), the clean history (api.forecast) and
the metrics (api.metrics) into the endpoints. Start-up never fails on the registry: without
champions the app serves /health (degraded), /ready (503) and 503s that name the model and URI.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from threadpoolctl import threadpool_limits

from energy_assets import schema
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME, masked

from api import forecast as forecasting
from api.config import ApiConfig, from_environment
from api.metrics import ApiMetrics, MetricsMiddleware
from api.registry import ChampionRegistry, ModelNotServed
from api.schemas import (
    MAX_BATCH_ROWS,
    BatchPrediction,
    BatchRequest,
    ErrorMessage,
    Forecast,
    Health,
    HistorySpan,
    ModelsInfo,
    Prediction,
    Ready,
    Reading,
    ReloadResult,
    batch_calendar_problems,
)

log = logging.getLogger("api")

# The regressor was fitted on a named frame; the single-row path hands it the same columns as an
# array, which is what it computes on anyway.
warnings.filterwarnings("ignore", message="X does not have valid feature names", category=UserWarning)

SERVICE_UNAVAILABLE = {503: {"model": ErrorMessage, "description": "The model is not loaded (the message names it and the registry)"}}


# 10,000 readings take about 3 MB of JSON; a body far larger is refused before it is read.
MAX_BODY_BYTES = 16 * 1024 * 1024


class BodySizeLimit:
    """413 for a request whose Content-Length exceeds MAX_BODY_BYTES, before reading or parsing it."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length" and value.isdigit() and int(value) > MAX_BODY_BYTES:
                    response = JSONResponse(
                        {"detail": f"request body of {int(value):,} bytes is over the limit of {MAX_BODY_BYTES:,} bytes "
                         f"(a batch holds at most {MAX_BATCH_ROWS:,} readings)"},
                        status_code=413,
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


def _one_openmp_thread() -> None:
    threadpool_limits(limits=1, user_api="openmp")


class ForecastRejected(Exception):
    def __init__(self, message: str):
        self.message = message


def _json(body: dict, headers: dict[str, str] | None = None, status_code: int = 200) -> Response:
    # Serialized once by hand: the handlers build plain dicts, so a second validation pass is waste.
    return Response(json.dumps(body, allow_nan=False).encode(), status_code=status_code, media_type="application/json", headers=headers)


def _allowed(field: str) -> str | None:
    if field in schema.NUMERIC:
        spec = schema.NUMERIC[field]
        step = f", a multiple of {schema.NSM_STEP_SECONDS}" if field == "nsm" else ""
        return f"a number between {spec.minimum:g} and {spec.maximum:g} ({spec.unit}){step}"
    if field in schema.CATEGORIES:
        return f"one of {list(schema.CATEGORIES[field])}"
    if field == schema.TIMESTAMP:
        return "an ISO 8601 date-time in plant local time, e.g. 2018-10-01T08:15:00"
    return None


def _validation_details(errors) -> list[dict]:
    details = []
    for error in errors:
        loc = [part for part in error.get("loc", ()) if isinstance(part, (str, int))]
        field = next((p for p in reversed(loc) if isinstance(p, str)), "body")
        where = ".".join(str(p) for p in loc[1:]) or str(loc[0] if loc else "body")
        allowed = _allowed(field)
        message = f"{where}: {error.get('msg', 'invalid')}" + (f"; allowed: {allowed}" if allowed else "")
        detail = {"loc": loc, "msg": message, "type": str(error.get("type", "value_error"))}
        if allowed:
            detail["allowed"] = allowed
        details.append(detail)
    return details


def _readings_frame(readings) -> pd.DataFrame:
    """Validated readings as the estimator's input frame (schema column order and dtypes).

    Built column by column from typed arrays: several times faster than letting pandas infer types.
    """
    data = {}
    for name in schema.ESTIMATOR_INPUT_COLUMNS:
        values = [getattr(r, name) for r in readings]
        data[name] = np.array(values, dtype=schema.DTYPES[name])
    return pd.DataFrame(data, copy=False)


def create_app(config: ApiConfig | None = None) -> FastAPI:
    config = config or from_environment()
    metrics = ApiMetrics()
    champions = ChampionRegistry(
        config.tracking_uri,
        on_swap=lambda new, old: metrics.swaps.labels(new.name).inc(),
        on_failure=lambda name: metrics.load_failures.labels(name).inc(),
    )
    metrics.watch(champions)
    history = forecasting.CleanHistory(config.clean_readings_dir)
    bearer = HTTPBearer(auto_error=False, description="ENERGY_API_TOKEN of the server")
    # Large batches and forecasts run off the event loop, on threads limited to one OpenMP thread
    # like the loop itself (the limit is per thread).
    pool: dict[str, ThreadPoolExecutor] = {}

    async def model_work(fn):
        if "executor" not in pool:  # made on first use: the app may also be served without its lifespan
            pool["executor"] = ThreadPoolExecutor(max_workers=2, thread_name_prefix="model", initializer=_one_openmp_thread)
        return await asyncio.get_running_loop().run_in_executor(pool["executor"], fn)

    async def poll_registry() -> None:
        while True:
            await asyncio.sleep(config.poll_seconds)
            try:
                await asyncio.to_thread(champions.refresh)
            except Exception:  # keep polling whatever one round did
                log.exception("registry poll failed")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI):
        # One OpenMP thread: the trees' per-call thread start costs far more than a small
        # prediction on a busy machine; concurrency comes from requests, not from threads.
        limiter = threadpool_limits(limits=1, user_api="openmp")
        first_load = asyncio.create_task(asyncio.to_thread(champions.refresh))
        await asyncio.wait({first_load}, timeout=config.startup_wait_seconds)
        if not champions.ready:
            log.warning("starting degraded: %s", {n: champions.status(n).last_error for n in champions.names})
        poller = asyncio.create_task(poll_registry())
        try:
            yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            if not first_load.done():
                first_load.cancel()
            limiter.restore_original_limits()
            if "executor" in pool:
                pool.pop("executor").shutdown(wait=False, cancel_futures=True)

    app = FastAPI(
        title="Energy Optimization Copilot API",
        version="0.1.0",
        description=(
            "Usage estimates and day-ahead forecasts from the champion models in the MLflow registry, "
            "with the lineage of the model behind every answer. See docs/api.md."
        ),
        lifespan=lifespan,
    )
    app.state.champions = champions
    app.state.metrics = metrics
    app.state.config = config
    app.add_middleware(BodySizeLimit)
    app.add_middleware(MetricsMiddleware, metrics=metrics)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        for error in errors:
            loc = tuple(error.get("loc", ()))
            if error.get("type") == "batch_too_large" or (error.get("type") == "too_long" and loc[:2] == ("body", "readings")):
                got = (error.get("ctx") or {}).get("actual_length")
                return JSONResponse(
                    {"detail": f"a batch holds at most {MAX_BATCH_ROWS:,} readings" + (f"; got {got:,}" if got else "")},
                    status_code=413,
                )
        return JSONResponse({"detail": _validation_details(errors)}, status_code=422)

    @app.exception_handler(ModelNotServed)
    async def model_not_served(request: Request, exc: ModelNotServed):
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(ForecastRejected)
    async def forecast_rejected(request: Request, exc: ForecastRejected):
        detail = [{"loc": ["query", "day"], "msg": exc.message, "type": "forecast_unavailable"}]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.get("/health", response_model=Health, tags=["service"], summary="Liveness, and which models are loaded")
    async def health():
        models = {}
        for name in champions.names:
            served, status = champions.get(name), champions.status(name)
            models[name] = {
                "loaded": served is not None,
                "version": served.version if served else None,
                "last_error": status.last_error,
                "last_checked": status.last_checked,
            }
        return {"status": "ok" if champions.healthy else "degraded", "tracking_uri": masked(config.tracking_uri), "models": models}

    @app.get(
        "/ready",
        response_model=Ready,
        tags=["service"],
        summary="200 once every champion is loaded, else 503",
        responses={503: {"model": Ready, "description": "A champion is not loaded"}},
    )
    async def ready():
        if champions.ready:
            return {"ready": True, "detail": "serving " + ", ".join(f"{m.name} v{m.version}" for m in champions.served())}
        missing = [n for n in champions.names if champions.get(n) is None]
        reasons = "; ".join(f"{n}: {champions.status(n).last_error or 'not loaded yet'}" for n in missing)
        return JSONResponse(
            {"ready": False, "detail": f"no champion loaded from {masked(config.tracking_uri)} for {reasons}"}, status_code=503
        )

    @app.post(
        "/predict",
        response_model=Prediction,
        tags=["predictions"],
        summary="usage_kwh of one reading, with the lineage of the model",
        responses=SERVICE_UNAVAILABLE,
    )
    async def predict(reading: Reading):  # type: ignore[valid-type]
        served = champions.require(ESTIMATOR_MODEL_NAME)  # taken once: this request's model, start to end
        if served.fast_features is not None:
            value = served.regressor.predict(served.fast_features(reading))[0]
        else:
            value = served.predict_frame(_readings_frame([reading]))[0]
        metrics.predictions.labels(served.name, served.version).inc()
        return _json({"usage_kwh": float(value), "lineage": served.lineage()}, served.lineage_headers())

    @app.post(
        "/predict/batch",
        response_model=BatchPrediction,
        tags=["predictions"],
        summary=f"usage_kwh of up to {MAX_BATCH_ROWS:,} readings, in request order",
        responses={
            **SERVICE_UNAVAILABLE,
            413: {"model": ErrorMessage, "description": f"More than {MAX_BATCH_ROWS:,} readings"},
        },
    )
    async def predict_batch(batch: BatchRequest):
        served = champions.require(ESTIMATOR_MODEL_NAME)

        def run() -> np.ndarray | list[tuple[int, str]]:
            aware = [(i, "timestamp: give the plant's local time without a UTC offset") for i, r in enumerate(batch.readings) if r.timestamp.tzinfo]
            if aware:
                return aware
            frame = _readings_frame(batch.readings)
            problems = batch_calendar_problems(frame)
            return problems if problems else served.predict_frame(frame)

        values = run() if len(batch.readings) <= 1000 else await model_work(run)
        if isinstance(values, list):
            detail = [{"loc": ["body", "readings", row, "timestamp"], "msg": f"readings.{row}: {message}", "type": "value_error"} for row, message in values[:100]]
            return JSONResponse({"detail": detail}, status_code=422)
        metrics.predictions.labels(served.name, served.version).inc(len(values))
        return _json({"usage_kwh": values.astype(float).tolist(), "lineage": served.lineage()}, served.lineage_headers())

    @app.get(
        "/forecast",
        response_model=Forecast,
        tags=["predictions"],
        summary="The 96 interval forecasts of one day from the forecaster champion",
        responses=SERVICE_UNAVAILABLE,
    )
    async def forecast(day: dt.date = Query(..., description="The day to forecast, YYYY-MM-DD")):
        served = champions.require(FORECASTER_MODEL_NAME)

        def run():
            try:
                prepared = forecasting.forecast_input(history.frame(), day)
            except forecasting.ForecastUnavailable as error:
                raise ForecastRejected(str(error)) from None
            predicted = served.predict_frame(prepared.frame)[-schema.INTERVALS_PER_DAY:]
            return prepared, predicted

        prepared, predicted = await model_work(run)
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
        return _json(body, served.lineage_headers())

    @app.get("/history", response_model=HistorySpan, tags=["predictions"], summary="The days and months the clean readings cover")
    async def history_span():
        days = history.frame()["_day"]
        if days.empty:
            return {"first_day": None, "last_day": None, "days": 0, "months": [], "next_day": None}
        first, last = days.iloc[0].date(), days.iloc[-1].date()
        months = sorted(days.dt.strftime("%Y-%m").unique().tolist())
        return {"first_day": first, "last_day": last, "days": int(days.nunique()), "months": months, "next_day": last + dt.timedelta(days=1)}

    @app.get("/model", response_model=ModelsInfo, tags=["models"], summary="Lineage and holdout metrics of each served model")
    async def model_info():
        return {"tracking_uri": masked(config.tracking_uri), "models": [m.describe() for m in champions.served()]}

    @app.post(
        "/admin/reload",
        response_model=ReloadResult,
        tags=["models"],
        summary="Look the champions up in the registry now and swap in new versions",
        responses={
            401: {"model": ErrorMessage, "description": "No bearer token"},
            403: {"model": ErrorMessage, "description": "Wrong token, or reload disabled (no ENERGY_API_TOKEN)"},
        },
    )
    async def reload(credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
        if not config.api_token:
            return JSONResponse(
                {"detail": "admin reload is disabled: the server has no ENERGY_API_TOKEN configured"}, status_code=403
            )
        if credentials is None or credentials.scheme.lower() != "bearer":
            return JSONResponse(
                {"detail": "admin reload needs the header 'Authorization: Bearer <ENERGY_API_TOKEN>'"},
                status_code=401,
                headers={"WWW-Authenticate": "Bearer"},
            )
        if not hmac.compare_digest(credentials.credentials.encode(), config.api_token.encode()):
            return JSONResponse({"detail": "wrong token for admin reload"}, status_code=403)
        outcomes = await asyncio.to_thread(champions.refresh)
        return {"models": {name: vars(outcome) for name, outcome in outcomes.items()}}

    @app.get("/metrics", response_class=PlainTextResponse, tags=["service"], summary="Prometheus metrics")
    async def prometheus_metrics():
        return PlainTextResponse(metrics.render().decode())

    return app
