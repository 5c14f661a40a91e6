"""Explain: pick a past day and read why its peak was what it was (numbers and one sentence each, from the API)."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import ui

st.title("Explain")

span = ui.answer(ui.get, "/history")
if span is None:
    st.stop()
if not span.get("last_day"):
    st.warning("The API has no clean readings yet: run the pipeline first.")
    st.stop()

first_day, last_day = dt.date.fromisoformat(span["first_day"]), dt.date.fromisoformat(span["last_day"])
day = st.date_input("Day", value=last_day, min_value=first_day + dt.timedelta(days=28), max_value=last_day)
answer = ui.answer(ui.get, "/copilot/explain", day=day.isoformat())
if answer is None:
    st.stop()


def section(name: str, part) -> None:
    """One part of the explanation: its sentence first, then its numbers."""
    st.subheader(name.replace("_", " ").capitalize())
    if isinstance(part, dict):
        sentence = part.get("sentence")
        if sentence:
            st.markdown(sentence)
        numbers = {k: v for k, v in part.items() if k != "sentence" and not isinstance(v, (dict, list))}
        if numbers:
            st.dataframe(pd.DataFrame({"": list(numbers), "value": [str(v) for v in numbers.values()]}), hide_index=True)
        for key, value in part.items():
            if isinstance(value, list) and value and isinstance(value[0], dict):
                st.dataframe(pd.DataFrame(value), hide_index=True, width="stretch")
    elif isinstance(part, list) and part and isinstance(part[0], dict):
        st.dataframe(pd.DataFrame(part), hide_index=True, width="stretch")
    else:
        st.markdown(str(part))


for name, part in answer.items():
    if name in ("day", "lineage", "tariff"):
        continue
    section(name, part)
ui.lineage_line(answer.get("lineage"))
