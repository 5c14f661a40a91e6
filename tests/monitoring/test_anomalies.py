"""Anomalies: the band logic on a hand-made frame, and the monthly asset on the session's champion."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_assets.monitoring import anomalies


def test_outside_band_keeps_only_rows_outside_the_95_band_with_their_excess():
    frame = pd.DataFrame(
        {
            "timestamp": pd.date_range("2018-11-01 00:15", periods=4, freq="15min"),
            "actual": [10.0, 30.0, 1.0, np.nan],
            "predicted": [10.0, 10.0, 10.0, 10.0],
            "p025": [5.0, 5.0, 5.0, 5.0],
            "p10": [7.0] * 4,
            "p50": [10.0] * 4,
            "p90": [13.0] * 4,
            "p975": [20.0] * 4,
        }
    )
    out = anomalies.outside_band(frame)
    assert out["actual"].tolist() == [30.0, 1.0]
    assert out["direction"].tolist() == ["above", "below"]
    assert out["excess_kwh"].tolist() == [10.0, 4.0]
    with pytest.raises(anomalies.AnomalyInputError, match="bands: missing columns"):
        anomalies.outside_band(frame.drop(columns="p975"))


def test_forecast_anomalies_asset_materializes_a_holdout_month(pipeline_result):
    import dagster as dg

    from energy_assets.definitions import defs
    from energy_assets.settings import get_settings

    instance = dg.DagsterInstance.get()
    result = defs.resolve_job_def("detect_anomalies").execute_in_process(instance=instance, partition_key="2018-11")
    assert result.success
    event = instance.get_latest_materialization_event(dg.AssetKey("forecast_anomalies"))
    meta = {k: v.value for k, v in event.asset_materialization.metadata.items()}
    assert event.asset_materialization.partition == "2018-11"
    assert meta["intervals"] == 30 * 96
    assert meta["in_training_period"] is False
    # A calibrated 95 % band leaves about 5 % outside; far more or far fewer would mean a broken band.
    assert 0.01 <= meta["share"] <= 0.12, meta
    table = pd.read_parquet(get_settings().asset_dir / "forecast_anomalies" / "2018-11.parquet")
    assert len(table) == meta["anomalies"] == meta["above_band"] + meta["below_band"]
    outside = (table["actual"] > table["p975"]) | (table["actual"] < table["p025"])
    assert outside.all() and (table["excess_kwh"] > 0).all()
    assert table["excess_kwh"].is_monotonic_decreasing
