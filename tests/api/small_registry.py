"""A small but real ENERGY_HOME for the fast API tests: no Dagster run, seconds instead of minutes.

What the API reads, made the way the pipeline makes it, only smaller:
- `assets/clean_readings/<month>.parquet`: the bundled export read and validated by the ingest
  package (every month of 2018, so every day the routes are asked about has its real history);
- `mlflow.db` + `artifacts/`: an MLflow registry holding both served models, each the project's own
  recipe (energy_assets.training.models) with few boosting steps, trained on a slice of the training
  months, logged with its input example and holdout backtest, tagged with its lineage and holdout
  scores, judged by the champion gate and promoted under the champion alias.

The pipeline's models are in the session's full-graph run (tests/conftest.py); what only they can
show (no skew against their backtests, the lineage of a Dagster run) is tested there.
"""

from __future__ import annotations

import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from energy_assets import lineage, schema
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME, get_settings
from tests.conftest import process_tracking_uri

# Months of the training period the small models see: the forecaster needs its 28 warm-up days and
# its calibration days, the estimator any slice will do.
TRAIN_SLICE = ("2018-06-01", "2018-10-01")
# Few boosting steps, so larger ones than the pipeline's: the models must still fit the data well
# enough for the routes' answers to mean something (peaks above a cap, bands around them).
STEPS = 40
LEARNING_RATE = 0.2
CALIBRATION_MONTHS = 2  # Aug and Sep of the slice, each forecast by a model fitted on the days before


@dataclass(frozen=True)
class SmallHome:
    home: Path
    tracking_uri: str
    clean_readings_dir: Path
    data_version: str
    holdout: pd.DataFrame
    # The Dagster run id the versions are tagged with: a fresh id, there being no Dagster run here.
    run_tag: str

    def client(self) -> mlflow.MlflowClient:
        return mlflow.MlflowClient(self.tracking_uri, registry_uri=self.tracking_uri)


def _clean_readings(csv: Path) -> pd.DataFrame:
    from energy_assets.ingest import reader
    from energy_assets.ingest.validation import validate

    raw, _, _ = reader.read_raw(csv)
    return validate(raw).clean


def _write_months(clean: pd.DataFrame, folder: Path) -> None:
    """One Parquet file per month of interval start, as the clean_readings asset's partitions are stored."""
    from energy_assets.ingest.validation import month_of

    folder.mkdir(parents=True)
    months = month_of(clean[schema.TIMESTAMP]).to_numpy()
    for month in sorted(set(months)):
        clean[months == month].reset_index(drop=True).to_parquet(folder / f"{month}.parquet", index=False)


def _register(
    home: SmallHome,
    experiment_id: str,
    name: str,
    model,
    example: pd.DataFrame,
    backtest: pd.DataFrame,
    baseline_rmse: float,
) -> str:
    """Log `model` with its backtest, register it, tag it as the pipeline does, pass it through the gate."""
    from energy_assets.defs.assets.model_assets import SKOPS_TRUSTED_TYPES
    from energy_assets.gating.champion import decide, promote
    from energy_assets.monitoring.champions import BACKTEST_ARTIFACT
    from energy_assets.training import evaluation

    holdout = evaluation.regression_metrics(backtest["actual"], backtest["predicted"])
    tags = {
        lineage.TAG_DAGSTER_RUN: home.run_tag,
        lineage.TAG_DATA_VERSION: home.data_version,
        lineage.TAG_GIT_COMMIT: lineage.git_commit(),
        lineage.TAG_CODE_VERSION: lineage.code_version(),
    }
    # log_model logs to the process-wide store; afterwards it is the session's, as isolated_home leaves it.
    with process_tracking_uri(home.tracking_uri), mlflow.start_run(experiment_id=experiment_id, tags=tags):
        mlflow.log_metrics({f"holdout_{k}": v for k, v in holdout.items()})
        with tempfile.TemporaryDirectory() as folder:
            backtest.to_parquet(Path(folder) / BACKTEST_ARTIFACT, index=False)
            mlflow.log_artifact(str(Path(folder) / BACKTEST_ARTIFACT))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            input_example=example,
            registered_model_name=name,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
            pip_requirements=[],
        )
    mlflow.set_tracking_uri(get_settings().mlflow_tracking_uri)
    version = str(info.registered_model_version)
    client = home.client()
    scores = {
        lineage.TAG_HOLDOUT_RMSE: holdout["rmse"],
        lineage.TAG_HOLDOUT_MAE: holdout["mae"],
        lineage.TAG_HOLDOUT_R2: holdout["r2"],
    }
    for key, value in {**tags, **{k: f"{v:.6f}" for k, v in scores.items()}}.items():
        client.set_model_version_tag(name, version, key, value)
    decision = decide(client, name, version, baseline_rmse)
    assert decision.promote, f"the small {name} must beat {decision.describe()}"
    promote(client, name, version)
    return version


def build_small_home(home: Path, csv: Path) -> SmallHome:
    from energy_assets.ingest.reader import DATA_VERSION
    from energy_assets.training import bands, evaluation
    from energy_assets.training.models import (
        EstimatorParams,
        ForecasterParams,
        build_usage_estimator,
        estimator_input,
        fit_day_ahead_forecaster,
    )

    clean = _clean_readings(csv)
    clean_dir = home / "assets" / "clean_readings"
    _write_months(clean, clean_dir)
    labelled = clean[clean[schema.TARGET].notna()].reset_index(drop=True)
    train, holdout = evaluation.time_split(labelled)
    day = schema.interval_day(train[schema.TIMESTAMP])
    sliced = train[((day >= TRAIN_SLICE[0]) & (day < TRAIN_SLICE[1])).to_numpy()].reset_index(drop=True)

    uri = f"sqlite:///{home / 'mlflow.db'}"
    small = SmallHome(home, uri, clean_dir, clean.attrs[DATA_VERSION], holdout, run_tag=uuid.uuid4().hex)
    experiment_id = small.client().create_experiment("small-registry", artifact_location=(home / "artifacts").as_uri())
    baseline = evaluation.seasonal_naive_rmse(labelled, holdout)

    estimator = build_usage_estimator(EstimatorParams(max_iter=STEPS, learning_rate=LEARNING_RATE)).fit(
        estimator_input(sliced), sliced[schema.TARGET]
    )
    _register(
        small,
        experiment_id,
        ESTIMATOR_MODEL_NAME,
        estimator,
        estimator_input(holdout.head(5)),
        evaluation.backtest_frame(holdout, estimator.predict(estimator_input(holdout))),
        baseline,
    )

    params = ForecasterParams(
        max_iter=STEPS,
        learning_rate=LEARNING_RATE,
        calibration_months=CALIBRATION_MONTHS,
    )
    forecaster = fit_day_ahead_forecaster(sliced, params)
    first_day = schema.interval_day(holdout[schema.TIMESTAMP]) == schema.interval_day(holdout[schema.TIMESTAMP]).iloc[0]
    example = holdout[first_day.to_numpy()][list(schema.COLUMNS)].head(5).assign(usage_kwh=np.nan)
    _register(
        small,
        experiment_id,
        FORECASTER_MODEL_NAME,
        forecaster,
        example,
        bands.banded_backtest(forecaster, train, holdout),
        baseline,
    )
    return small
