"""Flow `retrain`: rebuild features and both models in Dagster, let the champion gates decide, report.

A gate that keeps the champion fails its blocking check, and with it the Dagster run; for this
flow that is the decision "kept", reported with both scores. Any other failed check or step fails
the flow, which notifies (log, Prefect artifact, optional ENERGY_ALERT_WEBHOOK).
Scheduled Sundays 03:00 (see energy_assets.flows.serve).
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import flow

from energy_assets.flows import dagster_runs
from energy_assets.flows.tasks import launch_dagster_job, notify_failure, publish, run_line

JOB = "retrain_models"
CRON = "0 3 * * 0"  # Sundays 03:00


@dataclass(frozen=True)
class GateOutcome:
    asset: str
    decision: str  # promoted | kept
    candidate_version: str
    candidate_rmse: float
    reference: str
    reference_rmse: float


@dataclass
class RetrainOutcome:
    run_id: str
    run_url: str
    decisions: dict[str, GateOutcome]


def model_run_config(estimator: dict | None = None, forecaster: dict | None = None) -> dict:
    """Run config of the two model assets (keys: max_iter, learning_rate, seed; estimator also cv_folds)."""
    ops = {}
    if estimator:
        ops["usage_estimator"] = {"config": dict(estimator)}
    if forecaster:
        ops["day_ahead_forecaster"] = {"config": dict(forecaster)}
    return {"ops": ops} if ops else {}


def gate_outcomes(run: dagster_runs.DagsterRun) -> dict[str, GateOutcome]:
    return {
        check.asset: GateOutcome(
            asset=check.asset,
            decision=str(check.metadata["decision"]),
            candidate_version=str(check.metadata["candidate_version"]),
            candidate_rmse=float(check.metadata["candidate_rmse"]),
            reference=str(check.metadata["reference"]),
            reference_rmse=float(check.metadata["reference_rmse"]),
        )
        for check in run.gate_checks
    }


def decision_markdown(run: dagster_runs.DagsterRun, decisions: dict[str, GateOutcome]) -> str:
    lines = [
        "### Retrain: the gate's decision",
        "",
        run_line(run),
        "",
        "| model asset | decision | candidate | candidate holdout RMSE | against | its RMSE |",
        "|---|---|---|---:|---|---:|",
    ]
    lines.extend(
        f"| {d.asset} | **{d.decision}** | v{d.candidate_version} | {d.candidate_rmse:.4f} | "
        f"{d.reference} | {d.reference_rmse:.4f} |"
        for d in decisions.values()
    )
    return "\n".join(lines)


@flow(name="retrain", log_prints=True)
def retrain(estimator: dict | None = None, forecaster: dict | None = None) -> RetrainOutcome:
    """Materialize the model assets (job retrain_models) over every month, and report the gates' decisions.

    `estimator` / `forecaster`: optional config of the model assets, e.g. {"max_iter": 300, "cv_folds": 0}.
    """
    try:
        tags = dagster_runs.month_tags([], dagster_runs.instance())
        run = launch_dagster_job(JOB, model_run_config(estimator, forecaster), tags)
        decisions = gate_outcomes(run)
        if not run.success and not run.only_gates_failed:
            raise dagster_runs.DagsterRunFailed(run.failure_message())
        missing = {"usage_estimator", "day_ahead_forecaster"} - set(decisions)
        if missing:
            raise dagster_runs.DagsterRunFailed(f"{run.failure_message()} (no gate decision for {sorted(missing)})")
    except Exception as error:
        notify_failure("retrain", error)
        raise
    publish("retrain-decision", decision_markdown(run, decisions), "promoted or kept, with both scores")
    for d in decisions.values():
        print(
            f"{d.asset}: {d.decision} (v{d.candidate_version} {d.candidate_rmse:.4f} vs {d.reference} "
            f"{d.reference_rmse:.4f})"
        )
    return RetrainOutcome(run_id=run.run_id, run_url=run.url, decisions=decisions)


if __name__ == "__main__":
    retrain()
