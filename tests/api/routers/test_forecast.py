"""/forecast and /forecast/monthly (api/routers/forecast.py): the day's 96 intervals with bands, cost and
peak risk, the history behind them, and each month's usage beside the champion's logged backtest."""

from __future__ import annotations

import datetime as dt
import math

import mlflow
import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.settings import FORECASTER_MODEL_NAME

from .conftest import QUANTILES
from .conftest import champion as _champion


def test_forecast_gives_96_intervals_of_the_day(client, mlflow_client):
    response = client.get("/forecast", params={"day": "2018-11-14"})
    assert response.status_code == 200, response.text
    body = response.json()
    stamps = [dt.datetime.fromisoformat(i["timestamp"]) for i in body["intervals"]]
    assert len(stamps) == 96
    assert stamps[0] == dt.datetime(2018, 11, 14, 0, 15) and stamps[-1] == dt.datetime(2018, 11, 15, 0, 0)
    assert all(math.isfinite(i["usage_kwh"]) for i in body["intervals"])
    assert body["load_type_source"] == "clean_readings"
    assert body["lineage"]["model_version"] == _champion(mlflow_client, FORECASTER_MODEL_NAME).version


def test_forecast_beyond_the_data_uses_a_planned_schedule(client):
    body = client.get("/forecast", params={"day": "2019-01-01"}).json()  # the day after the last reading
    assert body["load_type_source"] == "planned_from_history"
    loads = [i["load_type"] for i in body["intervals"]]
    assert loads[0] == "Light_Load" and loads[11 * 4] != "Light_Load"  # nights light, working hours not


@pytest.mark.parametrize(
    ("day", "words"),
    [("2018-01-20", ["28 days", "2018-01-01"]), ("2019-03-01", ["28 days", "2018-12-31"]), ("9999-01-01", ["outside"])],
)
def test_forecast_without_enough_history_is_422_saying_why(client, day, words):
    response = client.get("/forecast", params={"day": day})
    assert response.status_code == 422
    message = response.json()["detail"][0]["msg"]
    assert all(word in message for word in words), message


def test_forecast_rejects_a_malformed_day(client):
    response = client.get("/forecast", params={"day": "14/11/2018"})
    assert response.status_code == 422 and "day" in response.text


def test_the_forecast_endpoint_reports_the_missing_history(client):
    # The genuine file's 47 rejected readings of 2018-01-02 fall in the 28 days before 2018-01-29.
    body = client.get("/forecast", params={"day": "2018-01-29"}).json()
    assert body["history_missing_intervals"] == 47 and len(body["intervals"]) == 96
    assert client.get("/forecast", params={"day": "2018-11-14"}).json()["history_missing_intervals"] == 0


def test_forecast_answers_bands_cost_and_peak_of_the_day(client, domain):
    _, _, version, tariff = domain
    response = client.get("/forecast", params={"day": "2018-11-14"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["bands"] is True and len(body["intervals"]) == 96
    for interval in body["intervals"]:
        values = [interval[q] for q in QUANTILES]
        assert values == sorted(values), interval  # quantiles never cross
    usage = np.array([i["usage_kwh"] for i in body["intervals"]])
    assert body["cost"]["energy_kwh"] == pytest.approx(usage.sum(), abs=1e-2)
    assert body["cost"]["peak_kw"] == pytest.approx(usage.max() * 4, abs=1e-2)
    peak = body["intervals"][int(usage.argmax())]
    assert body["cost"]["peak_at"] == peak["timestamp"]
    assert sum(p["charge"] for p in body["cost"]["energy_by_period"].values()) == pytest.approx(
        body["cost"]["energy_charge"], abs=0.05
    )
    assert body["lineage"]["model_name"] == FORECASTER_MODEL_NAME
    assert body["lineage"]["readings_version"] == version and body["lineage"]["tariff_version"] == tariff.label


def test_forecast_with_a_cap_gives_the_probability_of_exceeding_it(client):
    body = client.get("/forecast", params={"day": "2018-11-14", "cap_kw": 150}).json()
    risk = body["peak_risk"]
    assert risk["cap_kw"] == 150 and len(risk["intervals"]) == 96
    p = np.array([i["p_exceed"] for i in risk["intervals"]])
    assert ((p >= 0) & (p <= 1)).all()
    p90_kw = np.array([i["p90"] * 4 for i in body["intervals"]])
    # Where even the 90 % quantile is above the cap, exceeding it is more likely than not.
    assert (p[p90_kw > 150 * 1.5] > 0.5).all() and (p90_kw > 150 * 1.5).any()
    assert client.get("/forecast", params={"day": "2018-11-14", "cap_kw": -5}).status_code == 422


def test_months_are_the_clean_readings_and_the_forecast_is_the_champion_s_backtest(
    client, mlflow_client, api_config, tmp_path
):
    response = client.get("/forecast/monthly")
    assert response.status_code == 200, response.text
    body = response.json()
    champion = mlflow_client.get_model_version_by_alias(FORECASTER_MODEL_NAME, "champion")
    assert (
        body["lineage"]["model_version"] == str(champion.version)
        and body["lineage"]["mlflow_run_id"] == champion.run_id
    )
    assert response.headers["X-Model-Version"] == str(champion.version)

    clean = pd.concat(pd.read_parquet(p) for p in sorted(api_config.clean_readings_dir.glob("*.parquet")))
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
