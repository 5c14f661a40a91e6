"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse

from api.deps import Champions, Config, Metrics
from api.schemas import Health, Ready
from energy_assets.settings import masked

router = APIRouter(tags=["service"])


@router.get("/health", response_model=Health, summary="Liveness, and which models are loaded")
async def health(champions: Champions, config: Config):
    models = {}
    for name in champions.names:
        served, status = champions.get(name), champions.status(name)
        models[name] = {
            "loaded": served is not None,
            "version": served.version if served else None,
            "last_error": status.last_error,
            "last_checked": status.last_checked,
        }
    return {
        "status": "ok" if champions.healthy else "degraded",
        "tracking_uri": masked(config.tracking_uri),
        "models": models,
    }


@router.get(
    "/ready",
    response_model=Ready,
    summary="200 once every champion is loaded, else 503",
    responses={503: {"model": Ready, "description": "A champion is not loaded"}},
)
async def ready(champions: Champions, config: Config):
    if champions.ready:
        return {"ready": True, "detail": "serving " + ", ".join(f"{m.name} v{m.version}" for m in champions.served())}
    missing = [n for n in champions.names if champions.get(n) is None]
    reasons = "; ".join(f"{n}: {champions.status(n).last_error or 'not loaded yet'}" for n in missing)
    return JSONResponse(
        {"ready": False, "detail": f"no champion loaded from {masked(config.tracking_uri)} for {reasons}"},
        status_code=503,
    )


@router.get("/metrics", response_class=PlainTextResponse, summary="Prometheus metrics")
async def prometheus_metrics(metrics: Metrics):
    return PlainTextResponse(metrics.render().decode())
