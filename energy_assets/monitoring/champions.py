"""The registered champions as the monitor judges them: a predict function and the error reference.

The error reference is the champion's own holdout backtest (`backtest.parquet`, logged with every
registered model), so the performance limits move with the champion: a retrained model is judged
by its own error, never by its predecessor's.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import mlflow
import pandas as pd

from energy_assets.gating.champion import champion_version
from energy_assets.monitoring.drift import ChampionModel
from energy_assets.monitoring.performance import ErrorReference, ErrorReferenceError

BACKTEST_ARTIFACT = "backtest.parquet"


def load_backtest(tracking_uri: str, run_id: str, label: str) -> pd.DataFrame:
    """The holdout backtest (timestamp, actual, predicted, ...) logged with the model of `run_id`."""
    with tempfile.TemporaryDirectory() as folder:
        try:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=BACKTEST_ARTIFACT, dst_path=folder, tracking_uri=tracking_uri
            )
        except Exception as error:  # MLflow raises several types for a missing artifact
            raise ErrorReferenceError(f"{label}: run {run_id} has no {BACKTEST_ARTIFACT} artifact ({error})") from error
        return pd.read_parquet(Path(path))


def load_champion(client: mlflow.MlflowClient, name: str) -> ChampionModel | None:
    """The champion of registered model `name` (None without one), with its holdout error per day."""
    version = champion_version(client, name)
    if version is None:
        return None
    # Resolve through this client: a `models:/` URI would consult MLflow's process-wide tracking
    # URI, which in a flow started from the command line is not the ENERGY_HOME store.
    source = client.get_model_version_download_uri(name, str(version.version))
    model = mlflow.pyfunc.load_model(
        mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=client.tracking_uri)
    )
    backtest = load_backtest(client.tracking_uri, version.run_id, f"{name} v{version.version}")
    return ChampionModel(name, str(version.version), model.predict, ErrorReference.from_backtest(name, backtest))
