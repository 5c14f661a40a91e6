"""Shared fixtures: one real pipeline run on the bundled data, in a temporary ENERGY_HOME.

The session's ENERGY_HOME is set before anything imports the project, so every Dagster instance,
MLflow store and Parquet file of the test session lives in a temporary folder. Tests that need a
second, isolated state (a corrupted export, a changed model) use `isolated_home`.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

_SESSION_HOME = Path(tempfile.mkdtemp(prefix="energy-test-home-"))
os.environ["ENERGY_HOME"] = str(_SESSION_HOME)
os.environ.pop("MLFLOW_TRACKING_URI", None)
os.environ.pop("ENERGY_RAW_CSV", None)
os.environ.setdefault("ENERGY_PROFILE", "local")

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUNDLED_CSV = PROJECT_ROOT / "data" / "uci" / "steel_industry_energy.csv"


@contextmanager
def process_tracking_uri(uri: str | None = None):
    """MLflow's process-wide store set to `uri` (when given) for a block, and put back after it.

    mlflow.set_tracking_uri also writes MLFLOW_TRACKING_URI, which the settings would read as a
    user's choice in every later test: the variable is put back as it was, after the store.
    """
    import mlflow

    saved_uri, saved_env = mlflow.get_tracking_uri(), os.environ.get("MLFLOW_TRACKING_URI")
    if uri is not None:
        mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(saved_uri)
        if saved_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = saved_env


@contextmanager
def isolated_home(path: Path, **env: str):
    """Point ENERGY_HOME (and the Dagster instance and MLflow store under it) at `path` for a block."""
    import mlflow

    from energy_assets import settings, startup

    saved = {k: os.environ.get(k) for k in ("ENERGY_HOME", "DAGSTER_HOME", "ENERGY_RAW_CSV", *env)}
    os.environ["ENERGY_HOME"] = str(path)
    os.environ.update(env)
    current = settings.get_settings()
    startup.ensure_dagster_home(current)
    mlflow.set_tracking_uri(current.mlflow_tracking_uri)
    try:
        yield current
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        mlflow.set_tracking_uri(settings.get_settings().mlflow_tracking_uri)


@pytest.fixture(scope="session")
def energy_home() -> Path:
    from energy_assets import startup

    startup.ensure_dagster_home()
    return _SESSION_HOME


@pytest.fixture(scope="session")
def pipeline_result(energy_home):
    """The whole graph materialized once on the real data; the champions it registers serve the session."""
    from energy_assets.pipeline import run_pipeline

    result = run_pipeline(BUNDLED_CSV)
    assert result.ok, f"the pipeline failed: {result.failed_checks}"
    return result


@pytest.fixture(scope="session")
def mlflow_client(pipeline_result):
    import mlflow

    from energy_assets.settings import get_settings

    return mlflow.MlflowClient(get_settings().mlflow_tracking_uri)
