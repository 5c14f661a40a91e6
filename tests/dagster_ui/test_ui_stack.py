"""The Dagster UI as its users use it, through the webserver's GraphQL API on a webserver + daemon stack.

The tests run in order on one instance, as a user would: every month ingested by a run launched from
the UI (features and the split then follow by declarative automation); three of the months rebuilt by a
backfill launched as the UI launches it; a UI-launched run and an in-process pipeline run, each killed
with SIGKILL, end failed with their MLflow runs closed; an export dropped into the raw area starts the
sensor's ingest run. Every wait is bounded; nothing asserts on time.

The clean-data checks judge every registered month (continuity across months), so a backfill
rebuilds months next to built ones; on an empty instance the first ingest builds them all.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import mlflow
import pytest

from tests.conftest import BUNDLED_CSV, PROJECT_ROOT
from tests.dagster_ui.conftest import LOCATION, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]

MONTHS = [f"2018-{m:02d}" for m in range(1, 13)]
BACKFILL_MONTHS = ["2018-01", "2018-02", "2018-03"]
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}
RUN_FIELDS = "runId status tags { key value }"


def _run(stack, run_id: str) -> dict:
    return stack.graphql(
        f"query($id: ID!) {{ runOrError(runId: $id) {{ __typename ... on Run {{ {RUN_FIELDS} }} }} }}", {"id": run_id}
    )["runOrError"]


def _run_messages(stack, run_id: str) -> list[str]:
    data = stack.graphql(
        (
            "query($id: ID!) { logsForRun(runId: $id, limit: 5000) { __typename ... on EventConnection { events "
            "{ __typename ... on MessageEvent { message } } } } }"
        ),
        {"id": run_id},
    )
    return [e.get("message") or "" for e in data["logsForRun"]["events"]]


def _mlflow_runs(stack, dagster_run_id: str):
    client = mlflow.MlflowClient(stack.mlflow_tracking_uri)
    experiment = client.get_experiment_by_name("energy-copilot")
    if experiment is None:
        return []
    return client.search_runs([experiment.experiment_id], filter_string=f"tags.dagster_run_id = '{dagster_run_id}'")


def _register_months(stack) -> None:
    """As the UI's "Add partition" dialog does, one month at a time (a month already there is fine)."""
    for month in MONTHS:
        result = stack.graphql(
            "mutation($sel: RepositorySelector!, $key: String!) { addDynamicPartition(repositorySelector: $sel, "
            'partitionsDefName: "month", partitionKey: $key) { __typename ... on Error { message } } }',
            {"sel": LOCATION, "key": month},
        )["addDynamicPartition"]
        assert result["__typename"] in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"), result


def _launch(stack, call: str, params_type: str, params: dict, success_type: str, success_fields: str) -> dict:
    """A launch mutation as the UI sends it; fails with the server's message unless it succeeded."""
    field = call.split("(")[0]
    result = stack.graphql(
        f"mutation($params: {params_type}!) {{ {call} {{ __typename "
        f"... on {success_type} {{ {success_fields} }} ... on Error {{ message }} }} }}",
        {"params": params},
    )[field]
    assert result["__typename"] == success_type, result
    return result


def _launch_job(stack, job_name: str, months: list[str]) -> str:
    """launchRun of a partitioned job over a range of months, as the UI's launchpad sends it."""
    params = {
        "selector": {**LOCATION, "jobName": job_name},
        "mode": "default",
        "runConfigData": {},
        "executionMetadata": {
            "tags": [
                {"key": "dagster/asset_partition_range_start", "value": months[0]},
                {"key": "dagster/asset_partition_range_end", "value": months[-1]},
            ]
        },
    }
    return _launch(
        stack, "launchRun(executionParams: $params)", "ExecutionParams", params, "LaunchRunSuccess", "run { runId }"
    )["run"]["runId"]


def _materialized_partitions(stack, asset: str) -> list[str]:
    node = stack.graphql(
        "query($key: AssetKeyInput!) { assetNodeOrError(assetKey: $key) { ... on AssetNode { assetPartitionStatuses "
        "{ ... on DefaultPartitionStatuses { materializedPartitions } } } } }",
        {"key": {"path": [asset]}},
    )["assetNodeOrError"]
    return sorted(node["assetPartitionStatuses"]["materializedPartitions"])


