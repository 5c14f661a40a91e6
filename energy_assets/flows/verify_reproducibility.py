"""Flow `verify_reproducibility`: rebuild both champions from the same data and code, compare every metric.

For each registered champion: its data version and code version must be the ones in place now
(else the flow fails and names both), its run's parameters are replayed through Dagster (job
`verify_models`: features, split and both models, without gates, so the champion alias never
moves), and every metric of the rebuilt run must be within ±0.001 of the champion's run. The
rebuilt versions are tagged `reproduces` / `reproducibility` in the registry. `seed` overrides the
recorded seed: a deliberately changed seed must make the check fail.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, fields
from typing import Any

import mlflow
from prefect import flow

from energy_assets import lineage
from energy_assets import settings as energy_settings
from energy_assets.flows import dagster_runs
from energy_assets.flows.tasks import launch_dagster_job, notify_failure, publish, require_success, run_line
from energy_assets.gating.champion import champion_version
from energy_assets.training.models import ForecasterParams

JOB = "verify_models"
TOLERANCE = 0.001
MODELS = {
    "usage_estimator": energy_settings.ESTIMATOR_MODEL_NAME,
    "day_ahead_forecaster": energy_settings.FORECASTER_MODEL_NAME,
}
REPLAYED_PARAMS = {
    "usage_estimator": ("max_iter", "learning_rate", "seed", "cv_folds"),
    # Every parameter that defines the forecaster (the asset logs them all and its config takes them all).
    "day_ahead_forecaster": tuple(f.name for f in fields(ForecasterParams)),
}


class NotReproducible(AssertionError):
    """A rebuilt model's metrics differ from the registered run's, or its inputs are not the same."""


@dataclass
class MetricComparison:
    asset: str
    metric: str
    registered: float
    rebuilt: float

    @property
    def within(self) -> bool:
        return abs(self.rebuilt - self.registered) <= TOLERANCE


@dataclass
class ReproducibilityOutcome:
    run_id: str
    run_url: str
    reproduced: bool
    comparisons: list[MetricComparison]
    problems: list[str]


def _param(value: str):
    """A parameter as MLflow recorded it (str of the value) back as a run-config value.

    Numbers, booleans, None and tuples are Python literals; anything else (a loss name) is the string.
    """
    try:
        parsed = ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return value
    return list(parsed) if isinstance(parsed, tuple) else parsed


def _current_data_version(instance) -> str | None:
    import dagster as dg

    event = instance.get_latest_materialization_event(dg.AssetKey("raw_readings"))
    return None if event is None else str(event.asset_materialization.metadata["dvc_md5"].value)


@flow(name="verify_reproducibility", log_prints=True)
def verify_reproducibility(seed: int | None = None) -> ReproducibilityOutcome:
    try:
        client = mlflow.MlflowClient(energy_settings.get_settings().mlflow_tracking_uri)
        instance = dagster_runs.instance()
        data_version = _current_data_version(instance)
        problems: list[str] = []
        champions = {}
        run_config: dict[str, dict[str, Any]] = {"ops": {}}
        for asset, name in MODELS.items():
            champion = champion_version(client, name)
            if champion is None:
                raise NotReproducible(f"{name} has no champion to reproduce: run the retrain flow first")
            registered = client.get_run(champion.run_id)
            champions[asset] = (champion, registered)
            if champion.tags.get(lineage.TAG_DATA_VERSION) != data_version:
                problems.append(
                    f"{name} v{champion.version} was trained on data version "
                    f"{champion.tags.get(lineage.TAG_DATA_VERSION)}, "
                    f"the raw data in place is {data_version}: check out that DVC version first"
                )
            if champion.tags.get(lineage.TAG_CODE_VERSION) != lineage.code_version():
                problems.append(
                    f"{name} v{champion.version} was trained with code version "
                    f"{champion.tags.get(lineage.TAG_CODE_VERSION)}, "
                    f"the code in place is {lineage.code_version()} (git {champion.tags.get(lineage.TAG_GIT_COMMIT)})"
                )
            params = {
                k: _param(registered.data.params[k]) for k in REPLAYED_PARAMS[asset] if k in registered.data.params
            }
            if seed is not None:
                params["seed"] = seed
            run_config["ops"][asset] = {"config": params}
        if problems:
            raise NotReproducible("cannot rebuild from the same inputs: " + "; ".join(problems))
        run = require_success(launch_dagster_job(JOB, run_config, dagster_runs.month_tags([], instance)))
        comparisons = []
        for asset, (champion, registered) in champions.items():
            rebuilt_meta = run.metadata_of(asset)
            rebuilt = client.get_run(str(rebuilt_meta["mlflow_run_id"]))
            for metric, value in sorted(registered.data.metrics.items()):
                if metric not in rebuilt.data.metrics:
                    problems.append(f"{asset}: metric {metric} missing from the rebuilt run")
                    continue
                comparisons.append(MetricComparison(asset, metric, float(value), float(rebuilt.data.metrics[metric])))
            version = str(rebuilt_meta["model"]).rsplit("/", 1)[-1]
            ok = all(c.within for c in comparisons if c.asset == asset)
            client.set_model_version_tag(MODELS[asset], version, "reproduces", f"v{champion.version}")
            client.set_model_version_tag(MODELS[asset], version, "reproducibility", "passed" if ok else "failed")
        problems += [
            (
                f"{c.asset} {c.metric}: rebuilt {c.rebuilt:.6f} vs registered {c.registered:.6f} (|Δ| "
                f"{abs(c.rebuilt - c.registered):.6f} > {TOLERANCE})"
            )
            for c in comparisons
            if not c.within
        ]
        lines = [
            f"### Reproducibility: {'**passed**' if not problems else '**FAILED**'}",
            "",
            run_line(run),
            "",
            f"Data version `{data_version}`, code version `{lineage.code_version()}`"
            + (f", seed overridden to {seed}" if seed is not None else ", recorded seeds"),
            "",
            f"| model | metric | registered | rebuilt | within ±{TOLERANCE} |",
            "|---|---|---:|---:|---|",
            *[
                f"| {c.asset} | {c.metric} | {c.registered:.6f} | {c.rebuilt:.6f} | {'yes' if c.within else '**no**'} |"
                for c in comparisons
            ],
        ]
        publish("reproducibility", "\n".join(lines), "rebuilt metrics against the registered champions")
        if problems:
            raise NotReproducible("not reproducible: " + "; ".join(problems))
    except Exception as error:
        notify_failure("verify_reproducibility", error)
        raise
    print(f"reproduced every metric within ±{TOLERANCE} ({run.url})")
    return ReproducibilityOutcome(run.run_id, run.url, True, comparisons, [])


if __name__ == "__main__":
    verify_reproducibility()
