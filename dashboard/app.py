"""The dashboard's entry point: `python -m dashboard` (or `streamlit run dashboard/app.py`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboard.client import api_url

VIEWS = Path(__file__).parent / "views"


def _icon():
    """The favicon, drawn here: a material or emoji icon would make the browser fetch it from a CDN."""
    from PIL import Image, ImageDraw

    image = Image.new("RGBA", (32, 32), (0, 0, 0, 0))
    ImageDraw.Draw(image).polygon([(19, 1), (6, 18), (15, 18), (12, 31), (26, 12), (17, 12)], fill=(242, 169, 0, 255))
    return image


st.set_page_config(page_title="Energy Optimization Copilot", page_icon=_icon(), layout="wide")

pages = [
    st.Page(VIEWS / "tomorrow.py", title="Tomorrow", icon=":material/schedule:", url_path="tomorrow", default=True),
    st.Page(VIEWS / "bills.py", title="Bills", icon=":material/receipt_long:", url_path="bills"),
    st.Page(VIEWS / "whatif.py", title="What-if", icon=":material/tune:", url_path="whatif"),
    st.Page(VIEWS / "explain.py", title="Explain", icon=":material/search:", url_path="explain"),
    st.Page(VIEWS / "models.py", title="Models", icon=":material/model_training:", url_path="models"),
]
st.sidebar.caption(f"API: {api_url()}")
st.navigation(pages).run()
