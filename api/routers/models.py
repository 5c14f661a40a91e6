"""The served models' lineage, the monitoring they are under (latest drift report, gate decisions),
and the admin reload that looks the champions up now."""

from __future__ import annotations

import asyncio
import hmac
from typing import Any

import mlflow
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.config import ApiConfig
from api.deps import Champions, Config
from api.registry import ChampionRegistry
from api.schemas import ErrorMessage, ModelsInfo, Monitoring, ReloadResult
from energy_assets.gating.champion import gate_history
from energy_assets.monitoring import reports
from energy_assets.settings import masked

router = APIRouter(tags=["models"])
bearer = HTTPBearer(auto_error=False, description="ENERGY_API_TOKEN of the server")


@router.get("/model", response_model=ModelsInfo, summary="Lineage and holdout metrics of each served model")
async def model_info(champions: Champions, config: Config):
    return {"tracking_uri": masked(config.tracking_uri), "models": [m.describe() for m in champions.served()]}


def _gates(champions: ChampionRegistry, config: ApiConfig) -> list[dict]:
    client = mlflow.MlflowClient(config.tracking_uri, registry_uri=config.tracking_uri)
    found: list[dict[str, Any]] = []
    for name in champions.names:
        try:
            versions = gate_history(client, name)
        except Exception as error:  # registry unreachable: say so per model, keep the drift report
            found.append(
                {
                    "name": name,
                    "versions": [],
                    "error": f"the registry at {masked(config.tracking_uri)} could not be read: {error}",
                }
            )
            continue
        champion = next((v["version"] for v in versions if v["champion"]), None)
        found.append({"name": name, "champion_version": champion, "versions": versions})
    return found


def monitoring_answer(champions: ChampionRegistry, config: ApiConfig) -> dict:
    months = reports.stored_months(config.asset_dir)
    try:
        report = reports.latest_summary(config.asset_dir)
    except ValueError as error:  # a damaged file: say which, serve the gates anyway
        return {"drift_report": None, "drift_months": months, "message": str(error), "gates": _gates(champions, config)}
    if report is None:
        message = (
            f"No drift report yet: no month has been monitored ({reports.report_folder(config.asset_dir)} holds none). "
            "The monitor_drift flow (or materializing a drift_report partition) writes one."
        )
    else:
        verdict = "drift: " + "; ".join(report["reasons"]) if report["drifted"] else "no drift"
        message = f"{report['month']} against {report['reference']}: {verdict}"
    return {"drift_report": report, "drift_months": months, "message": message, "gates": _gates(champions, config)}


@router.get(
    "/model/monitoring",
    response_model=Monitoring,
    summary="The latest drift report and the champion gate's decision on each registered version",
)
async def monitoring(champions: Champions, config: Config):
    return await asyncio.to_thread(monitoring_answer, champions, config)


@router.post(
    "/admin/reload",
    response_model=ReloadResult,
    summary="Look the champions up in the registry now and swap in new versions",
    responses={
        401: {"model": ErrorMessage, "description": "No bearer token"},
        403: {"model": ErrorMessage, "description": "Wrong token, or reload disabled (no ENERGY_API_TOKEN)"},
    },
)
async def reload(
    champions: Champions, config: Config, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)
):
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
