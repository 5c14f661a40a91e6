"""Flow `monitor_drift`: the latest month against the training reference; drift starts `retrain`.

The statistics run inside Dagster as the month's `drift_report` partition (so the drift history
is in the asset catalog); this flow reads the verdict from that materialization, publishes it as
a Prefect artifact, and on drift runs the `retrain` flow and says so. Thresholds are flow
parameters, passed to the asset's config (energy_assets.monitoring.drift.DriftThresholds).
Scheduled Mondays 09:00 (see energy_assets.flows.serve).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from prefect import flow

from energy_assets.flows import dagster_runs
from energy_assets.flows.retrain import RetrainOutcome, retrain
from energy_assets.flows.tasks import launch_dagster_job, notify_failure, publish, require_success, run_line
from energy_assets.monitoring.drift import DriftThresholds

JOB = "monitor_drift"
CRON = "0 9 * * 1"  # Mondays 09:00


@dataclass
class MonitorOutcome:
    month: str
    run_id: str
    run_url: str
    drifted: bool
    reasons: list[str]
    summary: dict
    retrain: RetrainOutcome | None


@flow(name="monitor_drift", log_prints=True)
def monitor_drift(
    month: str | None = None,
    thresholds: dict | None = None,
    retrain_on_drift: bool = True,
    retrain_estimator: dict | None = None,
    retrain_forecaster: dict | None = None,
) -> MonitorOutcome:
    """Drift of `month` (default: the latest month partition) against the training months.

    `thresholds`: any of psi, ks_statistic, ks_pvalue, out_of_range_share, rmse_quantile, rmse_floor_share.
    `retrain_estimator` / `retrain_forecaster`: model config passed on to `retrain` on drift.
    """
    try:
        config = asdict(DriftThresholds.from_mapping(thresholds))
        instance = dagster_runs.instance()
        months = dagster_runs.known_months(instance)
        if not months:
            raise ValueError("no month partition is registered yet: ingest an export first (flow 'ingest')")
        month = month or max(months)
        if month not in months:
            raise ValueError(
                f"month {month!r} (flow parameter 'month') is not a clean_readings partition; known: {months}"
            )
        run = require_success(
            launch_dagster_job(JOB, {"ops": {"drift_report": {"config": config}}}, dagster_runs.partition_tags([month]))
        )
        metadata = run.metadata_of("drift_report", month)
        drifted, reasons = bool(metadata["drifted"]), list(metadata["reasons"])
        lines = [str(metadata["report"]), "", run_line(run)]
        retrained = None
        if drifted and retrain_on_drift:
            print(f"drift in {month}: starting the retrain flow")
            lines += ["", f"**Drift found in {month}: the `retrain` flow was started.**"]
            retrained = retrain(estimator=retrain_estimator, forecaster=retrain_forecaster)
            lines += [
                f"Retrain: Dagster run [`{retrained.run_id}`]({retrained.run_url}); "
                + ", ".join(f"{d.asset} {d.decision}" for d in retrained.decisions.values())
            ]
        elif drifted:
            lines += ["", f"**Drift found in {month}**; retraining is switched off for this run."]
        else:
            lines += ["", f"No drift in {month}: no retraining."]
    except Exception as error:
        notify_failure("monitor_drift", error)
        raise
    publish("drift-report", "\n".join(lines), f"drift of {month} against the training months")
    print(f"{month}: {'DRIFT: ' + '; '.join(reasons) if drifted else 'no drift'}")
    return MonitorOutcome(month, run.run_id, run.url, drifted, reasons, dict(metadata["summary"]), retrained)


if __name__ == "__main__":
    monitor_drift()
