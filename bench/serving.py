"""`make bench-serving`: this API against `mlflow models serve`, same champion, same load generator, same rows.

Both servers run on loopback with one worker process each and serve models:/energy-usage-estimator@champion
from the configured registry (ENERGY_HOME, default .energy/: run `make pipeline` first). The load
generator is a minimal keep-alive HTTP/1.1 client on raw asyncio sockets, in this process, so its own
cost per request stays far below either server's. Payloads are the same holdout readings for both;
only the envelope differs (this API takes a reading object, MLflow a `dataframe_split`).

Reported per server: single-row requests/s and p50/p99 latency at concurrency 1 and 16, and the
latency of a 1,000-row batch; then the ratios. Each figure is the median over --repeats runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from energy_assets import schema  # noqa: E402
from energy_assets.settings import CHAMPION_ALIAS, ESTIMATOR_MODEL_NAME, get_settings  # noqa: E402

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(url: str, timeout: float, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"{url}: the server exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer 200 within {timeout:.0f} s")


def request_bytes(port: int, path: str, body: bytes) -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    body = await reader.readexactly(length) if length else b""
    return status, body


async def _connection(
    port: int,
    requests: list[bytes],
    seconds: float,
    max_requests: int,
    offset: int,
    latencies: list[float],
    failures: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    deadline = time.perf_counter() + seconds
    try:
        for i in range(max_requests):
            if time.perf_counter() > deadline:
                break
            payload = requests[(offset + i) % len(requests)]
            start = time.perf_counter()
            writer.write(payload)
            status, _ = await _read_response(reader)
            latencies.append(time.perf_counter() - start)
            if status != 200:
                failures.append(status)
    finally:
        writer.close()


async def drive(
    port: int, requests: list[bytes], concurrency: int, seconds: float, max_requests: int = 10**9
) -> dict[str, float]:
    """Each of `concurrency` keep-alive connections sends requests back to back for `seconds`."""
    latencies: list[float] = []
    failures: list[int] = []
    start = time.perf_counter()
    await asyncio.gather(
        *(_connection(port, requests, seconds, max_requests, c * 97, latencies, failures) for c in range(concurrency))
    )
    elapsed = time.perf_counter() - start
    if failures:
        raise SystemExit(f"port {port}: {len(failures)} requests failed, e.g. HTTP {failures[0]}")
    ordered = sorted(latencies)
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1e3,
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
    }


def api_row(row: pd.Series) -> dict:
    return schema.reading_json(row)


def mlflow_split(rows: list[dict]) -> dict:
    columns = list(schema.ESTIMATOR_INPUT_COLUMNS)
    return {"dataframe_split": {"columns": columns, "data": [[r[c] for c in columns] for r in rows]}}


def start_servers(api_port: int, mlflow_port: int, mlflow_one_thread_port: int, tracking_uri: str, log_dir: Path):
    env = {
        **os.environ,
        "MLFLOW_TRACKING_URI": tracking_uri,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",  # mlflow execs `uvicorn` by name
    }
    with open(log_dir / "api.log", "w") as log:  # the child keeps its own descriptor
        api = subprocess.Popen(
            [sys.executable, "-m", "api", "--host", "127.0.0.1", "--port", str(api_port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def mlflow_serve(port: int, log_name: str, extra_env: dict[str, str]) -> subprocess.Popen:
        return subprocess.Popen(
            [
                str(BIN / "mlflow"),
                "models",
                "serve",
                "-m",
                f"models:/{ESTIMATOR_MODEL_NAME}@{CHAMPION_ALIAS}",
                "--env-manager",
                "local",
                "-h",
                "127.0.0.1",
                "-p",
                str(port),
                "-w",
                "1",
            ],
            cwd=PROJECT_ROOT,
            env={**env, **extra_env},
            stdout=open(log_dir / log_name, "w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    # As shipped, and with one OpenMP thread like this API uses: the second isolates what the
    # serving code itself costs from the trees' per-call thread start.
    return (
        api,
        mlflow_serve(mlflow_port, "mlflow.log", {}),
        mlflow_serve(mlflow_one_thread_port, "mlflow-omp1.log", {"OMP_NUM_THREADS": "1"}),
    )


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=8.0, help="duration of each load phase")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)

    current = get_settings()
    holdout_path = current.asset_dir / "holdout_readings.parquet"
    if not holdout_path.exists():
        raise SystemExit(f"{holdout_path} is missing: run `make pipeline` first (ENERGY_HOME={current.home})")
    rows = [api_row(r) for _, r in pd.read_parquet(holdout_path).head(1000).iterrows()]
    log_dir = current.home / "bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    api_port, mlflow_port, omp1_port = free_port(), free_port(), free_port()
    api, mlflow, mlflow_omp1 = start_servers(api_port, mlflow_port, omp1_port, current.mlflow_tracking_uri, log_dir)
    try:
        wait_until(f"http://127.0.0.1:{api_port}/ready", 180, api)
        wait_until(f"http://127.0.0.1:{mlflow_port}/ping", 180, mlflow)
        wait_until(f"http://127.0.0.1:{omp1_port}/ping", 180, mlflow_omp1)
        targets = {
            "api": (
                api_port,
                [request_bytes(api_port, "/predict", json.dumps(r).encode()) for r in rows[:200]],
                [request_bytes(api_port, "/predict/batch", json.dumps({"readings": rows}).encode())],
            ),
            "mlflow": (
                mlflow_port,
                [
                    request_bytes(mlflow_port, "/invocations", json.dumps(mlflow_split([r])).encode())
                    for r in rows[:200]
                ],
                [request_bytes(mlflow_port, "/invocations", json.dumps(mlflow_split(rows)).encode())],
            ),
            "mlflow_omp1": (
                omp1_port,
                [request_bytes(omp1_port, "/invocations", json.dumps(mlflow_split([r])).encode()) for r in rows[:200]],
                [request_bytes(omp1_port, "/invocations", json.dumps(mlflow_split(rows)).encode())],
            ),
        }
        runs: dict[str, dict[str, list[float]]] = {name: {} for name in targets}
        for repeat in range(args.repeats):
            for name, (port, singles, batch) in targets.items():
                asyncio.run(drive(port, singles, 1, 2.0))  # warm-up
                c1 = asyncio.run(drive(port, singles, 1, args.seconds))
                c16 = asyncio.run(drive(port, singles, 16, args.seconds))
                b = asyncio.run(drive(port, batch, 1, args.seconds))
                figures = {
                    "c1_rps": c1["rps"],
                    "c1_p50_ms": c1["p50_ms"],
                    "c1_p99_ms": c1["p99_ms"],
                    "c16_rps": c16["rps"],
                    "c16_p50_ms": c16["p50_ms"],
                    "c16_p99_ms": c16["p99_ms"],
                    "batch1000_p50_ms": b["p50_ms"],
                    "batch1000_p99_ms": b["p99_ms"],
                }
                for key, value in figures.items():
                    runs[name].setdefault(key, []).append(value)
                print(f"run {repeat + 1} {name}: " + ", ".join(f"{k} {v:.2f}" for k, v in figures.items()), flush=True)
    finally:
        for process in (api, mlflow, mlflow_omp1):
            stop(process)

    medians = {name: {k: statistics.median(v) for k, v in figures.items()} for name, figures in runs.items()}
    ratios = {
        f"{key}_vs_{other}": (
            medians["api"][key] / medians[other][key]
            if key.endswith("rps")
            else medians[other][key] / medians["api"][key]
        )
        for other in ("mlflow", "mlflow_omp1")
        for key in medians["api"]
    }
    print(
        f"\nmedians over {args.repeats} runs on {platform.node()} ({os.cpu_count()} cores, Python "
        f"{platform.python_version()})"
    )
    print("| figure | this API | mlflow models serve | ratio | mlflow, OMP_NUM_THREADS=1 | ratio |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for key in medians["api"]:
        a, m, m1 = medians["api"][key], medians["mlflow"][key], medians["mlflow_omp1"][key]
        print(
            f"| {key} | {a:.2f} | {m:.2f} | {ratios[f'{key}_vs_mlflow']:.1f}x | {m1:.2f} | "
            f"{ratios[f'{key}_vs_mlflow_omp1']:.1f}x |"
        )
    print("(ratio: how many times better this API is: higher throughput, or lower latency)")
    goals = {
        "c16 single-row throughput >= 3x mlflow": ratios["c16_rps_vs_mlflow"] >= 3,
        "c1 single-row p50 <= 2 ms": medians["api"]["c1_p50_ms"] <= 2.0,
        "1,000-row batch p50 <= 20 ms": medians["api"]["batch1000_p50_ms"] <= 20.0,
    }
    for goal, met in goals.items():
        print(f"goal {goal}: {'met' if met else 'NOT met'}")
    if args.json:
        args.json.write_text(json.dumps({"medians": medians, "ratios": ratios, "goals": goals}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
