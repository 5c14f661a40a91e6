"""What the route tests share: the registry's champion as the API should report it, and the copilot's
domain answers on the readings the API serves (fixtures `client`, `override`, ... are tests/api/conftest.py's)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

QUANTILES = ("p025", "p10", "p50", "p90", "p975")


def champion(mlflow_client, name):
    found = mlflow_client.get_model_version_by_alias(name, "champion")
    # The SQL store hands out int versions, the REST store strings; the API always says strings.
    return SimpleNamespace(version=str(found.version), run_id=found.run_id, tags=found.tags)


@pytest.fixture(scope="module")
def domain(api_app):
    """The clean history and tariff the API serves from, priced by the domain package directly."""
    from energy_assets.copilot import service
    from energy_assets.copilot.tariff import load_tariff

    frame, version = api_app.state.history.snapshot()
    tariff = load_tariff()
    return service, service.prepare_history(frame.drop(columns="_day"), tariff), version, tariff


def plain(body: dict) -> dict:
    return json.loads(json.dumps(body))


def assert_lineage(body: dict, version: str, tariff, models: list[str]) -> None:
    assert body["lineage"]["readings_version"] == version and version.startswith("sha256:")
    assert body["lineage"]["tariff_version"] == tariff.label == body["tariff"]["tariff_version"]
    assert [m["model_name"] for m in body["lineage"]["models"]] == models
