"""Explain: pick a past day and read why its peak was what it was (numbers and one sentence each, from the API)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import ui

st.title("Explain")

_, first_day, last_day = ui.history_span()
day = st.date_input("Day", value=last_day, min_value=first_day + dt.timedelta(days=28), max_value=last_day)
answer = ui.answer(ui.get, "/copilot/explain", day=day.isoformat())
if answer is None:
    st.stop()


SKIP = ("day", "day_kind", "lineage", "tariff", "sentences")


def numbers(part: dict) -> None:
    """A section's numbers: its scalar fields as one table, each list of records as another."""
    scalars = {k: v for k, v in part.items() if k != "sentence" and not isinstance(v, (dict, list))}
    if scalars:
        st.dataframe(pd.DataFrame({"": list(scalars), "value": [str(v) for v in scalars.values()]}), hide_index=True)
    for key, value in part.items():
        if isinstance(value, list) and value and isinstance(value[0], dict):
            st.caption(key.replace("_", " "))
            st.dataframe(pd.DataFrame(value), hide_index=True, width="stretch")


sections = {name: part for name, part in answer.items() if name not in SKIP and isinstance(part, dict)}
sentences = answer.get("sentences") or [part["sentence"] for part in sections.values() if part.get("sentence")]
st.subheader(f"{answer['day']}" + (f" ({answer['day_kind']})" if answer.get("day_kind") else ""))
st.markdown("\n".join(f"- {sentence}" for sentence in sentences))
st.caption("The numbers behind each sentence:")
for name, part in sections.items():
    with st.expander(name.replace("_", " ").capitalize(), expanded=name == "peak"):
        numbers(part)
ui.lineage_line(answer.get("lineage"))
