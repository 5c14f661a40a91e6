"""Which months each drift rule flags with the registered champions: the figures of docs/flows.md.

Every month of the data is judged as the `drift_report` asset judges it (against the training
months, with the 35 days before it as the forecaster's history, by the champions' own error
references). The holdout months are judged a second time out of sample: with the month's own days
left out of the error reference, so a month cannot vouch for itself.

    python -m energy_assets.monitoring.evidence        # after `make pipeline`, on ENERGY_HOME's champions
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd

from energy_assets import schema
from energy_assets.monitoring.drift import ChampionModel, DriftReport, DriftThresholds, build_report, month_and_history
from energy_assets.monitoring.performance import ErrorDrift
from energy_assets.training.evaluation import HOLDOUT_START, time_split


@dataclass
class MonthEvidence:
    month: str
    holdout: bool  # a month the models never saw
    report: DriftReport
    out_of_sample: list[ErrorDrift] = field(default_factory=list)  # holdout months: judged without their own days

    @property
    def performance_flagged(self) -> list[str]:
        return self.report.performance_drifted

    def rules_flagging(self) -> dict[str, list[str]]:
        """Rule -> the columns it flags this month (PSI, KS, out of range)."""
        flagged: dict[str, list[str]] = {"PSI": [], "KS": [], "out of range": []}
        for column in self.report.columns:
            label = f"{column.column}" + ("" if column.kind == "feature" else f" ({column.kind})")
            for reason in column.reasons:
                rule = "PSI" if reason.startswith("PSI") else "KS" if reason.startswith("KS") else "out of range"
                flagged[rule].append(label)
        return flagged


def clean_readings(source: str | Path | None = None) -> pd.DataFrame:
    """The clean readings of the raw source (default: the settings' raw area), in time order."""
    from energy_assets import settings
    from energy_assets.ingest.reader import read_raw
    from energy_assets.ingest.validation import validate

    frame, _, _ = read_raw(source or settings.get_settings().raw_source)
    return validate(frame).clean.sort_values(schema.TIMESTAMP).reset_index(drop=True)


def month_by_month(
    readings: pd.DataFrame,
    estimator: ChampionModel | None,
    forecaster: ChampionModel | None,
    thresholds: DriftThresholds | None = None,
    months: list[str] | None = None,
) -> list[MonthEvidence]:
    """Every month (or the given ones) judged against the training months, as the monitor does it."""
    from energy_assets.ingest.validation import month_of

    thresholds = thresholds or DriftThresholds()
    reference, _ = time_split(readings)
    found = []
    for month in months or sorted(month_of(readings[schema.TIMESTAMP]).unique()):
        recent, history = month_and_history(readings, month)
        report = build_report(
            month, reference, recent, thresholds, history=history, estimator=estimator, forecaster=forecaster
        )
        evidence = MonthEvidence(month, pd.Timestamp(f"{month}-01") >= HOLDOUT_START, report)
        if evidence.holdout:
            days = schema.interval_day(recent[schema.TIMESTAMP])
            first, last = days.min(), days.max()
            without = [
                replace(m, errors=m.errors.without(first, last)) for m in (estimator, forecaster) if m is not None
            ]
            blind = build_report(
                month,
                reference,
                recent,
                thresholds,
                history=history,
                estimator=next((m for m in without if m.name == getattr(estimator, "name", None)), None),
                forecaster=next((m for m in without if m.name == getattr(forecaster, "name", None)), None),
            )
            evidence.out_of_sample = blind.errors
        found.append(evidence)
    return found


def false_alarm_rate(months: list[MonthEvidence]) -> float:
    """Share of the months the performance rule flags (every month here is unshifted)."""
    return sum(bool(m.performance_flagged) for m in months) / len(months)


def markdown(months: list[MonthEvidence], estimator: ChampionModel | None, forecaster: ChampionModel | None) -> str:
    models = [m for m in (estimator, forecaster) if m is not None]
    lines = ["#### Per-month holdout RMSE (kWh, from each champion's backtest)", ""]
    if models:
        header = list(models[0].errors.per_month_rmse())
        lines += ["| model | " + " | ".join(header) + " | whole holdout |", "|---|" + "---:|" * (len(header) + 1)]
        for m in models:
            per_month = m.errors.per_month_rmse()
            lines.append(
                f"| {m.name} v{m.version} | "
                + " | ".join(f"{per_month[k]:.3f}" for k in header)
                + f" | {m.errors.rmse:.3f} |"
            )
    lines += [
        "",
        "#### The performance rule on every month",
        "",
        "| month | | "
        + " | ".join(f"{m.name} RMSE / limit" for m in models)
        + " | flagged | out of sample (own days left out) |",
        "|---|---|" + "---:|" * len(models) + "---|---|",
    ]
    for e in months:
        cells = [f"{d.recent_rmse:.3f} / {d.limit:.3f}" for d in e.report.errors]
        cells += ["-"] * (len(models) - len(cells))
        blind = "; ".join(
            f"{d.model}: {d.recent_rmse:.3f} / {d.limit:.3f}{' **flagged**' if d.drifted else ''}"
            for d in e.out_of_sample
        )
        lines.append(
            f"| {e.month} | {'holdout' if e.holdout else 'training'} | "
            + " | ".join(cells)
            + f" | {', '.join(e.performance_flagged) or 'no'} | {blind or '-'} |"
        )
    lines += [
        "",
        (
            f"False-alarm rate of the performance rule: {sum(bool(m.performance_flagged) for m in months)} of "
            f"{len(months)} months ({false_alarm_rate(months):.0%})."
        ),
        "",
        "#### Feature, target and prediction rules on every month",
        "",
        "| month | PSI | KS | out of range | any rule |",
        "|---|---|---|---|---|",
    ]
    for e in months:
        rules = e.rules_flagging()
        lines.append(
            f"| {e.month} | "
            + " | ".join(", ".join(v) or "-" for v in rules.values())
            + f" | {'**drift**' if e.report.drifted else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    import mlflow

    from energy_assets import settings
    from energy_assets.monitoring.champions import load_champion

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--raw", help="raw CSV export or folder (default: env ENERGY_RAW_CSV, else data/raw)")
    args = parser.parse_args(argv)
    current = settings.get_settings()
    mlflow.set_tracking_uri(current.mlflow_tracking_uri)
    client = mlflow.MlflowClient(current.mlflow_tracking_uri)
    estimator = load_champion(client, settings.ESTIMATOR_MODEL_NAME)
    forecaster = load_champion(client, settings.FORECASTER_MODEL_NAME)
    if estimator is None and forecaster is None:
        raise SystemExit(f"no champion in {current.mlflow_tracking_uri}: run `make pipeline` first")
    months = month_by_month(clean_readings(args.raw), estimator, forecaster)
    print(markdown(months, estimator, forecaster))
    return 0


if __name__ == "__main__":
    sys.exit(main())
