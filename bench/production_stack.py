"""Benchmark of the PostgreSQL profile against the embedded one (docs/benchmarks.md, "Production stack").

    .venv/bin/python bench/production_stack.py [--repeats 5]

Needs the local PostgreSQL server (ENERGY_TEST_POSTGRES_URL, as the `postgres` tests). Measures:
- seconds until each server answers its health endpoint, started alone on fresh databases
  (mlflow server, prefect server, dagster-webserver), median over the repeats;
- one `ingest_month` run over the whole export (raw, rejected, the 12 month partitions of
  clean_readings and their checks) in the same process, on a Dagster instance on PostgreSQL and
  on the embedded SQLite one, median over the repeats, and the ratio.
Fresh databases per measurement, dropped after; every server is stopped.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from energy_assets.services import dagster_webserver, mlflow_server, prefect_server
from tests.postgres.conftest import (
    PROJECT_ROOT,
    SERVER_URL,
    BackgroundService,
    Databases,
    _connect,
    free_port,
    stack_env,
    write_dagster_home,
)

RAW = PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"


def create_databases() -> Databases:
    prefix = f"energy_bench_{secrets.token_hex(4)}"
    names = {tool: f"{prefix}_{tool}" for tool in ("dagster", "mlflow", "prefect")}
    admin = _connect()
    with admin.cursor() as cursor:
        for name in names.values():
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    prefect = _connect(names["prefect"])
    with prefect.cursor() as cursor:
        cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    prefect.close()
    return Databases(prefix, names)


def drop_databases(databases: Databases) -> None:
    admin = _connect()
    with admin.cursor() as cursor:
        for name in databases.names.values():
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def server(name: str, databases: Databases, home: Path) -> BackgroundService:
    port = free_port()
    env = stack_env(databases, home, port, port)
    if name == "mlflow":
        command, mlflow_env = mlflow_server(databases.url("mlflow"), str(home / "mlartifacts"), port, env)
        return BackgroundService(name, command, mlflow_env, f"http://127.0.0.1:{port}/health", home / "log")
    if name == "prefect":
        command, prefect_env = prefect_server(
            port, str(home / "prefect"), databases.url("prefect", "postgresql+asyncpg"), env, ui=False
        )
        return BackgroundService(name, command, prefect_env, f"http://127.0.0.1:{port}/api/health", home / "log")
    write_dagster_home(env)
    command = dagster_webserver(port)
    return BackgroundService(name, command, env, f"http://127.0.0.1:{port}/server_info", home / "log")


def time_to_healthy(name: str) -> float:
    databases = create_databases()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            service = server(name, databases, Path(tmp))
            start = time.perf_counter()
            service.start()
            try:
                service.wait_healthy(timeout=180)
                return time.perf_counter() - start
            finally:
                service.stop()
    finally:
        drop_databases(databases)


def ingest_month_seconds(profile: str) -> float:
    """One ingest_month run over all twelve months in this process, on a fresh instance of the profile."""
    import dagster as dg

    from energy_assets import settings, startup
    from energy_assets.definitions import defs
    from energy_assets.defs.partitions import register_months

    databases = create_databases() if profile == "postgres" else None
    try:
        with tempfile.TemporaryDirectory() as tmp:
            env = (
                stack_env(databases, Path(tmp), 1, 1) if databases else {"ENERGY_PROFILE": "local", "ENERGY_HOME": tmp}
            )
            saved = dict(os.environ)
            os.environ.update({k: v for k, v in env.items() if k.startswith(("ENERGY_", "DAGSTER_"))})
            os.environ.pop("MLFLOW_TRACKING_URI", None)
            try:
                current = settings.get_settings()
                startup.ensure_dagster_home(current)
                with dg.DagsterInstance.get() as instance:
                    months = [f"2018-{m:02d}" for m in range(1, 13)]
                    register_months(instance, months)
                    start = time.perf_counter()
                    result = defs.resolve_job_def("ingest_month").execute_in_process(
                        instance=instance,
                        run_config={"ops": {"raw_readings": {"config": {"path": str(RAW)}}}},
                        tags={
                            "dagster/asset_partition_range_start": months[0],
                            "dagster/asset_partition_range_end": months[-1],
                        },
                    )
                    elapsed = time.perf_counter() - start
                    assert result.success
                    return elapsed
            finally:
                os.environ.clear()
                os.environ.update(saved)
    finally:
        if databases:
            drop_databases(databases)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-servers", action="store_true", help="measure only the ingest runs")
    args = parser.parse_args()
    print(f"PostgreSQL {SERVER_URL}; load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for name in () if args.skip_servers else ("mlflow", "prefect", "dagster-webserver"):
        samples = [time_to_healthy(name) for _ in range(args.repeats)]
        print(
            f"{name:<18} healthy after: median {statistics.median(samples):6.2f} s  "
            f"({', '.join(f'{s:.1f}' for s in samples)})"
        )
    ingest_month_seconds("local")  # warm the imports and caches of this process once
    samples: dict[str, list[float]] = {"local": [], "postgres": []}
    for _ in range(args.repeats):  # interleaved, so a change of machine load hits both alike
        for profile in samples:
            samples[profile].append(ingest_month_seconds(profile))
    medians = {profile: statistics.median(values) for profile, values in samples.items()}
    for profile, values in samples.items():
        print(
            f"ingest_month ({profile:<8}): median {medians[profile]:6.2f} s  ({', '.join(f'{s:.2f}' for s in values)})"
        )
    print(f"ingest_month postgres / local: {medians['postgres'] / medians['local']:.2f}x")
    print(f"load average at end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
