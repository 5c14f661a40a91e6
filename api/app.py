"""The prediction service: FastAPI app factory and lifespan.

`create_app()` puts the champion registry (api.registry), the clean history (api.history), the
metrics (api.metrics) and the model workers on `app.state` and includes the routers of
`api.routers`. Start-up never fails on the registry: without champions the app serves /health
(degraded), /ready (503) and 503s that name the model and URI.

/docs and /redoc are served with the Swagger UI and ReDoc files of the `fastapi-offline` package,
from this app's own URLs: nothing is loaded from a CDN, so they work on a machine without internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from threadpoolctl import threadpool_limits

from api import errors, mcp
from api.config import ApiConfig, from_environment
from api.deps import ModelWorkers
from api.errors import MAX_BODY_BYTES  # noqa: F401  (part of the app's interface: the body limit)
from api.history import CleanHistory
from api.metrics import ApiMetrics, MetricsMiddleware
from api.operations import Copilot
from api.registry import ChampionRegistry
from api.routers import copilot, forecast, models, predict, service
from energy_assets.startup import telemetry_off

log = logging.getLogger("api")

# Where /docs and /redoc load their scripts and styles from (files of the fastapi-offline package).
DOCS_STATIC_URL = "/docs-static"
# Swagger UI's validator badge would send the OpenAPI document to an outside service: off.
SWAGGER_UI_PARAMETERS = {"validatorUrl": None}
# Where the MCP tools (api.mcp) are mounted.
MCP_PATH = "/mcp"


def create_app(config: ApiConfig | None = None) -> FastAPI:
    telemetry_off()  # uvicorn's factory (the API image) starts here, not in `python -m api`
    config = config or from_environment()
    metrics = ApiMetrics()
    champions = ChampionRegistry(
        config.tracking_uri,
        on_swap=lambda new, old: metrics.swaps.labels(new.name).inc(),
        on_failure=lambda name: metrics.load_failures.labels(name).inc(),
    )
    metrics.watch(champions)
    workers = ModelWorkers()
    history = CleanHistory(config.clean_readings_dir)
    operations = Copilot(champions, history)
    tools = mcp.build_server(operations, workers.run)
    mcp_mount = mcp.LifespanMount()

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
        # A session manager runs once: each lifespan (a test may enter several) gets a new one.
        mcp_mount.app = tools.streamable_http_app(
            streamable_http_path="/",
            stateless_http=True,
            json_response=True,
            transport_security=mcp.transport_security(config.mcp_allowed_hosts),
        )
        try:
            async with tools.session_manager.run():
                yield
        finally:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
            if not first_load.done():
                first_load.cancel()
            limiter.restore_original_limits()
            workers.shutdown()

    app = FastAPIOffline(
        title="Energy Optimization Copilot API",
        version="0.1.0",
        description=(
            "Usage estimates and day-ahead forecasts with bands from the champion models in the MLflow registry; "
            "the copilot's bills, what-if scenarios and schedules priced with the tariff file; the lineage "
            "(models, readings, tariff) behind every answer. See docs/api.md."
        ),
        lifespan=lifespan,
        static_url=DOCS_STATIC_URL,
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    app.state.champions = champions
    app.state.metrics = metrics
    app.state.config = config
    app.state.history = history
    app.state.workers = workers
    app.state.copilot = operations
    # The copilot's MCP tools, over streamable HTTP at /mcp/ (stateless: each request stands alone).
    app.mount(MCP_PATH, mcp_mount)
    errors.install(app)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    for module in (service, predict, forecast, copilot, models):
        app.include_router(module.router)
    return app
