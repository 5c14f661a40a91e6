"""Model assets: train on Jan-Sep, judge on Oct-Dec, log to MLflow, register, and promote past the gate."""

import base64
import tempfile
from dataclasses import asdict
from importlib.metadata import version as installed
from pathlib import Path
from typing import Any

import dagster as dg
import mlflow
import numpy as np
import pandas as pd
from mlflow.models import infer_signature
from pydantic import Field

from energy_assets import lineage, schema
from energy_assets.defs.resources import MlflowTracking, ModelRegistry, child_run
from energy_assets.gating.champion import promote
from energy_assets.ingest.reader import DATA_VERSION, combine_versions
from energy_assets.settings import ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME
from energy_assets.training import bands, evaluation
from energy_assets.training.models import (
    EstimatorParams,
    ForecasterParams,
    build_usage_estimator,
    estimator_input,
    fit_day_ahead_forecaster,
    random_cv_rmse,
)

# Listing requirements explicitly spares log_model seconds of dependency inference.
# Models are saved with skops, which loads only reviewed types: ours and the boosted trees' nodes.
SKOPS_TRUSTED_TYPES = [
    "energy_assets.features.transformers.DayAheadFeatures",
    "energy_assets.features.transformers.EstimatorFeatures",
    "energy_assets.training.bands.BandedForecastRegressor",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
]
PIP_REQUIREMENTS = [f"{name}=={installed(name)}" for name in ("mlflow", "scikit-learn", "pandas", "numpy", "pyarrow")]


class EstimatorConfig(dg.Config):
    max_iter: int = Field(default=EstimatorParams.max_iter, description="Boosting iterations.")
    learning_rate: float = Field(default=EstimatorParams.learning_rate)
    seed: int = Field(default=EstimatorParams.seed, description="Random seed: same data + code + seed = same model.")
    cv_folds: int = Field(default=5, description="Folds of the published random-CV protocol (0 skips it).")

    def params(self) -> EstimatorParams:
        return EstimatorParams(max_iter=self.max_iter, learning_rate=self.learning_rate, seed=self.seed)


class ForecasterConfig(dg.Config):
    """Every ForecasterParams field, so a recorded run can be replayed exactly (verify_reproducibility)."""

    max_iter: int = Field(default=ForecasterParams.max_iter, description="Boosting iterations.")
    learning_rate: float = Field(default=ForecasterParams.learning_rate)
    max_depth: int | None = Field(default=ForecasterParams.max_depth)
    max_leaf_nodes: int | None = Field(default=ForecasterParams.max_leaf_nodes)
    min_samples_leaf: int = Field(default=ForecasterParams.min_samples_leaf)
    l2_regularization: float = Field(default=ForecasterParams.l2_regularization)
    loss: str = Field(default=ForecasterParams.loss, description="The point model's loss: poisson or squared_error.")
    early_stopping: str = Field(
        default=ForecasterParams.early_stopping, description="auto (on above 10,000 rows), on or off."
    )
    seed: int = Field(default=ForecasterParams.seed, description="Random seed: same data + code + seed = same model.")
    features: list[str] = Field(
        default=list(ForecasterParams.features), description="DayAheadFeatures columns the point model reads."
    )
    history_days: int = Field(default=ForecasterParams.history_days, description="Warm-up days that only feed lags.")
    calibration_months: int = Field(
        default=ForecasterParams.calibration_months,
        description="Last months of the training period whose rolling-origin forecast residuals calibrate the bands.",
    )
    band_scale_kwh: float | None = Field(
        default=ForecasterParams.band_scale_kwh, description="kWh added to the point to scale a residual (None: plain)."
    )
    band_groups: list[str] = Field(
        default=list(ForecasterParams.band_groups), description="Feature columns whose groups calibrate apart."
    )

    def params(self) -> ForecasterParams:
        values: dict[str, Any] = {
            name: tuple(value) if isinstance(value, list) else value for name, value in self.model_dump().items()
        }
        return ForecasterParams(**values)


def raw_data_version(*frames: pd.DataFrame) -> str:
    """The DVC md5 of the raw export the readings came from: it travels with them (DataFrame.attrs).

    Read from the data itself, not from the raw asset's latest materialization, which a concurrent
    run may have replaced.
    """
    versions = [frame.attrs.get(DATA_VERSION) for frame in frames]
    if not all(versions):
        raise dg.Failure("the readings carry no raw data version (materialize clean_readings again)")
    distinct = sorted(set(versions))
    return distinct[0] if len(distinct) == 1 else combine_versions({str(i): v for i, v in enumerate(distinct)})


