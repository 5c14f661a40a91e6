"""Sites as data: the id rule, discovery from a raw area, per-site model names, synthetic sites."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from energy_assets import schema, settings
from energy_assets.ingest.reader import read_raw
from energy_assets.ingest.sourcemap import load_source_map
from energy_assets.ingest.validation import validate
from energy_assets.sites import naming, registry, synthetic
from energy_assets.sites.ids import DEFAULT_SITE, SiteIdError, check_site_id
from tests.conftest import BUNDLED_CSV

SOURCE_MAP = """\
columns:
  Zeitstempel: timestamp
  Wirkenergie: usage_kwh
  Blind_nacheilend: lagging_reactive_power_kvarh
  Blind_voreilend: leading_reactive_power_kvarh
  CO2: co2_tco2
  LF_nacheilend: lagging_power_factor
  LF_voreilend: leading_power_factor
  NSM: nsm
  Wochenstatus: week_status
  Wochentag: day_of_week
  Lasttyp: load_type
delimiter: ";"
"""


def write_mapped_export(clean: pd.DataFrame, path, site: str) -> None:
    """A synthetic export with the German headers and ';' separator that SOURCE_MAP describes."""
    export = synthetic.synthesize(clean, synthetic.SyntheticSpec(site, seed=3))
    export.columns = [line.split(":")[0].strip() for line in SOURCE_MAP.splitlines()[1:12]]
    export.to_csv(path, sep=";", index=False)


@pytest.fixture(scope="module")
def bundled_clean() -> pd.DataFrame:
    """Three weeks of the bundled plant's clean readings: enough for every calendar case, fast."""
    frame, _, _ = read_raw(BUNDLED_CSV)
    clean = validate(frame).clean
    return clean[clean["timestamp"] < pd.Timestamp("2018-01-22")].reset_index(drop=True)


@pytest.mark.parametrize("value", ["uci-steel", "plant-b2", "a", "site9"])
def test_valid_site_ids(value):
    assert check_site_id(value) == value


@pytest.mark.parametrize("value", ["Plant-B", "plant_b", "plant--b", "-plant", "plant-", "9plant", "", "a" * 41, 7])
def test_invalid_site_ids_name_where_they_came_from(value):
    with pytest.raises(SiteIdError, match=r"site folder /x/y: .* is not a valid site id; a site id is"):
        check_site_id(value, "site folder /x/y")


def test_default_site_keeps_todays_model_names():
    assert DEFAULT_SITE == "uci-steel"
    assert naming.estimator_model_name() == settings.ESTIMATOR_MODEL_NAME == "energy-usage-estimator"
    assert naming.forecaster_model_name(DEFAULT_SITE) == settings.FORECASTER_MODEL_NAME
    assert naming.split_model_name("energy-usage-estimator") == ("energy-usage-estimator", DEFAULT_SITE)


def test_other_sites_get_a_suffix_that_splits_back():
    name = naming.forecaster_model_name("plant-b2")
    assert name == "energy-day-ahead-forecaster--plant-b2"
    assert "/" not in name and ":" not in name  # MLflow forbids only these in a model name
    assert naming.split_model_name(name) == (settings.FORECASTER_MODEL_NAME, "plant-b2")
    with pytest.raises(ValueError, match="registered as 'energy-usage-estimator', without a suffix"):
        naming.split_model_name("energy-usage-estimator--uci-steel")
    with pytest.raises(ValueError, match="not a registered model name"):
        naming.split_model_name("some-model--plant-b2")
    with pytest.raises(SiteIdError):
        naming.estimator_model_name("Plant B")


def test_todays_flat_raw_area_is_the_default_site_alone(tmp_path):
    shutil.copy(BUNDLED_CSV, tmp_path)
    sites = registry.discover_sites(tmp_path)
    assert [(s.id, s.source, s.files, s.synthetic) for s in sites] == [
        (DEFAULT_SITE, tmp_path, (tmp_path / BUNDLED_CSV.name,), False)
    ]
    frame, version, _ = registry.read_site(sites[0])
    assert version == read_raw(tmp_path)[1]  # the same data version as reading the area today
    assert len(frame) == 35040


def test_a_single_export_file_is_the_default_site():
    (site,) = registry.discover_sites(BUNDLED_CSV)
    assert (site.id, site.files) == (DEFAULT_SITE, (BUNDLED_CSV,))


def test_site_folders_with_their_own_source_map(tmp_path, bundled_clean):
    shutil.copy(BUNDLED_CSV, tmp_path)
    plant = tmp_path / "plant-b2"
    plant.mkdir()
    (tmp_path / ".cache").mkdir()  # hidden folders are not sites
    write_mapped_export(bundled_clean, plant / "2018-01.csv", "plant-b2")
    (plant / registry.SOURCE_MAP_FILE).write_text(SOURCE_MAP)

    sites = registry.discover_sites(tmp_path)
    assert [s.id for s in sites] == [DEFAULT_SITE, "plant-b2"]
    site = sites[1]
    assert site.source_map_path == plant / registry.SOURCE_MAP_FILE and not site.synthetic
    frame, _, files = registry.read_site(site)
    assert files == [plant / "2018-01.csv"]
    assert frame.attrs["source_map"]["origin"] == str(plant / registry.SOURCE_MAP_FILE)
    assert validate(frame).counts["rejected_rows"] == 0


