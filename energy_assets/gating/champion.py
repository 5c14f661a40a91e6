"""The champion gate: a candidate replaces the champion only when it is better on the holdout.

With no champion yet, the candidate must beat the seasonal-naive baseline instead. The decision
and both scores are written to the candidate's model version tags, so the registry keeps them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from energy_assets import lineage
from energy_assets.settings import CHAMPION_ALIAS


@dataclass(frozen=True)
class GateDecision:
    promote: bool
    candidate_version: str
    candidate_rmse: float
    reference: str  # "champion vN" or "seasonal_naive"
    reference_rmse: float

    @property
    def outcome(self) -> str:
        return "promoted" if self.promote else "kept"

    def describe(self) -> str:
        verb = "beats" if self.promote else "does not beat"
        return (
            f"candidate v{self.candidate_version} holdout RMSE {self.candidate_rmse:.4f} kWh {verb} "
            f"{self.reference} ({self.reference_rmse:.4f} kWh)"
        )


def champion_version(client: MlflowClient, model_name: str):
    """The version the champion alias points at, or None."""
    try:
        return client.get_model_version_by_alias(model_name, CHAMPION_ALIAS)
    except MlflowException:
        return None


def decide(client: MlflowClient, model_name: str, candidate_version: str, baseline_rmse: float) -> GateDecision:
    """Compare a registered candidate with the champion (or the baseline) and record the decision."""
    candidate = client.get_model_version(model_name, candidate_version)
    candidate_rmse = float(candidate.tags[lineage.TAG_HOLDOUT_RMSE])
    champion = champion_version(client, model_name)
    if champion is None or champion.version == candidate.version:
        reference, reference_rmse = "seasonal_naive", baseline_rmse
    else:
        reference, reference_rmse = f"champion v{champion.version}", float(champion.tags[lineage.TAG_HOLDOUT_RMSE])
    decision = GateDecision(
        promote=candidate_rmse < reference_rmse,
        candidate_version=str(candidate.version),
        candidate_rmse=candidate_rmse,
        reference=reference,
        reference_rmse=reference_rmse,
    )
    for key, value in {
        lineage.TAG_GATE_DECISION: decision.outcome,
        lineage.TAG_GATE_REFERENCE: reference,
        lineage.TAG_GATE_REFERENCE_RMSE: f"{reference_rmse:.6f}",
    }.items():
        client.set_model_version_tag(model_name, candidate.version, key, value)
    return decision


def promote(client: MlflowClient, model_name: str, version: str) -> None:
    client.set_registered_model_alias(model_name, CHAMPION_ALIAS, version)


def gate_history(client: MlflowClient, model_name: str, limit: int = 20) -> list[dict]:
    """The registered versions of `model_name`, newest first (at most `limit`), each with the gate's
    decision as recorded on its tags: its holdout RMSE, what it was compared with and that score,
    and whether it is the champion now. Versions registered before the gate ran carry None."""
    champion = champion_version(client, model_name)
    versions = client.search_model_versions(
        f"name = '{model_name}'", max_results=max(limit, 1), order_by=["version_number DESC"]
    )
    rows: list[dict[str, Any]] = []
    for version in versions:
        tags = version.tags or {}
        rows.append(
            {
                "version": str(version.version),
                "champion": champion is not None and str(champion.version) == str(version.version),
                "decision": tags.get(lineage.TAG_GATE_DECISION),
                "holdout_rmse": _number(tags.get(lineage.TAG_HOLDOUT_RMSE)),
                "reference": tags.get(lineage.TAG_GATE_REFERENCE),
                "reference_rmse": _number(tags.get(lineage.TAG_GATE_REFERENCE_RMSE)),
                "run_id": version.run_id,
                "registered_at": _utc_iso(version.creation_timestamp),
            }
        )
    return sorted(rows, key=lambda r: int(r["version"]), reverse=True)[:limit]


def _utc_iso(millis: int | None) -> str | None:
    return dt.datetime.fromtimestamp(millis / 1000, tz=dt.UTC).isoformat() if millis else None


def _number(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