def test_a_ui_launched_ingest_builds_every_month_and_features_follow_by_automation(ui_stack):
    _register_months(ui_stack)
    run_id = _launch_job(ui_stack, "ingest_month", MONTHS)
    wait_for(
        lambda: _run(ui_stack, run_id)["status"] in FINISHED,
        600,
        f"ingest run {run_id} finishes\n{ui_stack.logs()}",
        interval=3,
    )
    assert _run(ui_stack, run_id)["status"] == "SUCCESS", _run_messages(ui_stack, run_id)[-15:]
    assert _materialized_partitions(ui_stack, "clean_readings") == MONTHS
    # No job materializes features here: the sensor clean_data_followers requests them.
    latest = (
        '{ assetOrError(assetKey: {path: ["features"]}) { ... on Asset { assetMaterializations(limit: 1) '
        "{ runId } } } }"
    )
    automated = wait_for(
        lambda: (ui_stack.graphql(latest)["assetOrError"].get("assetMaterializations") or [None])[0],
        600,
        f"features materialized by automation\n{ui_stack.logs()}",
        interval=3,
    )
    tags = {t["key"]: t["value"] for t in _run(ui_stack, automated["runId"])["tags"]}
    assert tags.get("dagster/sensor_name") == "clean_data_followers" or "dagster/from_automation_condition" in tags, (
        tags
    )


def test_a_three_month_backfill_launched_as_the_ui_launches_it_completes(ui_stack):
    params = {
        "assetSelection": [{"path": [name]} for name in ("raw_readings", "rejected_readings", "clean_readings")],
        "partitionNames": BACKFILL_MONTHS,
        "fromFailure": False,
        "tags": [],
    }
    launched = _launch(
        ui_stack,
        "launchPartitionBackfill(backfillParams: $params)",
        "LaunchBackfillParams",
        params,
        "LaunchBackfillSuccess",
        "backfillId",
    )
    query = (
        "query($id: String!) { partitionBackfillOrError(backfillId: $id) { __typename "
        "... on PartitionBackfill { status runs(limit: 20) { runId status } } } }"
    )

    def finished():
        backfill = ui_stack.graphql(query, {"id": launched["backfillId"]})["partitionBackfillOrError"]
        return backfill if backfill["status"] not in ("REQUESTED", "CANCELING", "FAILING") else None

    backfill = wait_for(finished, 600, f"backfill {launched['backfillId']} finishes\n{ui_stack.logs()}", interval=3)
    assert backfill["status"] in ("COMPLETED_SUCCESS", "COMPLETED"), backfill
    failed = {
        r["runId"]: _run_messages(ui_stack, r["runId"])[-15:] for r in backfill["runs"] if r["status"] != "SUCCESS"
    }
    assert backfill["runs"] and not failed, failed
    backfill_runs = {r["runId"] for r in backfill["runs"]}
    rebuilt = ui_stack.graphql(
        '{ assetOrError(assetKey: {path: ["clean_readings"]}) { ... on Asset { assetMaterializations(limit: '
        "50) { runId partition } } } }"
    )["assetOrError"]["assetMaterializations"]
    assert sorted(m["partition"] for m in rebuilt if m["runId"] in backfill_runs) == BACKFILL_MONTHS


def _wait_for_running_mlflow_run(stack, dagster_run_id: str, timeout: float = 300):
    def running():
        status = _run(stack, dagster_run_id)["status"]
        assert status not in FINISHED, (
            f"run {dagster_run_id} ended {status} before its MLflow run started: "
            f"{_run_messages(stack, dagster_run_id)[-12:]}"
        )
        return [r for r in _mlflow_runs(stack, dagster_run_id) if r.info.status == "RUNNING"]

    return wait_for(running, timeout, f"an MLflow run RUNNING for Dagster run {dagster_run_id}", interval=0.5)


def _wait_until_closed(stack, dagster_run_id: str, killed_at: float, timeout: float = 240) -> dict[str, str]:
    """Dagster run finished and none of its MLflow runs RUNNING; returns {mlflow run id: status}.

    Prints how long each took after the kill (a measurement for docs/architecture.md, not asserted).
    """
    wait_for(
        lambda: _run(stack, dagster_run_id)["status"] in FINISHED,
        timeout,
        f"Dagster run {dagster_run_id} marked finished\n{stack.logs()}",
        interval=0.5,
    )
    marked = time.monotonic() - killed_at
    runs = wait_for(
        lambda: (lambda found: found if found and all(r.info.status != "RUNNING" for r in found) else None)(
            _mlflow_runs(stack, dagster_run_id)
        ),
        timeout,
        f"the MLflow runs of {dagster_run_id} ended\n{stack.logs()}",
        interval=0.5,
    )
    print(
        f"run {dagster_run_id}: marked finished {marked:.1f} s after SIGKILL, MLflow runs ended "
        f"{time.monotonic() - killed_at:.1f} s after"
    )
    return {r.info.run_id: r.info.status for r in runs}


