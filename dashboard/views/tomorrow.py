"""Tomorrow: the day-ahead forecast, its bands, the tariff periods, the peak against a demand cap, cost and CO2."""

from __future__ import annotations

import datetime as dt

import streamlit as st

from dashboard import charts, ui

st.title("Tomorrow")

span = ui.answer(ui.get, "/history")
if span is None:
    st.stop()
if not span.get("next_day"):
    st.warning("The API has no clean readings yet, so there is no day to forecast: run the pipeline first.")
    st.stop()

first_day = dt.date.fromisoformat(span["first_day"])
next_day = dt.date.fromisoformat(span["next_day"])
left, right = st.columns(2)
day = left.date_input(
    "Day to forecast",
    value=next_day,
    min_value=first_day + dt.timedelta(days=28),
    max_value=next_day,
    help=f"Clean readings cover {span['first_day']} to {span['last_day']}; the next day to forecast is {span['next_day']}.",
)
cap_kw = right.number_input(
    "Demand cap (kW)", min_value=0.0, value=None, step=10.0, placeholder="none",
    help="The billing demand you want to stay under; each interval's demand is its kWh × 4.",
)

forecast = ui.answer(ui.get, "/forecast", day=day.isoformat())
if forecast is None:
    st.stop()

frame = charts.intervals_frame(forecast["intervals"])
peak = frame.loc[frame["usage_kwh"].idxmax()]
peak_kw = float(peak["usage_kwh"]) * charts.QUARTER_HOURS_PER_HOUR
cost = forecast.get("cost") or {}
columns = st.columns(4)
columns[0].metric("Expected use", f"{frame['usage_kwh'].sum():,.1f} kWh")
columns[1].metric(
    "Expected peak",
    f"{peak_kw:,.1f} kW",
    delta=f"{peak_kw - cap_kw:+,.1f} kW vs cap" if cap_kw else None,
    delta_color="inverse",
    help=f"at the interval ending {peak['timestamp']:%H:%M}",
)
columns[2].metric("Expected cost", ui.money(cost.get("total"), cost.get("currency")) if cost else "—")
columns[3].metric("Expected CO2", f"{cost['co2_kg']:,.0f} kg" if cost.get("co2_kg") is not None else "—")
if not cost:
    st.caption(f"The API at {ui.client().base_url} gives no cost for its forecasts (an API without the copilot).")

st.altair_chart(charts.forecast_chart(frame, cap_kw), width="stretch")
st.caption(
    f"Forecast of {forecast['day']}: planned load periods from {forecast['load_type_source'].replace('_', ' ')}, "
    f"{forecast['history_days']} days of history. Shading: the tariff period of each interval."
)
if cap_kw:
    over = frame[frame["usage_kwh"] * charts.QUARTER_HOURS_PER_HOUR > cap_kw]
    if over.empty:
        st.success(f"No interval's forecast demand exceeds the cap of {cap_kw:,.0f} kW.")
    else:
        st.warning(
            f"{len(over)} intervals' forecast demand exceeds the cap of {cap_kw:,.0f} kW, "
            f"from {over['start'].min():%H:%M} to {over['timestamp'].max():%H:%M}."
        )
ui.lineage_line(forecast.get("lineage"))
