"""The served models' lineage, and the admin reload that looks the champions up now."""

from __future__ import annotations

import asyncio
import hmac

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from energy_assets.settings import masked

from api.deps import Champions, Config
from api.schemas import ErrorMessage, ModelsInfo, ReloadResult

router = APIRouter(tags=["models"])
bearer = HTTPBearer(auto_error=False, description="ENERGY_API_TOKEN of the server")


@router.get("/model", response_model=ModelsInfo, summary="Lineage and holdout metrics of each served model")
async def model_info(champions: Champions, config: Config):
    return {"tracking_uri": masked(config.tracking_uri), "models": [m.describe() for m in champions.served()]}


@router.post(
    "/admin/reload",
    response_model=ReloadResult,
    summary="Look the champions up in the registry now and swap in new versions",
    responses={
        401: {"model": ErrorMessage, "description": "No bearer token"},
        403: {"model": ErrorMessage, "description": "Wrong token, or reload disabled (no ENERGY_API_TOKEN)"},
    },
)
async def reload(champions: Champions, config: Config, credentials: HTTPAuthorizationCredentials | None = Depends(bearer)):
    if not config.api_token:
        return JSONResponse({"detail": "admin reload is disabled: the server has no ENERGY_API_TOKEN configured"}, status_code=403)
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
