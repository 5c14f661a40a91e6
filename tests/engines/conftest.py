"""Real engines, run for real on loopback: Celery workers on RabbitMQ + Redis, a Prefect process worker.

The broker is ENERGY_TEST_CELERY_BROKER (default amqp://guest:guest@127.0.0.1:5672//), the result
backend ENERGY_TEST_CELERY_BACKEND (default redis://127.0.0.1:6379/0). Where either does not answer,
the tests skip with the reason, unless CI=true: CI must run them, so there it is a failure. Each
test module gets its own queue (engines_test_<random>, deleted after) and its own ENERGY_HOME, so
runs in parallel on one broker do not take each other's steps.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from energy_assets.settings import masked
from tests.conftest import BUNDLED_CSV, PROJECT_ROOT

BROKER = os.environ.get("ENERGY_TEST_CELERY_BROKER", "amqp://guest:guest@127.0.0.1:5672//")
BACKEND = os.environ.get("ENERGY_TEST_CELERY_BACKEND", "redis://127.0.0.1:6379/0")
WORKERS = 2


def _skip_or_fail(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires the engine tests to run, but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def celery_services() -> tuple[str, str]:
    """The broker and backend URLs, once both answered; skip (or fail under CI=true) when one does not."""
    import redis
    from kombu import Connection

    try:
        with Connection(BROKER, connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as error:
        _skip_or_fail(f"no RabbitMQ reachable at {masked(BROKER)} (ENERGY_TEST_CELERY_BROKER): {str(error).strip()}")
    try:
        redis.Redis.from_url(BACKEND, socket_connect_timeout=3).ping()
    except Exception as error:
        _skip_or_fail(f"no Redis reachable at {masked(BACKEND)} (ENERGY_TEST_CELERY_BACKEND): {str(error).strip()}")
    return BROKER, BACKEND


def engine_env(home: Path, **extra: str) -> dict[str, str]:
    """The environment of every process of a test.

    Its own ENERGY_HOME, the bundled export, no inherited tool settings.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ENERGY_", "MLFLOW_", "PREFECT_", "DAGSTER_"))}
    env.update(
        {
            "ENERGY_PROFILE": "local",
            "ENERGY_HOME": str(home),
            "DAGSTER_HOME": str(home / "dagster"),
            "ENERGY_RAW_CSV": str(BUNDLED_CSV),
            "DAGSTER_DISABLE_TELEMETRY": "1",
            "MLFLOW_DISABLE_TELEMETRY": "true",
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "DO_NOT_TRACK": "true",
            **extra,
        }
    )
    return env


@dataclass
class CeleryStack:
    home: Path
    env: dict[str, str]
    queue: str
    worker_names: list[str]  # celery node names, name@host
    log: Path

    def run_python(self, script: str, timeout: float = 900) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-c", script],
            env=self.env,
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def instance(self):
        import dagster as dg

        return dg.DagsterInstance.from_config(str(self.home / "dagster"))


def _ready_workers(log: Path) -> list[str]:
    return re.findall(r"(\S+@\S+) ready\.", log.read_text(errors="replace")) if log.exists() else []


@pytest.fixture(scope="module")
def celery_stack(celery_services, tmp_path_factory):
    """`python -m energy_assets.workers --count 2` (as `make workers`) on a queue of this module; stopped after."""
    broker, backend = celery_services
    home = tmp_path_factory.mktemp("engines-home")
    queue = f"engines_test_{secrets.token_hex(4)}"
    env = engine_env(
        home,
        ENERGY_EXECUTOR="celery",
        ENERGY_CELERY_BROKER=broker,
        ENERGY_CELERY_BACKEND=backend,
        ENERGY_CELERY_QUEUE=queue,
    )
    log = home / "workers.log"
    prefix = f"{queue}-w"
    process = subprocess.Popen(
        [sys.executable, "-m", "energy_assets.workers", "--count", str(WORKERS), "--name", prefix],
        env=env,
        cwd=PROJECT_ROOT,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 300  # a worker preloads the code location before it is ready
        while len(_ready_workers(log)) < WORKERS:
            if process.poll() is not None or time.monotonic() > deadline:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
                raise RuntimeError(f"{WORKERS} Celery workers not ready (exit code {process.poll()}):\n{tail}")
            time.sleep(0.5)
        yield CeleryStack(home, env, queue, sorted(_ready_workers(log)), log)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # workers.py stops its workers' process groups
            try:
                process.wait(timeout=90)
            except subprocess.TimeoutExpired:
                process.kill()
        # Whatever is left of the workers (each leads a process group of its own, named in the log).
        for pid in re.findall(r": pid (\d+)$", log.read_text(errors="replace"), flags=re.M):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(int(pid), signal.SIGKILL)
        _delete_queue(broker, queue)


def _delete_queue(broker: str, queue: str) -> None:
    from kombu import Connection

    try:
        with Connection(broker, connect_timeout=3) as connection:
            connection.default_channel.queue_delete(queue)
    except Exception:  # the queue is gone already, or the broker went away: nothing left to clean
        pass
