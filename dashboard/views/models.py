"""Models: the served champions with their lineage and holdout metrics, how the service is doing, the latest
drift report and the champion gate's decisions."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import ui

st.title("Models")

health = ui.answer(ui.get, "/health")
if health is None:
    st.stop()
info = ui.answer(ui.get, "/model")
if info is None:
    st.stop()

(st.success if health["status"] == "ok" else st.warning)(
    f"Service {health['status']}; registry {info['tracking_uri']}."
)
for name, status in health.get("models", {}).items():
    if status.get("last_error"):
        st.error(f"{name}: {status['last_error']}")

if not info["models"]:
    st.info("No champion is served yet: the pipeline has not registered one, or the registry is unreachable.")
    st.stop()

for model in info["models"]:
    st.subheader(f"{model['name']} v{model['version']} (@{model['alias']})")
    metrics = model.get("holdout_metrics") or {}
    columns = st.columns(max(len(metrics), 1))
    # One column even without metrics (st.columns needs at least one): the lengths may differ.
    for column, (key, value) in zip(columns, sorted(metrics.items()), strict=False):
        column.metric(f"holdout {key.upper()}", f"{value:,.4f}" if key == "r2" else f"{value:,.3f} kWh")
    lineage = {
        "gate decision": model.get("gate_decision"),
        "trained at": model.get("trained_at"),
        "loaded at": model.get("loaded_at"),
        "data version (DVC md5)": model.get("data_version"),
        "git commit": model.get("git_commit"),
        "code version": model.get("code_version"),
        "MLflow run": model.get("mlflow_run_id"),
        "Dagster run": model.get("dagster_run_id"),
        "model URI": model.get("model_uri"),
    }
    st.dataframe(
        pd.DataFrame({"": list(lineage), "value": [str(v) if v is not None else "—" for v in lineage.values()]}),
        hide_index=True,
        width="stretch",
    )

st.header("Monitoring")
monitoring = ui.answer(ui.get, "/model/monitoring")
if monitoring is None:
    st.stop()

st.subheader("Latest drift report")
report = monitoring.get("drift_report")
if report is None:
    st.info(monitoring["message"])
else:
    (st.warning if report["drifted"] else st.success)(monitoring["message"])
    st.caption(
        f"{report['rows']:,} rows of {report['month']} against {report['reference_rows']:,} reference rows; "
        f"computed {report.get('computed_at') or '—'} (Dagster run {report.get('run_id') or '—'}). "
        f"Months monitored: {', '.join(monitoring['drift_months'])}."
    )
    if report.get("errors"):
        st.dataframe(
            pd.DataFrame(report["errors"])[["model", "holdout_rmse", "recent_rmse", "limit", "drifted"]].rename(
                columns={
                    "holdout_rmse": "holdout RMSE (kWh)",
                    "recent_rmse": "month RMSE (kWh)",
                    "limit": "RMSE limit (kWh)",
                }
            ),
            hide_index=True,
            width="stretch",
        )
    columns = pd.DataFrame(report["columns"])
    shown = [
        c
        for c in ("column", "kind", "psi", "ks_statistic", "ks_pvalue", "out_of_range_share", "drifted")
        if c in columns
    ]
    st.dataframe(columns[shown], hide_index=True, width="stretch")

st.subheader("Gate decisions")
st.caption(
    "A candidate replaces the champion only when its holdout RMSE beats the champion's (with no champion "
    "yet: the seasonal-naive baseline's)."
)
for gates in monitoring["gates"]:
    if gates.get("error"):
        st.error(f"{gates['name']}: {gates['error']}")
        continue
    st.markdown(f"**{gates['name']}**: champion v{gates.get('champion_version') or '—'}")
    versions = pd.DataFrame(gates["versions"])
    if versions.empty:
        st.info(f"{gates['name']} has no registered version yet.")
        continue
    st.dataframe(
        versions[
            ["version", "champion", "decision", "holdout_rmse", "reference", "reference_rmse", "registered_at"]
        ].rename(
            columns={
                "holdout_rmse": "holdout RMSE (kWh)",
                "reference": "compared with",
                "reference_rmse": "its RMSE (kWh)",
            }
        ),
        hide_index=True,
        width="stretch",
    )
