"""Models: the served champions with their lineage and holdout metrics, and how the service is doing."""

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
    for column, (key, value) in zip(columns, sorted(metrics.items())):
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
