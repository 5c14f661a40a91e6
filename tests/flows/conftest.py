"""Fixtures of the flow tests: one Prefect test server for the session, and isolated homes.

The flows run for real: Prefect's test harness (a temporary server, started once), the real
bundled data, and real Dagster runs in the Dagster instance of a temporary ENERGY_HOME. Flows that
move champions run in their own home so the session's champions (other tests use them) stay put.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_CSV, PROJECT_ROOT, isolated_home

# Cheap but real configs: the published-protocol CV is irrelevant to what these tests prove.
CHEAP_FORECASTER = {"max_iter": 60, "learning_rate": 0.1}
WORSE_ESTIMATOR = {"max_iter": 30, "cv_folds": 0}
GOOD_ESTIMATOR = {"cv_folds": 0}


@pytest.fixture(scope="session", autouse=True)
def prefect_server():
    """Prefect's test harness: a temporary server for the whole session, with retries that do not wait."""
    os.environ.setdefault("ENERGY_FLOW_RETRY_DELAY", "0")
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


def dvc_project(folder: Path) -> Path:
    """A git + DVC project holding a copy of the raw area, with a local remote; returns its raw area."""
    dvc = str(Path(sys.executable).with_name("dvc"))
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run([dvc, "init", "-q"], cwd=folder, check=True)
    subprocess.run([dvc, "config", "core.analytics", "false"], cwd=folder, check=True)
    subprocess.run([dvc, "remote", "add", "-d", "local", str(folder / "remote")], cwd=folder, check=True)
    area = folder / "data" / "raw"
    area.mkdir(parents=True)
    shutil.copyfile(
        PROJECT_ROOT / "data" / "raw" / "steel_industry_energy.csv.dvc", area / "steel_industry_energy.csv.dvc"
    )
    shutil.copyfile(BUNDLED_CSV, area / "steel_industry_energy.csv")
    return area


@pytest.fixture(scope="session")
def model_home(tmp_path_factory):
    """A home with the bundled data ingested (all months) and champions from a cheap, worse estimator."""
    from energy_assets.flows.retrain import retrain
    from energy_assets.pipeline import run_pipeline

    home = tmp_path_factory.mktemp("flows-model-home")
    with isolated_home(home):
        ingested = run_pipeline(BUNDLED_CSV, job_name="ingest_month")
        assert ingested.ok, ingested.failed_checks
        first = retrain(estimator=WORSE_ESTIMATOR, forecaster=CHEAP_FORECASTER)
        assert {d.decision for d in first.decisions.values()} == {"promoted"}, first.decisions
    return home


def latest_artifact(key: str) -> str:
    """The newest Prefect artifact with `key`, as text."""
    import asyncio

    from prefect.client.orchestration import get_client

    async def read():
        async with get_client() as client:
            return await client.read_latest_artifacts()

    found = [a for a in asyncio.run(read()) if a.key == key]
    assert found, f"no Prefect artifact {key!r}"
    return str(found[0].data)
