"""The slow layer of the API tests: the same fixture names as tests/api/conftest.py, over the session's
full-graph pipeline run (tests/conftest.py) instead of the small registry.

Only what the pipeline's own champions can show belongs here: the API reproduces the backtests the
pipeline logged (no train/serve skew), champions swap under load in a copy of the pipeline's
registry, /model/monitoring serves the drift report a Dagster run materialized, the MCP tools over
stdio read the pipeline's ENERGY_HOME.
"""

from __future__ import annotations

import pandas as pd
import pytest

# Registered again here, so that they are new fixtures over this folder's api_config (a session
# fixture made once for the small registry would otherwise be handed to these tests too).
from tests.api.conftest import api_app, client, reading, served_config  # noqa: F401
from tests.conftest import mlflow_client  # noqa: F401  (the pipeline's registry again, over the small one)


@pytest.fixture(scope="session")
def api_config(pipeline_result):
    from energy_assets.settings import get_settings

    current = get_settings()
    return served_config(current.mlflow_tracking_uri, current.asset_dir / "clean_readings")


@pytest.fixture(scope="session")
def holdout(energy_home, pipeline_result) -> pd.DataFrame:
    from energy_assets.settings import get_settings

    return pd.read_parquet(get_settings().asset_dir / "holdout_readings.parquet")
