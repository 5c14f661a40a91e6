"""Starting up does what settings no longer do: telemetry defaults, dagster.yaml, the MLflow experiment."""

from __future__ import annotations

import os
import subprocess
import sys

import mlflow
import yaml

from energy_assets import settings, startup
from tests.conftest import PROJECT_ROOT, isolated_home, process_tracking_uri


def test_reading_the_settings_sets_nothing():
    env = {k: v for k, v in os.environ.items() if k not in startup.TELEMETRY_DEFAULTS}
    script = "import os, energy_assets.settings as s; s.get_settings(); print(sorted(set(os.environ) & set(%r)))"
    done = subprocess.run(
        [sys.executable, "-c", script % list(startup.TELEMETRY_DEFAULTS)],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_telemetry_defaults_leave_a_users_choice_alone(monkeypatch):
    for key in startup.TELEMETRY_DEFAULTS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DO_NOT_TRACK", "false")
    startup.telemetry_off()
    assert os.environ["DAGSTER_DISABLE_TELEMETRY"] == "1" and os.environ["MLFLOW_DISABLE_TELEMETRY"] == "true"
    assert os.environ["DO_NOT_TRACK"] == "false"


def test_mlflows_echo_of_a_derived_uri_is_not_read_as_a_users_override(tmp_path):
    with process_tracking_uri(), isolated_home(tmp_path / "a") as first:
        startup.ensure_experiment(first, name="startup-test")
        # mlflow.set_tracking_uri wrote the derived URI back into the environment ...
        assert os.environ["MLFLOW_TRACKING_URI"] == first.mlflow_tracking_uri == mlflow.get_tracking_uri()
        os.environ["ENERGY_HOME"] = str(tmp_path / "b")
        # ... and the settings still follow ENERGY_HOME, fresh on every call
        assert settings.get_settings().mlflow_tracking_uri == f"sqlite:///{tmp_path / 'b' / 'mlflow.db'}"
        experiment = mlflow.MlflowClient(first.mlflow_tracking_uri).get_experiment_by_name("startup-test")
        assert experiment.artifact_location == first.mlflow_artifact_root.as_uri()


def test_dagster_home_is_written_and_pointed_at(tmp_path):
    with isolated_home(tmp_path) as current:
        home = startup.ensure_dagster_home(current)
        assert os.environ["DAGSTER_HOME"] == str(home) == str(tmp_path / "dagster")
        written = yaml.safe_load((home / "dagster.yaml").read_text())
        assert written["storage"] == current.dagster_storage_config()
        assert written["run_monitoring"] == startup.RUN_MONITORING and written["telemetry"] == {"enabled": False}


def test_the_command_line_prints_the_backends(tmp_path):
    env = {**os.environ, "ENERGY_HOME": str(tmp_path), "ENERGY_PROFILE": "local"}
    env.pop("MLFLOW_TRACKING_URI", None)
    done = subprocess.run(
        [sys.executable, "-m", "energy_assets.startup"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert f"ENERGY_HOME    {tmp_path}" in done.stdout and "executor       in_process" in done.stdout
    env["ENERGY_PROFILE"] = "cloud"
    bad = subprocess.run(
        [sys.executable, "-m", "energy_assets.startup"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True
    )
    assert bad.returncode == 2 and "ENERGY_PROFILE='cloud' is not one of ['local', 'postgres']" in bad.stderr
