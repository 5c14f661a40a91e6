"""No train/serve skew: the API reproduces the backtest predictions logged when the champions were trained."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from energy_assets import schema
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME

from ..conftest import reading_json


def _served(client, name: str) -> dict:
    return next(m for m in client.get("/model").json()["models"] if m["name"] == name)


def _backtest(mlflow_client, run_id: str, tmp_path) -> pd.DataFrame:
    path = mlflow_client.download_artifacts(run_id, "backtest.parquet", str(tmp_path))
    return pd.read_parquet(path)


def test_predict_on_the_holdout_reproduces_the_estimator_backtest(client, holdout, mlflow_client, tmp_path):
    served = _served(client, ESTIMATOR_MODEL_NAME)
    backtest = _backtest(mlflow_client, served["mlflow_run_id"], tmp_path)
    assert len(backtest) == len(holdout)
    assert (pd.to_datetime(backtest["timestamp"]).to_numpy() == holdout[schema.TIMESTAMP].to_numpy()).all()

    rows = [reading_json(row) for _, row in holdout.iterrows()]
    batch = client.post("/predict/batch", json={"readings": rows})
    assert batch.status_code == 200, batch.text
    np.testing.assert_allclose(batch.json()["usage_kwh"], backtest["predicted"].to_numpy(), rtol=0, atol=1e-9)

    # The single-row path featurizes without pandas: it must give the same numbers, row by row.
    sample = np.random.default_rng(7).choice(len(rows), size=150, replace=False)
    singles = [client.post("/predict", json=rows[i]).json()["usage_kwh"] for i in sample]
    np.testing.assert_allclose(singles, backtest["predicted"].to_numpy()[sample], rtol=0, atol=1e-9)


@pytest.mark.parametrize("day", ["2018-10-01", "2018-11-11", "2018-12-24"])
def test_forecast_of_a_holdout_day_reproduces_the_forecaster_backtest(client, mlflow_client, tmp_path, day):
    served = _served(client, FORECASTER_MODEL_NAME)
    backtest = _backtest(mlflow_client, served["mlflow_run_id"], tmp_path)
    response = client.get("/forecast", params={"day": day})
    assert response.status_code == 200, response.text
    forecast = pd.DataFrame(response.json()["intervals"])
    expected = backtest.set_index(pd.to_datetime(backtest["timestamp"]))["predicted"]
    got = forecast.set_index(pd.to_datetime(forecast["timestamp"]))["usage_kwh"]
    assert len(got) == 96
    np.testing.assert_allclose(got.to_numpy(), expected.reindex(got.index).to_numpy(), rtol=0, atol=1e-9)


@pytest.mark.parametrize("day", ["2018-10-01", "2018-12-24"])
def test_forecast_bands_of_a_holdout_day_reproduce_the_backtest_quantiles(client, mlflow_client, tmp_path, day):
    served = _served(client, FORECASTER_MODEL_NAME)
    backtest = _backtest(mlflow_client, served["mlflow_run_id"], tmp_path)
    quantiles = ["p025", "p10", "p50", "p90", "p975"]
    assert set(quantiles) <= set(backtest.columns)
    body = client.get("/forecast", params={"day": day}).json()
    assert body["bands"] is True
    forecast = pd.DataFrame(body["intervals"]).set_index(pd.to_datetime(pd.DataFrame(body["intervals"])["timestamp"]))
    expected = backtest.set_index(pd.to_datetime(backtest["timestamp"]))[quantiles].reindex(forecast.index)
    np.testing.assert_allclose(forecast[quantiles].to_numpy(), expected.to_numpy(), rtol=0, atol=1e-9)
