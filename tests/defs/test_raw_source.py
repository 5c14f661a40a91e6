"""raw_readings and the raw-area sensor over a RawSource in tmp_path."""

from __future__ import annotations

import dagster as dg
import pytest

from energy_assets.defs.assets.data_assets import RawSourceConfig, raw_readings
from energy_assets.defs.resources import RawSource
from energy_assets.defs.sensors import raw_area_exports
from tests.conftest import BUNDLED_CSV

DAYS = ("01/03/2018", "02/03/2018", "01/04/2018")  # two months, a few days each


@pytest.fixture
def export(tmp_path):
    """A small export in the UCI shape: a few days of March and April 2018, in a raw area of its own."""
    lines = BUNDLED_CSV.read_text(encoding="utf-8-sig").splitlines()
    kept = [line for line in lines[1:] if line[:10] in DAYS]
    area = tmp_path / "raw"
    area.mkdir()
    path = area / "export.csv"
    path.write_text("\n".join([lines[0], *kept]) + "\n")
    return path, len(kept)


def test_raw_readings_reads_the_raw_source_and_registers_its_months(export):
    path, rows = export
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_asset_context(instance=instance, resources={"raw_source": RawSource(path=str(path))})
    output = raw_readings(context, RawSourceConfig())
    assert len(output.value) == rows
    assert output.metadata["source"].value == str(path)
    assert output.metadata["files"].value == ["export.csv"]
    assert sorted(instance.get_dynamic_partitions("month")) == ["2018-03", "2018-04"]
    assert output.data_version is not None and output.data_version.value == output.metadata["dvc_md5"].value


def test_the_run_config_path_wins_over_the_resource(export, tmp_path):
    path, _ = export
    context = dg.build_asset_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"raw_source": RawSource(path=str(tmp_path / "elsewhere"))}
    )
    assert raw_readings(context, RawSourceConfig(path=str(path))).metadata["source"].value == str(path)


def test_a_missing_source_fails_naming_the_file_and_the_config_key(tmp_path):
    missing = tmp_path / "no-such-export.csv"
    context = dg.build_asset_context(
        instance=dg.DagsterInstance.ephemeral(), resources={"raw_source": RawSource(path=str(missing))}
    )
    with pytest.raises(dg.Failure) as failure:
        raw_readings(context, RawSourceConfig())
    assert str(missing) in str(failure.value.description) and "ops.raw_readings.config.path" in str(
        failure.value.description
    )


def test_the_resource_resolves_an_empty_path_from_the_settings_when_used(export, monkeypatch):
    path, _ = export
    source = RawSource()
    monkeypatch.setenv("ENERGY_RAW_CSV", str(path))
    assert source.source() == path and source.area() == path.parent
    monkeypatch.setenv("ENERGY_RAW_CSV", str(path.parent))
    assert source.area() == path.parent
    monkeypatch.setenv("ENERGY_SOURCE_MAP", "/maps/plant.yaml")
    assert source.map_path() == "/maps/plant.yaml"
    assert RawSource(source_map="/maps/other.yaml").map_path() == "/maps/other.yaml"


def test_the_sensor_watches_the_area_of_its_raw_source(export):
    path, _ = export
    instance = dg.DagsterInstance.ephemeral()
    context = dg.build_sensor_context(instance=instance, resources={"raw_source": RawSource(path=str(path))})
    assert isinstance(raw_area_exports(context), dg.SkipReason)  # nothing ingested yet: no request
    instance.report_runless_asset_event(dg.AssetMaterialization("raw_readings", metadata={"dvc_md5": "older"}))
    context = dg.build_sensor_context(instance=instance, resources={"raw_source": RawSource(path=str(path))})
    result = raw_area_exports(context)
    (request,) = result.run_requests
    assert request.run_config == {"ops": {"raw_readings": {"config": {"path": str(path.parent)}}}}
    assert request.tags["dagster/asset_partition_range_start"] == "2018-03"
    assert request.tags["dagster/asset_partition_range_end"] == "2018-04"