def test_a_ui_launched_run_killed_with_sigkill_is_marked_failed_and_its_mlflow_run_ends(ui_stack):
    run_id = _launch_job(ui_stack, "energy_pipeline", MONTHS)
    _wait_for_running_mlflow_run(ui_stack, run_id)

    def worker_pid():
        for message in _run_messages(ui_stack, run_id):
            found = re.search(r"Started process for run \(pid: (\d+)\)", message)
            if found:
                return int(found.group(1))
        return None

    pid = wait_for(worker_pid, 60, f"the run worker of {run_id} reports its pid")
    os.kill(pid, signal.SIGKILL)
    ended = _wait_until_closed(ui_stack, run_id, time.monotonic())
    assert _run(ui_stack, run_id)["status"] == "FAILURE"
    assert set(ended.values()) <= {"FAILED", "KILLED"}, ended
    assert any(
        "terminated by signal 9" in m for m in _run_messages(ui_stack, run_id)
    )  # its code server saw the worker die


def test_an_in_process_pipeline_killed_with_sigkill_is_closed_with_its_mlflow_run(ui_stack):
    """`make pipeline` killed mid-run: the daemon's sensor finds the dead process and closes its run."""
    process = subprocess.Popen(
        [sys.executable, "-m", "energy_assets.pipeline"],
        env=ui_stack.env,
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(ui_stack.home / "killed-pipeline.log").open("w"),
    )
    try:

        def started_run():
            runs = ui_stack.graphql(
                f'{{ runsOrError(filter: {{ tags: [{{ key: "energy/process_pid", value: "{process.pid}" }}] }}) '
                f"{{ ... on Runs {{ results {{ {RUN_FIELDS} }} }} }} }}"
            )["runsOrError"]["results"]
            return runs[0]["runId"] if runs else None

        run_id = wait_for(started_run, 300, "the pipeline's Dagster run appears")
        _wait_for_running_mlflow_run(ui_stack, run_id)
        process.send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        process.wait(timeout=30)
        ended = _wait_until_closed(ui_stack, run_id, killed_at)
    finally:
        if process.poll() is None:
            process.kill()
    assert _run(ui_stack, run_id)["status"] == "FAILURE"
    assert set(ended.values()) == {"KILLED"}, ended
    assert any(f"pid {process.pid}" in m and "is gone" in m for m in _run_messages(ui_stack, run_id))


def test_an_export_dropped_into_the_raw_area_starts_the_sensors_ingest_run(ui_stack):
    sensor_query = (
        "query($sel: SensorSelector!) { sensorOrError(sensorSelector: $sel) { __typename ... on Sensor "
        "{ sensorState { status typeSpecificData { ... on SensorData { lastCursor } } } } } }"
    )
    selector = {**LOCATION, "sensorName": "raw_area_exports"}

    def baseline():  # the sensor has compared the area with what the backfill ingested
        state = ui_stack.graphql(sensor_query, {"sel": selector})["sensorOrError"]["sensorState"]
        assert state["status"] == "RUNNING", state
        return state["typeSpecificData"]["lastCursor"]

    wait_for(baseline, 180, f"the raw-area sensor records its first cursor\n{ui_stack.logs()}", interval=2)
    lines = BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()
    december = [line for line in lines[1:] if re.match(r"(0[2-9]|[12]\d|3[01])/12/2018 ", line)]
    export = "export-2018-12.csv"
    (ui_stack.raw_area / f"{export}.tmp").write_text("\n".join([lines[0], *december]) + "\n")
    (ui_stack.raw_area / f"{export}.tmp").rename(ui_stack.raw_area / export)

    def sensor_run():
        runs = ui_stack.graphql(
            f'{{ runsOrError(filter: {{ tags: [{{ key: "energy/exports", value: "{export}" }}] }}) '
            f"{{ ... on Runs {{ results {{ {RUN_FIELDS} jobName }} }} }} }}"
        )["runsOrError"]["results"]
        return runs[0] if runs and runs[0]["status"] in FINISHED else None

    run = wait_for(sensor_run, 420, f"the sensor's run for {export} finishes\n{ui_stack.logs()}", interval=3)
    tags = {t["key"]: t["value"] for t in run["tags"]}
    assert run["jobName"] == "ingest_month"
    assert run["status"] == "SUCCESS", _run_messages(ui_stack, run["runId"])[-20:]
    assert tags["dagster/partition"] == "2018-12"
    assert tags["dagster/sensor_name"] == "raw_area_exports"
    # The cursor now holds the export's md5, so the unchanged file is not ingested again.
    wait_for(lambda: export in (baseline() or ""), 120, "the cursor records the export")
