"""Flow `simulate_drift`: proof that the monitor works, on shifted copies of a real month.

The `drift_simulation` asset applies each known shift (CO2 +50 %, Load_Type mix, injected outliers,
a usage level the other readings do not explain) to a copy of the month and runs the monitor's
computation with the same thresholds; every shift must be detected (the usage level by the models'
error) and the unshifted month must not be. The flow fails when one is not as expected, and its
artifact is the evidence either way, with the thresholds and each model's RMSE limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from prefect import flow

from energy_assets.flows import dagster_runs
from energy_assets.flows.tasks import launch_dagster_job, notify_failure, publish, require_success, run_line
from energy_assets.monitoring import shifts
from energy_assets.monitoring.drift import DriftThresholds, thresholds_markdown

JOB = "simulate_drift"
DEFAULT_MONTH = shifts.CONTROL_MONTH


class MonitorNotProven(AssertionError):
    """A known shift went undetected, or the unshifted month was flagged."""


@dataclass
class SimulationOutcome:
    month: str
    run_id: str
    run_url: str
    evidence: (
        dict  # scenario -> {expected_drift, models_must_notice, detected, detected_by_models, as_expected, reasons}
    )
    thresholds: dict  # the configured thresholds and each model's RMSE limit on the month


@flow(name="simulate_drift", log_prints=True)
def simulate_drift(month: str = DEFAULT_MONTH, thresholds: dict | None = None) -> SimulationOutcome:
    try:
        config = {**asdict(DriftThresholds.from_mapping(thresholds)), "month": month}
        tags = dagster_runs.partition_tags(list(shifts.SCENARIOS))
        run = require_success(launch_dagster_job(JOB, {"ops": {"drift_simulation": {"config": config}}}, tags))
        metadata = run.metadata_of("drift_simulation")
        evidence, limits = dict(metadata["evidence"]), dict(metadata["thresholds"])
        rows = [
            f"| {name} | {'yes' if e['expected_drift'] else 'no'} | {'yes' if e['detected'] else 'no'} | "
            f"{', '.join(e['detected_by_models']) or '-'} | {'✅' if e['as_expected'] else '❌'} | "
            f"{'; '.join(e['reasons'][:4])} |"
            for name, e in evidence.items()
        ]
        markdown = "\n".join(
            [
                f"### Drift simulation on {month}",
                "",
                run_line(run),
                "",
                "| scenario | drift expected | detected | models' error beyond limit | as expected | first reasons |",
                "|---|---|---|---|---|---|",
                *rows,
                "",
                *thresholds_markdown(limits),
                "",
                "<details><summary>full reports</summary>",
                "",
                str(metadata["report"]),
                "",
                "</details>",
            ]
        )
        publish("drift-simulation", markdown, "known shifts and whether the monitor detected them")
        wrong = [name for name, e in evidence.items() if not e["as_expected"]]
        if wrong:
            raise MonitorNotProven(
                f"simulation on {month}: not as expected for {wrong}: " + str({n: evidence[n] for n in wrong})
            )
    except Exception as error:
        notify_failure("simulate_drift", error)
        raise
    print(f"simulation on {month}: every scenario as expected ({run.url})")
    return SimulationOutcome(month, run.run_id, run.url, evidence, limits)


if __name__ == "__main__":
    simulate_drift()
