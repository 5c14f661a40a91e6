"""What the routers share: the app's services as FastAPI dependencies, a worker pool, JSON answers.

`create_app` puts each service on `app.state` (`champions`, `metrics`, `config`, `history`,
`workers`, `copilot`); routes take what they use through the `Annotated` aliases below (`Champions`,
`Metrics`, ...), so a test can replace any of them with `app.dependency_overrides`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Annotated, TypeVar

from fastapi import Depends, Request
from fastapi.responses import Response
from threadpoolctl import threadpool_limits

from api.config import ApiConfig
from api.history import CleanHistory
from api.metrics import ApiMetrics
from api.operations import Copilot
from api.registry import ChampionRegistry

T = TypeVar("T")


def one_openmp_thread() -> None:
    threadpool_limits(limits=1, user_api="openmp")


@dataclass
class ModelWorkers:
    """Threads for large batches and forecasts, off the event loop, limited to one OpenMP thread each
    like the loop itself (the limit is per thread). Made on first use: the app may also be served
    without its lifespan."""

    max_workers: int = 2
    _executor: ThreadPoolExecutor | None = field(default=None, init=False)

    async def run(self, fn: Callable[[], T]) -> T:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(
                max_workers=self.max_workers, thread_name_prefix="model", initializer=one_openmp_thread
            )
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn)

    def shutdown(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _champions(request: Request) -> ChampionRegistry:
    return request.app.state.champions


def _metrics(request: Request) -> ApiMetrics:
    return request.app.state.metrics


def _config(request: Request) -> ApiConfig:
    return request.app.state.config


def _history(request: Request) -> CleanHistory:
    return request.app.state.history


def _workers(request: Request) -> ModelWorkers:
    return request.app.state.workers


def _copilot(request: Request) -> Copilot:
    return request.app.state.copilot


Champions = Annotated[ChampionRegistry, Depends(_champions)]
Metrics = Annotated[ApiMetrics, Depends(_metrics)]
Config = Annotated[ApiConfig, Depends(_config)]
History = Annotated[CleanHistory, Depends(_history)]
Workers = Annotated[ModelWorkers, Depends(_workers)]
CopilotOps = Annotated[Copilot, Depends(_copilot)]


def json_response(body: dict, headers: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """Serialized once by hand: the handlers build plain dicts, so a second validation pass is waste."""
    return Response(
        json.dumps(body, allow_nan=False).encode(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )
