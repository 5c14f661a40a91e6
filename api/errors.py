"""Client errors: the 413 body limit, 422 details that name the field and what is allowed or why,
503 without a model."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from api.history import ForecastUnavailable
from api.operations import CopilotUnavailable
from api.registry import ModelNotServed
from api.schemas import MAX_BATCH_ROWS, ErrorMessage
from energy_assets import schema
from energy_assets.copilot.errors import CopilotInputError, InfeasibleError

SERVICE_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {"model": ErrorMessage, "description": "The model is not loaded (the message names it and the registry)"}
}

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
                        {
                            "detail": (
                                f"request body of {int(value):,} bytes is over the limit of {MAX_BODY_BYTES:,} bytes "
                                f"(a batch holds at most {MAX_BATCH_ROWS:,} readings)"
                            )
                        },
                        status_code=413,
                    )
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)


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


def validation_details(errors) -> list[dict]:
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


def install(app: FastAPI) -> None:
    """The body limit and the exception handlers of every route."""
    app.add_middleware(BodySizeLimit)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError):
        errors = exc.errors()
        for error in errors:
            loc = tuple(error.get("loc", ()))
            if error.get("type") == "batch_too_large" or (
                error.get("type") == "too_long" and loc[:2] == ("body", "readings")
            ):
                got = (error.get("ctx") or {}).get("actual_length")
                return JSONResponse(
                    {
                        "detail": f"a batch holds at most {MAX_BATCH_ROWS:,} readings"
                        + (f"; got {got:,}" if got else "")
                    },
                    status_code=413,
                )
        return JSONResponse({"detail": validation_details(errors)}, status_code=422)

    @app.exception_handler(ModelNotServed)
    async def model_not_served(request: Request, exc: ModelNotServed):
        return JSONResponse({"detail": str(exc)}, status_code=503)

    @app.exception_handler(ForecastUnavailable)
    async def forecast_unavailable(request: Request, exc: ForecastUnavailable):
        return _rejected(request, "day", str(exc), "forecast_unavailable")

    @app.exception_handler(CopilotInputError)
    async def copilot_input(request: Request, exc: CopilotInputError):
        return _rejected(
            request,
            exc.field,
            f"{exc.field}: {exc.reason}",
            "infeasible" if isinstance(exc, InfeasibleError) else "value_error",
        )

    @app.exception_handler(CopilotUnavailable)
    async def copilot_unavailable(request: Request, exc: CopilotUnavailable):
        return JSONResponse({"detail": str(exc)}, status_code=503)


def _rejected(request: Request, field: str, message: str, kind: str) -> JSONResponse:
    """422 for a well-formed request the data cannot answer: `loc` names the field (in the query of a
    GET, the body of a POST), `msg` says why."""
    source = "query" if request.method == "GET" else "body"
    loc = [source, *field.split(".")]
    return JSONResponse({"detail": [{"loc": loc, "msg": message, "type": kind}]}, status_code=422)