def with_target(readings: pd.DataFrame) -> pd.DataFrame:
    """Rows that have a target: the only ones a model is fitted or scored on."""
    return readings[readings[schema.TARGET].notna()].reset_index(drop=True)


def _lineage_tags(context: dg.AssetExecutionContext, data_version: str) -> dict[str, str]:
    return {
        lineage.TAG_DAGSTER_RUN: context.run.run_id,
        lineage.TAG_DATA_VERSION: data_version,
        lineage.TAG_GIT_COMMIT: lineage.git_commit(),
        lineage.TAG_CODE_VERSION: lineage.code_version(),
    }


def _markdown_image(png: bytes, title: str) -> str:
    return f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"


def _log_and_register(
    context: dg.AssetExecutionContext,
    tracking: MlflowTracking,
    registry: ModelRegistry,
    *,
    asset_name: str,
    model_name: str,
    model,
    params: dict,
    metrics: dict[str, float],
    backtest: pd.DataFrame,
    importance: pd.Series,
    input_example: pd.DataFrame,
    baseline_rmse: float,
    data_version: str,
) -> dg.Output[dict]:
    """Log one model's run (params, metrics, backtest, plots), register it, tag the version."""
    tags = _lineage_tags(context, data_version)
    holdout = evaluation.regression_metrics(backtest["actual"], backtest["predicted"])
    plots = evaluation.diagnostic_plots(backtest, importance, asset_name)
    with child_run(tracking, asset_name, tags) as run, tempfile.TemporaryDirectory() as tmp:
        mlflow.log_params(params)
        mlflow.log_metrics(
            {
                **metrics,
                **{f"holdout_{k}": v for k, v in holdout.items()},
                "baseline_seasonal_naive_rmse": baseline_rmse,
            }
        )
        backtest.to_parquet(Path(tmp) / "backtest.parquet", index=False)
        mlflow.log_artifact(str(Path(tmp) / "backtest.parquet"))
        for name, png in plots.items():
            (Path(tmp) / name).write_bytes(png)
            mlflow.log_artifact(str(Path(tmp) / name), artifact_path="plots")
        signature = infer_signature(input_example, model.predict(input_example))
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=signature,
            input_example=input_example,
            pip_requirements=PIP_REQUIREMENTS,
            registered_model_name=model_name,
            skops_trusted_types=SKOPS_TRUSTED_TYPES,
        )
        run_id = run.info.run_id
    version = str(info.registered_model_version)
    client = registry.client()
    version_tags = {
        **tags,
        lineage.TAG_HOLDOUT_RMSE: f"{holdout['rmse']:.6f}",
        lineage.TAG_HOLDOUT_MAE: f"{holdout['mae']:.6f}",
        lineage.TAG_HOLDOUT_R2: f"{holdout['r2']:.6f}",
    }
    for key, value in version_tags.items():
        client.set_model_version_tag(model_name, version, key, value)
    summary = {
        "model_name": model_name,
        "version": version,
        "run_id": run_id,
        "holdout_rmse": holdout["rmse"],
        "holdout_mae": holdout["mae"],
        "holdout_r2": holdout["r2"],
        "baseline_rmse": baseline_rmse,
        **metrics,
        **tags,
    }
    context.log.info(
        f"{model_name} v{version}: holdout RMSE {holdout['rmse']:.4f} kWh (seasonal naive {baseline_rmse:.4f})"
    )
    return dg.Output(
        summary,
        metadata={
            "model": f"models:/{model_name}/{version}",
            "mlflow_run_id": run_id,
            "holdout_rmse": holdout["rmse"],
            "holdout_mae": holdout["mae"],
            "holdout_r2": holdout["r2"],
            "baseline_seasonal_naive_rmse": baseline_rmse,
            **{k: float(v) for k, v in metrics.items()},
            lineage.TAG_DATA_VERSION: data_version,
            lineage.TAG_CODE_VERSION: tags[lineage.TAG_CODE_VERSION],
            **{
                name.removesuffix(".png"): dg.MetadataValue.md(_markdown_image(png, name))
                for name, png in plots.items()
            },
        },
    )


