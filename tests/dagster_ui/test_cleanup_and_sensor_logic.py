"""The sensor's and the cleanup's decisions, on a real Dagster instance and MLflow store in a temporary home
(no servers): which exports request which months, and which runs count as orphaned."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import dagster as dg
import mlflow
import pytest
from dagster._core.test_utils import create_run_for_test

from energy_assets.defs import run_cleanup
from energy_assets.defs.resources import RawSource
from energy_assets.defs.sensors import raw_area_exports
from energy_assets.ingest.reader import file_md5
from tests.conftest import BUNDLED_CSV, isolated_home


@pytest.fixture
def home(tmp_path):
    area = tmp_path / "raw"
    area.mkdir()
    shutil.copyfile(BUNDLED_CSV, area / BUNDLED_CSV.name)
    with isolated_home(tmp_path / "home", ENERGY_RAW_CSV=str(area)) as current, dg.DagsterInstance.get() as instance:
        yield current, area, instance


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_process_alive_tells_a_dead_or_reused_pid_from_a_live_one():
    tags = run_cleanup.process_tags()
    assert run_cleanup.process_alive(os.getpid(), tags[run_cleanup.PROCESS_START_TAG])
    assert not run_cleanup.process_alive(_dead_pid(), "")
    if tags[run_cleanup.PROCESS_START_TAG]:  # a pid now used by another process: its start time differs
        assert not run_cleanup.process_alive(os.getpid(), str(int(tags[run_cleanup.PROCESS_START_TAG]) - 1))


def test_an_orphaned_in_process_run_is_failed_and_its_mlflow_runs_killed(home):
    current, _, instance = home
    dead = {**run_cleanup.process_tags(), run_cleanup.PID_TAG: str(_dead_pid()), run_cleanup.PROCESS_START_TAG: ""}
    orphan = create_run_for_test(instance, job_name="energy_pipeline", status=dg.DagsterRunStatus.STARTED, tags=dead)
    alive = create_run_for_test(
        instance, job_name="energy_pipeline", status=dg.DagsterRunStatus.STARTED, tags=run_cleanup.process_tags()
    )
    untagged = create_run_for_test(instance, job_name="energy_pipeline", status=dg.DagsterRunStatus.STARTED)
    client = mlflow.MlflowClient(current.mlflow_tracking_uri)
    from energy_assets.startup import ensure_experiment

    experiment = ensure_experiment(current)
    mlflow_runs = {
        r.run_id: client.create_run(experiment, tags={"dagster_run_id": r.run_id}).info.run_id for r in (orphan, alive)
    }

    assert run_cleanup.close_orphaned_runs(instance) == [orphan.run_id]
    assert instance.get_run_by_id(orphan.run_id).status == dg.DagsterRunStatus.FAILURE
    assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
    assert (
        instance.get_run_by_id(untagged.run_id).status == dg.DagsterRunStatus.STARTED
    )  # launched runs are the code server's to judge
    assert client.get_run(mlflow_runs[orphan.run_id]).info.status == "KILLED"
    assert client.get_run(mlflow_runs[alive.run_id]).info.status == "RUNNING"
    assert run_cleanup.close_orphaned_runs(instance) == []  # once


def _ingested(instance, area) -> None:
    """What an ingest of the area records: raw_readings materialized with the area's data version."""
    from energy_assets.ingest.reader import source_files, source_version

    instance.report_runless_asset_event(
        dg.AssetMaterialization("raw_readings", metadata={"dvc_md5": source_version(source_files(area))})
    )


def _evaluate(instance, cursor: str | None):
    # RawSource() resolves the area from the settings (ENERGY_RAW_CSV, set by the fixture), as in the code location
    return raw_area_exports(
        dg.build_sensor_context(instance=instance, cursor=cursor, resources={"raw_source": RawSource()})
    )


def test_the_raw_area_sensor_waits_for_a_first_ingest_then_requests_the_months_a_new_export_touches(home):
    _, area, instance = home
    first = _evaluate(instance, None)
    assert isinstance(first, dg.SkipReason) and "never materialized" in first.skip_message
    _ingested(instance, area)
    unchanged = _evaluate(instance, None)  # the area as ingested: recorded, nothing requested
    assert not unchanged.run_requests and json.loads(unchanged.cursor)[BUNDLED_CSV.name]["md5"] == file_md5(
        area / BUNDLED_CSV.name
    )

    lines = BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()
    december = [line for line in lines[1:] if line[2:11] == "/12/2018 " and line[:2] != "01"]
    (area / "export-2018-12.csv").write_text("\n".join([lines[0], *december]) + "\n")
    result = _evaluate(instance, unchanged.cursor)
    (request,) = result.run_requests
    assert request.tags["dagster/partition"] == "2018-12"
    assert request.tags["energy/exports"] == "export-2018-12.csv"
    assert request.run_config["ops"]["raw_readings"]["config"]["path"] == str(area)
    assert [r.partition_keys for r in result.dynamic_partitions_requests] == [["2018-12"]]
    assert not _evaluate(instance, result.cursor).run_requests  # the same file is not requested twice
    # An export that something else (the ingest flow) already ingested is recorded, not requested again.
    (area / "export-copy.csv").write_text((area / "export-2018-12.csv").read_text())
    _ingested(instance, area)
    assert not _evaluate(instance, result.cursor).run_requests


def test_an_unreadable_export_is_reported_once_by_name(home):
    _, area, instance = home
    _ingested(instance, area)
    baseline = _evaluate(instance, None).cursor
    (area / "broken.csv").write_text("when,what\n1,2\n")
    result = _evaluate(instance, baseline)
    assert not result.run_requests and "broken.csv" in result.skip_reason.skip_message
    assert "broken.csv" in json.loads(result.cursor)


@pytest.mark.parametrize("profile", ["local", "postgres"])
def test_run_monitoring_is_on_in_the_generated_dagster_yaml(tmp_path, profile):
    import yaml

    from energy_assets import settings, startup

    saved = os.environ.get("DAGSTER_HOME")
    current = settings.Settings(
        profile, tmp_path, BUNDLED_CSV, "sqlite:///unused.db", "postgresql://u:p@127.0.0.1:5432"
    )
    try:
        written = yaml.safe_load((startup.ensure_dagster_home(current) / "dagster.yaml").read_text())
    finally:
        if saved is None:
            os.environ.pop("DAGSTER_HOME", None)
        else:
            os.environ["DAGSTER_HOME"] = saved
    assert written["run_monitoring"]["enabled"] is True
    assert (
        written["run_monitoring"]["start_timeout_seconds"] > 0
        and written["run_monitoring"]["poll_interval_seconds"] > 0
    )


def test_features_follow_clean_data_and_models_wait_for_the_gated_flow():
    from energy_assets.definitions import defs

    graph = defs.resolve_asset_graph()
    automated = {
        key.to_user_string()
        for key in graph.materializable_asset_keys
        if graph.get(key).automation_condition is not None
    }
    assert automated == {"features", "train_readings", "holdout_readings"}
    sensor = defs.resolve_sensor_def("clean_data_followers")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
