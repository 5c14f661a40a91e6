"""The copilot assets materialize on the bundled year: every month billed, both checks pass, the plots attach."""

from __future__ import annotations

import dagster as dg
import pandas as pd
import pytest

from energy_assets.copilot import service
from energy_assets.defs.assets import copilot_assets, data_assets
from energy_assets.defs.partitions import MONTHS
from energy_assets.defs.resources import ParquetIOManager, RawSource
from tests.conftest import BUNDLED_CSV

MONTH_KEYS = [f"2018-{m:02d}" for m in range(1, 13)]


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    base = tmp_path_factory.mktemp("copilot-assets")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions(MONTHS, MONTH_KEYS)
    result = dg.materialize(
        [
            data_assets.raw_readings,
            data_assets.validated_readings,
            data_assets.clean_readings,
            copilot_assets.monthly_bill,
            copilot_assets.power_factor_report,
            copilot_assets.peak_report,
        ],
        instance=instance,
        resources={"io_manager": ParquetIOManager(base_dir=str(base)), "raw_source": RawSource()},
        run_config={"ops": {"raw_readings": {"config": {"path": str(BUNDLED_CSV)}}}},
        tags={
            "dagster/asset_partition_range_start": MONTH_KEYS[0],
            "dagster/asset_partition_range_end": MONTH_KEYS[-1],
        },
        raise_on_error=False,
    )
    return result, base


def test_monthly_bill_checks_pass_and_each_month_is_stored(materialized, priced):
    result, base = materialized
    assert result.success
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"check_bill_components_add_up": True, "check_bill_every_interval_priced": True}
    for month in MONTH_KEYS:
        stored = pd.read_parquet(base / "monthly_bill" / f"{month}.parquet")
        assert stored["total"].iloc[0] == pytest.approx(service.bill(priced, month)["bill"]["total"], abs=0.01)


def test_reports_carry_the_tariff_version_and_plots(materialized, tariff):
    result, base = materialized
    for name in ("monthly_bill", "power_factor_report", "peak_report"):
        events = [e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == name]
        assert sorted(e.partition for e in events) == MONTH_KEYS
        metadata = events[0].materialization.metadata
        assert metadata["tariff_version"].value == tariff.label
        assert metadata["plot"].value.startswith("![") and "data:image/png;base64," in metadata["plot"].value
    peaks = pd.read_parquet(base / "peak_report" / "2018-11.parquet")
    assert len(peaks) == copilot_assets.TOP_PEAKS and peaks["demand_kw"].is_monotonic_decreasing
    pf = pd.read_parquet(base / "power_factor_report" / "2018-10.parquet")
    assert pf["lagging_pf_pct_after"].iloc[0] >= copilot_assets.PF_TARGET_PCT - 1e-6


def test_a_bad_tariff_path_fails_naming_the_config_key(tmp_path):
    with pytest.raises(dg.Failure) as error:
        copilot_assets._tariff(copilot_assets.TariffConfig(tariff_path=str(tmp_path / "nope.yaml")))
    assert "tariff_path" in str(error.value.description) and "nope.yaml" in str(error.value.description)
