"""Runs that ended without saying so: close them in Dagster and end their MLflow runs.

Two ways a Dagster run can be left STARTED with its MLflow runs RUNNING:
- a run launched by the webserver or the daemon fails or its worker dies: its code server marks
  it failed, and the run-failure sensor (defs/sensors.py) ends its MLflow runs as FAILED;
- an in-process run (`make pipeline`, a flow's embedded run) loses its process (kill -9, OOM):
  nothing in Dagster watches such a process, so the run records the host, pid and process start
  time in its tags (`process_tags`), and `close_orphaned_runs` marks it failed once that process
  is gone and ends its MLflow runs as KILLED. The daemon's sensor calls it every 30 s, and every
  pipeline or embedded flow run calls it before it starts.
"""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import dagster as dg
import mlflow
from mlflow.entities import RunStatus

from energy_assets import lineage, settings

HOST_TAG = "energy/process_host"
PID_TAG = "energy/process_pid"
PROCESS_START_TAG = "energy/process_start"  # start time in clock ticks since boot (Linux), tells a reused pid apart

log = logging.getLogger(__name__)


def _process_start(pid: int) -> str:
    """The process's start time from /proc (field 22 of stat); empty where /proc is not available."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[1].split()[19]


def process_tags() -> dict[str, str]:
    """Tags naming this process, for a run executed in it (execute_in_process)."""
    pid = os.getpid()
    return {HOST_TAG: socket.gethostname(), PID_TAG: str(pid), PROCESS_START_TAG: _process_start(pid)}


def process_alive(pid: int, start: str) -> bool:
    """Whether the process with this pid, started at `start` (if recorded), still runs on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by another user
    current = _process_start(pid)
    return not (start and current and current != start)


def end_mlflow_runs(dagster_run_id: str, status: str, client: mlflow.MlflowClient | None = None) -> list[str]:
    """End the MLflow runs of a Dagster run that are still RUNNING with `status` (FAILED or KILLED).

    `client`: the registry's (a sensor's `ModelRegistry`); default: the store the settings name.
    """
    client = client or mlflow.MlflowClient(settings.get_settings().mlflow_tracking_uri)
    experiment = client.get_experiment_by_name(settings.EXPERIMENT_NAME)
    if experiment is None:
        return []
    running = client.search_runs(
        [experiment.experiment_id],
        filter_string=f"tags.{lineage.TAG_DAGSTER_RUN} = '{dagster_run_id}' and attributes.status = 'RUNNING'",
    )
    for run in running:
        client.set_terminated(run.info.run_id, status=status)
    return [run.info.run_id for run in running]


def close_orphaned_runs(
    instance: dg.DagsterInstance, logger: logging.Logger | None = None, client: mlflow.MlflowClient | None = None
) -> list[str]:
    """Mark failed the in-progress runs of this host whose process is gone; end their MLflow runs as KILLED."""
    logger = logger or log
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            statuses=[dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED], tags={HOST_TAG: socket.gethostname()}
        )
    )
    closed = []
    for run in runs:
        pid = int(run.tags.get(PID_TAG, "0"))
        if not pid or process_alive(pid, run.tags.get(PROCESS_START_TAG, "")):
            continue
        message = (
            f"The process that ran this run in-process (pid {pid} on {run.tags[HOST_TAG]}) is gone; marking the run "
            "failed."
        )
        instance.report_engine_event(message, run)
        instance.report_run_failed(run, message)
        ended = end_mlflow_runs(run.run_id, RunStatus.to_string(RunStatus.KILLED), client)
        logger.warning(
            f"closed orphaned Dagster run {run.run_id} ({run.job_name}, pid {pid} gone); MLflow runs ended "
            f"KILLED: {ended or 'none'}"
        )
        closed.append(run.run_id)
    return closed