def test_discovery_errors_name_the_folder(tmp_path):
    (tmp_path / "Plant_B").mkdir()
    with pytest.raises(registry.SiteError, match=r"site folder .*Plant_B: 'Plant_B' is not a valid site id"):
        registry.discover_sites(tmp_path)
    shutil.rmtree(tmp_path / "Plant_B")
    (tmp_path / "plant-b").mkdir()
    with pytest.raises(registry.SiteError, match=r"site folder .*plant-b holds no export"):
        registry.discover_sites(tmp_path)
    (tmp_path / "plant-b" / "a.csv").write_text("date\n")
    (tmp_path / "plant-b" / registry.METADATA_FILE).write_text("synthetic: maybe\n")
    with pytest.raises(registry.SiteError, match=r"plant-b/site.yaml: key 'synthetic' must be true or false"):
        registry.discover_sites(tmp_path)
    with pytest.raises(registry.SiteError, match="does not exist"):
        registry.discover_sites(tmp_path / "missing")


def test_the_bundled_site_lives_in_one_place_and_is_never_synthetic(tmp_path):
    shutil.copy(BUNDLED_CSV, tmp_path)
    (tmp_path / DEFAULT_SITE).mkdir()
    (tmp_path / DEFAULT_SITE / "a.csv").write_text("date\n")
    with pytest.raises(registry.SiteError, match="already has the exports directly in"):
        registry.discover_sites(tmp_path)
    (tmp_path / BUNDLED_CSV.name).unlink()
    (tmp_path / DEFAULT_SITE / registry.METADATA_FILE).write_text("synthetic: true\n")
    with pytest.raises(registry.SiteError, match="cannot be synthetic"):
        registry.discover_sites(tmp_path)
    with pytest.raises(ValueError, match="cannot be synthetic"):
        synthetic.SyntheticSpec(DEFAULT_SITE, seed=1)


def test_synthetic_sites_validate_clean_and_stay_out_of_the_real_sites(tmp_path, bundled_clean):
    shutil.copy(BUNDLED_CSV, tmp_path)
    specs = synthetic.fleet_specs(3, seed=5)
    assert [s.site for s in specs] == ["synthetic-001", "synthetic-002", "synthetic-003"]
    assert all(0.5 <= s.scale <= 2.0 and s.shift_days % 7 == 0 for s in specs)
    big = synthetic.SyntheticSpec("synthetic-big", seed=9, scale=40.0, noise=0.3, shift_days=10)
    for spec in [*specs, big]:
        synthetic.write_synthetic_site(tmp_path, bundled_clean, spec)

    sites = registry.discover_sites(tmp_path)
    assert [s.id for s in registry.real_sites(sites)] == [DEFAULT_SITE]
    by_id = {s.id: s for s in sites}
    for spec in [*specs, big]:
        site = by_id[spec.site]
        assert site.synthetic and site.metadata["scale"] == spec.scale
        frame, _, _ = registry.read_site(site)
        result = validate(frame)
        assert result.counts == {
            "raw_rows": len(bundled_clean),
            "clean_rows": len(bundled_clean),
            "rejected_rows": 0,
            "exact_duplicates_dropped": 0,
        }, result.reason_counts()
        clean = result.clean
        assert (clean["timestamp"] == bundled_clean["timestamp"] + spec.shift).all()
        assert clean["usage_kwh"].max() <= 500.0  # clipped into the schema's range even at scale 40
    ratio = (
        validate(registry.read_site(by_id[specs[0].site])[0]).clean["usage_kwh"].sum()
        / bundled_clean["usage_kwh"].sum()
    )
    assert ratio == pytest.approx(specs[0].scale, rel=0.02)


def test_synthesis_is_seeded(bundled_clean):
    spec = synthetic.SyntheticSpec("synthetic-001", seed=11)
    assert synthetic.synthesize(bundled_clean, spec).equals(synthetic.synthesize(bundled_clean, spec))
    other = synthetic.SyntheticSpec("synthetic-001", seed=12)
    assert not synthetic.synthesize(bundled_clean, spec).equals(synthetic.synthesize(bundled_clean, other))


def test_a_site_without_its_own_map_reads_with_the_configured_one(tmp_path, bundled_clean):
    plant = tmp_path / "plant-c"
    plant.mkdir()
    write_mapped_export(bundled_clean, plant / "a.csv", "plant-c")
    (site,) = registry.discover_sites(tmp_path)
    assert site.source_map_path is None
    with pytest.raises(schema.SchemaError, match="wrong columns"):
        registry.read_site(site)  # the UCI map does not fit this export
    (tmp_path / "map.yaml").write_text(SOURCE_MAP)
    frame, _, _ = registry.read_site(site, source_map=load_source_map(tmp_path / "map.yaml"))
    assert validate(frame).counts["clean_rows"] == len(bundled_clean)
