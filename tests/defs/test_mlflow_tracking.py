"""The `mlflow` resource keeps dagster-mlflow's behaviour: one MLflow run per Dagster run, in the experiment
kept under ENERGY_HOME, ended by end_mlflow_on_run_finished when the job's last step is done."""

from __future__ import annotations

import dagster as dg
import mlflow
from dagster_mlflow import end_mlflow_on_run_finished
from mlflow.entities import RunStatus

from energy_assets.defs.resources import MlflowTracking, ModelRegistry, child_run
from tests.conftest import isolated_home


@dg.asset
def tracked(mlflow: MlflowTracking) -> None:
    with child_run(mlflow, "tracked", {"energy/test": "yes"}):
        mlflow.run.log_metric("answer", 42.0)


def test_a_job_run_gets_one_mlflow_run_ended_by_the_hook(tmp_path):
    with isolated_home(tmp_path / "home") as current:
        registry = ModelRegistry(tracking_uri=current.mlflow_tracking_uri)
        defs = dg.Definitions(
            assets=[tracked],
            jobs=[dg.define_asset_job("tracked_job", hooks={end_mlflow_on_run_finished})],
            resources={"mlflow": MlflowTracking(registry=registry, experiment_name="resource-test")},
        )
        result = defs.resolve_job_def("tracked_job").execute_in_process(instance=dg.DagsterInstance.ephemeral())
        assert result.success
        client = registry.client()
        experiment = client.get_experiment_by_name("resource-test")
        assert experiment is not None
        # the experiment's artifacts are kept under ENERGY_HOME, not in ./mlruns
        assert experiment.artifact_location == current.mlflow_artifact_root.as_uri()
        (parent,) = client.search_runs([experiment.experiment_id], f"tags.dagster_run_id = '{result.run_id}'")
        assert parent.info.status == RunStatus.to_string(RunStatus.FINISHED)
        (child,) = client.search_runs([experiment.experiment_id], "tags.`energy/test` = 'yes'")
        assert child.data.tags["mlflow.parentRunId"] == parent.info.run_id
        assert child.data.metrics["answer"] == 42.0
    assert mlflow.active_run() is None
