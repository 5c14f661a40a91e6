"""The dashboard's entry point: `python -m dashboard` (or `streamlit run dashboard/app.py`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.client import api_url

VIEWS = Path(__file__).parent / "views"

st.set_page_config(page_title="Energy Optimization Copilot", page_icon=":material/bolt:", layout="wide")

pages = [
    st.Page(VIEWS / "tomorrow.py", title="Tomorrow", icon=":material/schedule:", url_path="tomorrow", default=True),
    st.Page(VIEWS / "bills.py", title="Bills", icon=":material/receipt_long:", url_path="bills"),
    st.Page(VIEWS / "whatif.py", title="What-if", icon=":material/tune:", url_path="whatif"),
    st.Page(VIEWS / "explain.py", title="Explain", icon=":material/search:", url_path="explain"),
    st.Page(VIEWS / "models.py", title="Models", icon=":material/model_training:", url_path="models"),
]
st.sidebar.caption(f"API: {api_url()}")
st.navigation(pages).run()
