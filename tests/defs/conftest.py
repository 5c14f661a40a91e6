"""Asset-level tests: assets, checks and sensors called directly with their resources, no Dagster run.

Each test hands the definition the resources it names in its signature (a RawSource over a file in
tmp_path, a ModelRegistry on an MLflow SQLite store in tmp_path), so these run in seconds.
"""

from __future__ import annotations

import pytest

from energy_assets import lineage
from energy_assets.defs.resources import ModelRegistry


@pytest.fixture(scope="module")
def _module_registry(tmp_path_factory) -> ModelRegistry:
    # Creating an MLflow SQLite store runs its migrations (seconds): one store per module, emptied per test.
    return ModelRegistry(tracking_uri=f"sqlite:///{tmp_path_factory.mktemp('registry') / 'mlflow.db'}")


@pytest.fixture
def registry(_module_registry) -> ModelRegistry:
    """An MLflow registry (SQLite in a temporary folder) holding no registered model."""
    client = _module_registry.client()
    for model in client.search_registered_models():
        client.delete_registered_model(model.name)
    return _module_registry


def register(registry: ModelRegistry, name: str, holdout_rmse: float) -> str:
    """A model version as the model assets leave it: registered, tagged with its holdout RMSE."""
    client = registry.client()
    if not client.search_registered_models(f"name = '{name}'"):
        client.create_registered_model(name)
    version = client.create_model_version(
        name, source=f"{registry.uri()}-artifacts/model", tags={lineage.TAG_HOLDOUT_RMSE: f"{holdout_rmse:.6f}"}
    )
    return str(version.version)
