"""GET /forecast/monthly: each month's metered usage beside the served forecaster's logged holdout backtest."""

from __future__ import annotations

import mlflow
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.settings import FORECASTER_MODEL_NAME, get_settings


def test_months_are_the_clean_readings_and_the_forecast_is_the_champion_s_backtest(client, mlflow_client, tmp_path):
    response = client.get("/forecast/monthly")
    assert response.status_code == 200, response.text
    body = response.json()
    champion = mlflow_client.get_model_version_by_alias(FORECASTER_MODEL_NAME, "champion")
    assert (
        body["lineage"]["model_version"] == str(champion.version)
        and body["lineage"]["mlflow_run_id"] == champion.run_id
    )
    assert response.headers["X-Model-Version"] == str(champion.version)

    clean = pd.concat(
        pd.read_parquet(p) for p in sorted((get_settings().asset_dir / "clean_readings").glob("*.parquet"))
    )
    months = schema.interval_day(clean[schema.TIMESTAMP]).dt.strftime("%Y-%m")
    actual = clean.groupby(months.to_numpy())[schema.TARGET].sum()
    by_month = {m["month"]: m for m in body["months"]}
    assert list(by_month) == actual.index.tolist()
    for month, kwh in actual.items():
        assert by_month[month]["actual_kwh"] == pytest.approx(kwh)

    path = mlflow.artifacts.download_artifacts(
        run_id=champion.run_id,
        artifact_path="backtest.parquet",
        dst_path=str(tmp_path),
        tracking_uri=mlflow_client.tracking_uri,
    )
    backtest = pd.read_parquet(path)
    forecast = backtest.groupby(
        schema.interval_day(pd.to_datetime(backtest["timestamp"])).dt.strftime("%Y-%m").to_numpy()
    )["predicted"].sum()
    assert forecast.index.tolist() == ["2018-10", "2018-11", "2018-12"]  # the holdout: days the model never trained on
    for month, row in by_month.items():
        if month in forecast.index:
            assert row["forecast_kwh"] == pytest.approx(forecast[month])
            assert (
                row["forecast_intervals"] == row["intervals"]
            )  # the backtest covers every clean interval of the month
            assert row["forecast_actual_kwh"] == pytest.approx(row["actual_kwh"])
            assert row["total_error_pct"] == pytest.approx(
                100 * (row["forecast_kwh"] - row["actual_kwh"]) / row["actual_kwh"]
            )
        else:
            assert row["forecast_kwh"] is None and row["forecast_intervals"] == 0
