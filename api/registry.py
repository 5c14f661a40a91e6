"""The served champions: loaded from the MLflow registry, refreshed when the alias moves, swapped atomically.

Each served model is an immutable `LoadedModel`. The registry keeps them in one dict that is
replaced as a whole when a new version is ready, so a request that took a model at its start
predicts with that model and reports that model's lineage to the end, whatever happens meanwhile.
A version that fails to load leaves the previous one serving; the failure is kept for /health.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from api import fastpath
from energy_assets import lineage, schema
from energy_assets.settings import CHAMPION_ALIAS, ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME, masked

log = logging.getLogger("api.registry")

SERVED_MODEL_NAMES = (ESTIMATOR_MODEL_NAME, FORECASTER_MODEL_NAME)
METRIC_TAGS = {"rmse": lineage.TAG_HOLDOUT_RMSE, "mae": lineage.TAG_HOLDOUT_MAE, "r2": lineage.TAG_HOLDOUT_R2}


def _utc_iso(millis: int | None) -> str | None:
    if not millis:
        return None
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).isoformat()


def _now() -> str:
    return dt.datetime.now(tz=dt.UTC).isoformat()


@dataclass(frozen=True)
class LoadedModel:
    name: str
    alias: str
    version: str
    run_id: str
    model_uri: str
    tags: dict[str, str]
    trained_at: str | None
    loaded_at: str
    pipeline: Any  # the sklearn Pipeline as logged: ("features", transformer), ("regressor", model)
    # Featurizes one estimator request without pandas; None when it did not reproduce the model's own transformer.
    fast_features: Callable[[Any], np.ndarray] | None = None

    @property
    def features(self):
        return self.pipeline.named_steps["features"]

    @property
    def regressor(self):
        return self.pipeline.named_steps["regressor"]

    @property
    def data_version(self) -> str | None:
        return self.tags.get(lineage.TAG_DATA_VERSION)

    def lineage(self) -> dict[str, str | None]:
        return {
            "model_name": self.name,
            "model_version": self.version,
            "mlflow_run_id": self.run_id,
            "data_version": self.data_version,
        }

    def lineage_headers(self) -> dict[str, str]:
        return {
            "X-Model-Name": self.name,
            "X-Model-Version": self.version,
            "X-Model-Run-Id": self.run_id,
            "X-Data-Version": self.data_version or "",
        }

    def holdout_metrics(self) -> dict[str, float]:
        return {k: float(self.tags[t]) for k, t in METRIC_TAGS.items() if t in self.tags}

    def predict_frame(self, frame: pd.DataFrame) -> np.ndarray:
        """The logged pipeline's steps, called directly (Pipeline.predict adds milliseconds of checks)."""
        return self.regressor.predict(self.features.transform(frame))

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "alias": self.alias,
            "version": self.version,
            "mlflow_run_id": self.run_id,
            "model_uri": self.model_uri,
            "holdout_metrics": self.holdout_metrics(),
            "data_version": self.data_version,
            "git_commit": self.tags.get(lineage.TAG_GIT_COMMIT),
            "code_version": self.tags.get(lineage.TAG_CODE_VERSION),
            "dagster_run_id": self.tags.get(lineage.TAG_DAGSTER_RUN),
            "gate_decision": self.tags.get(lineage.TAG_GATE_DECISION),
            "trained_at": self.trained_at,
            "loaded_at": self.loaded_at,
        }


@dataclass
class ModelStatus:
    last_error: str | None = None
    last_checked: str | None = None


@dataclass(frozen=True)
class RefreshOutcome:
    previous_version: str | None
    version: str | None
    changed: bool
    error: str | None = None


class ModelNotServed(RuntimeError):
    """No version of a model is loaded; the message names the model and the registry."""