@dg.asset(
    group_name="models",
    kinds={"sklearn", "mlflow"},
    code_version=lineage.code_version(),
    description="Estimates an interval's usage_kwh from its other readings; registered as energy-usage-estimator.",
)
def usage_estimator(
    context: dg.AssetExecutionContext,
    config: EstimatorConfig,
    mlflow: MlflowTracking,
    model_registry: ModelRegistry,
    train_readings: pd.DataFrame,
    holdout_readings: pd.DataFrame,
) -> dg.Output[dict]:
    params = config.params()
    data_version = raw_data_version(train_readings, holdout_readings)
    train_readings, holdout_readings = with_target(train_readings), with_target(holdout_readings)
    model = build_usage_estimator(params).fit(estimator_input(train_readings), train_readings[schema.TARGET])
    predicted = model.predict(estimator_input(holdout_readings))
    everything = pd.concat([train_readings, holdout_readings], ignore_index=True)
    metrics: dict[str, float] = {}
    if config.cv_folds:
        folds = random_cv_rmse(params, everything, folds=config.cv_folds)
        metrics = {"cv_random_rmse_mean": float(np.mean(folds)), "cv_random_rmse_std": float(np.std(folds))}
    featurized = model.named_steps["features"].transform(estimator_input(holdout_readings))
    importance = evaluation.permutation_importance_of(
        model.named_steps["regressor"], featurized, holdout_readings[schema.TARGET], params.seed
    )
    return _log_and_register(
        context,
        mlflow,
        model_registry,
        asset_name="usage_estimator",
        model_name=ESTIMATOR_MODEL_NAME,
        model=model,
        params={**asdict(params), "cv_folds": config.cv_folds},
        metrics=metrics,
        backtest=evaluation.backtest_frame(holdout_readings, predicted),
        importance=importance,
        input_example=estimator_input(holdout_readings.head(5)),
        baseline_rmse=evaluation.seasonal_naive_rmse(everything, holdout_readings),
        data_version=data_version,
    )


@dg.asset(
    group_name="models",
    kinds={"sklearn", "mlflow"},
    code_version=lineage.code_version(),
    description="Forecasts the next day's 96 intervals from calendar, planned load and usage >= 1 day old; "
    "registered as energy-day-ahead-forecaster.",
)
def day_ahead_forecaster(
    context: dg.AssetExecutionContext,
    config: ForecasterConfig,
    mlflow: MlflowTracking,
    model_registry: ModelRegistry,
    train_readings: pd.DataFrame,
    holdout_readings: pd.DataFrame,
) -> dg.Output[dict]:
    params = config.params()
    data_version = raw_data_version(train_readings, holdout_readings)
    train_readings, holdout_readings = with_target(train_readings), with_target(holdout_readings)
    model = fit_day_ahead_forecaster(train_readings, params)
    # Holdout days are featurized with the training months before them as history; the features
    # never read a row's own day, so the actuals in the frame cannot leak into the forecast.
    everything = pd.concat([train_readings, holdout_readings], ignore_index=True)[list(schema.COLUMNS)]
    backtest = bands.banded_backtest(model, train_readings, holdout_readings)
    band_metrics = bands.holdout_band_metrics(backtest, everything, train_readings)
    featurized = model.named_steps["features"].transform(everything).iloc[len(train_readings) :]
    importance = evaluation.permutation_importance_of(
        model.named_steps["regressor"], featurized, holdout_readings[schema.TARGET], params.seed
    )
    example_day = (
        schema.interval_day(holdout_readings[schema.TIMESTAMP])
        == schema.interval_day(holdout_readings[schema.TIMESTAMP]).iloc[0]
    )
    input_example = holdout_readings[example_day.to_numpy()][list(schema.COLUMNS)].head(5).assign(usage_kwh=np.nan)
    return _log_and_register(
        context,
        mlflow,
        model_registry,
        asset_name="day_ahead_forecaster",
        model_name=FORECASTER_MODEL_NAME,
        model=model,
        params=asdict(params),
        metrics=band_metrics,
        backtest=backtest,
        importance=importance,
        input_example=input_example,
        baseline_rmse=evaluation.seasonal_naive_rmse(everything, holdout_readings),
        data_version=data_version,
    )


def _champion_asset(model_asset: dg.AssetsDefinition, model_name: str):
    asset_name = model_asset.key.path[-1]

    @dg.asset(
        name=f"{asset_name}_champion",
        group_name="models",
        kinds={"mlflow"},
        ins={"candidate": dg.AssetIn(model_asset.key)},
        description=f"Moves the champion alias of {model_name} to the version that passed the gate.",
    )
    def _champion(candidate: dict, model_registry: ModelRegistry) -> dg.MaterializeResult:
        promote(model_registry.client(), model_name, candidate["version"])
        return dg.MaterializeResult(
            metadata={
                "champion": f"models:/{model_name}@champion",
                "version": candidate["version"],
                "holdout_rmse": candidate["holdout_rmse"],
                "mlflow_run_id": candidate["run_id"],
            }
        )

    return _champion


usage_estimator_champion = _champion_asset(usage_estimator, ESTIMATOR_MODEL_NAME)
day_ahead_forecaster_champion = _champion_asset(day_ahead_forecaster, FORECASTER_MODEL_NAME)