@dataclass
class ChampionRegistry:
    """The champions of `names` under `alias`, as found at `tracking_uri`."""

    tracking_uri: str
    names: tuple[str, ...] = SERVED_MODEL_NAMES
    alias: str = CHAMPION_ALIAS
    on_swap: Callable[[LoadedModel, LoadedModel | None], None] | None = None
    on_failure: Callable[[str], None] | None = None
    _served: dict[str, LoadedModel] = field(default_factory=dict, init=False)
    _status: dict[str, ModelStatus] = field(default_factory=dict, init=False)
    _refresh_lock: threading.Lock = field(default_factory=threading.Lock, init=False)

    def __post_init__(self):
        self._status = {name: ModelStatus() for name in self.names}

    # --- reading (any thread, lock-free) --------------------------------------------------

    def get(self, name: str) -> LoadedModel | None:
        return self._served.get(name)

    def require(self, name: str) -> LoadedModel:
        served = self._served.get(name)
        if served is None:
            reason = self._status[name].last_error or "not loaded yet"
            raise ModelNotServed(
                f"model {name}@{self.alias} is not available from the MLflow registry at "
                f"{masked(self.tracking_uri)}: {reason}"
            )
        return served

    def served(self) -> list[LoadedModel]:
        current = self._served
        return [current[n] for n in self.names if n in current]

    def status(self, name: str) -> ModelStatus:
        return self._status[name]

    @property
    def ready(self) -> bool:
        current = self._served
        return all(name in current for name in self.names)

    @property
    def healthy(self) -> bool:
        return self.ready and not any(s.last_error for s in self._status.values())

    # --- refreshing (one at a time) -------------------------------------------------------

    def refresh(self) -> dict[str, RefreshOutcome]:
        """Look up each alias now; load a version that differs from the served one and swap it in."""
        with self._refresh_lock:
            client = mlflow.MlflowClient(self.tracking_uri, registry_uri=self.tracking_uri)
            return {name: self._refresh_one(client, name) for name in self.names}

    def _refresh_one(self, client: mlflow.MlflowClient, name: str) -> RefreshOutcome:
        current = self._served.get(name)
        previous = current.version if current else None
        status = self._status[name]
        status.last_checked = _now()
        try:
            version = client.get_model_version_by_alias(name, self.alias)
        except Exception as error:  # registry unreachable, model or alias absent
            message = _short(error)
            if isinstance(error, MlflowException) and "not found" in message.lower():
                message = f"the registry has no {name}@{self.alias} ({message})"
            return self._failed(name, previous, None, message)
        if current is not None and current.version == str(version.version):
            status.last_error = None
            return RefreshOutcome(previous, previous, changed=False)
        try:
            loaded = self._load(client, name, version)
        except Exception as error:  # a broken artifact must not take the served model down
            return self._failed(
                name, previous, str(version.version), f"loading version {version.version} failed: {_short(error)}"
            )
        # The swap: one new dict, assigned in one step; readers see the old or the new, never a mix.
        self._served = {**self._served, name: loaded}
        status.last_error = None
        log.info("serving %s v%s (was %s)", name, loaded.version, previous or "nothing")
        if self.on_swap:
            self.on_swap(loaded, current)
        return RefreshOutcome(previous, loaded.version, changed=True)

    def _failed(self, name: str, previous: str | None, version: str | None, message: str) -> RefreshOutcome:
        self._status[name].last_error = message
        log.error("%s@%s: %s%s", name, self.alias, message, f"; still serving v{previous}" if previous else "")
        if self.on_failure:
            self.on_failure(name)
        return RefreshOutcome(previous, previous, changed=False, error=message)

    def _load(self, client: mlflow.MlflowClient, name: str, version) -> LoadedModel:
        # Resolve the artifact location through our own client: `models:/` URIs would consult
        # MLflow's process-wide tracking URI, which may name another store.
        source = client.get_model_version_download_uri(name, str(version.version))
        local = mlflow.artifacts.download_artifacts(artifact_uri=source, tracking_uri=self.tracking_uri)
        pipeline = mlflow.sklearn.load_model(local)
        if not hasattr(pipeline, "named_steps") or {"features", "regressor"} - set(pipeline.named_steps):
            raise TypeError(f"{name} v{version.version} is not a features + regressor pipeline")
        _check_predicts(name, str(version.version), pipeline, local)
        run = client.get_run(version.run_id) if version.run_id else None
        fast = fastpath.estimator_fast_features(pipeline) if name == ESTIMATOR_MODEL_NAME else None
        return LoadedModel(
            name=name,
            alias=self.alias,
            version=str(version.version),
            run_id=version.run_id or "",
            model_uri=f"models:/{name}/{version.version}",
            tags=dict(version.tags or {}),
            trained_at=_utc_iso(run.info.start_time) if run else None,
            loaded_at=_now(),
            pipeline=pipeline,
            fast_features=fast,
        )


def _check_predicts(name: str, version: str, pipeline, local_path: str) -> None:
    """Predict the input example logged with the model before serving it.

    A model pickled against other feature code (a renamed feature, a changed transformer) loads
    fine and fails on its first request; this finds that at load time, while the old one serves.
    """
    from mlflow.models import Model

    example = Model.load(local_path).load_input_example(local_path)
    if example is None:
        return
    frame = pd.DataFrame(example)
    if schema.TIMESTAMP in frame:
        frame[schema.TIMESTAMP] = pd.to_datetime(frame[schema.TIMESTAMP])
    try:
        predicted = np.asarray(
            pipeline.named_steps["regressor"].predict(pipeline.named_steps["features"].transform(frame))
        )
    except Exception as error:
        raise RuntimeError(f"{name} v{version} cannot predict its own input example: {_short(error)}") from error
    if predicted.shape != (len(frame),):
        raise RuntimeError(f"{name} v{version} returned {predicted.shape} predictions for {len(frame)} example rows")


def _short(error: Exception) -> str:
    text = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
    return text[:300]
