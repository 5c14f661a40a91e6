"""Tomorrow: the day-ahead forecast, its bands, the tariff periods, the peak against a demand cap, cost and CO2."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts, ui

# How the API knew the day's tariff periods (load_type_source), in words.
PERIOD_SOURCES = {
    "clean_readings": "as recorded in the clean readings",
    "planned_from_history": "planned from the last four weeks",
}

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
    help=(
        f"Clean readings cover {span['first_day']} to {span['last_day']}; the next day to forecast is "
        f"{span['next_day']}."
    ),
)
cap_kw = right.number_input(
    "Demand cap (kW)",
    min_value=0.0,
    value=None,
    step=10.0,
    placeholder="none",
    help="The billing demand you want to stay under; each interval's demand is its kWh × 4.",
)

forecast = ui.answer(ui.get, "/forecast", day=day.isoformat())
if forecast is None:
    st.stop()
risk = None
if cap_kw and forecast.get("bands"):  # the probability of exceeding the cap comes from the bands
    with_cap = ui.answer(ui.get, "/forecast", day=day.isoformat(), cap_kw=cap_kw)
    risk = (with_cap or {}).get("peak_risk")

frame = charts.intervals_frame(forecast["intervals"])
if not forecast.get("bands"):
    frame = frame.drop(columns=[c for c in charts.QUANTILES if c in frame.columns])
cost = forecast.get("cost") or {}
currency = (forecast.get("tariff") or {}).get("currency", "")
if cost:
    peak_kw, peak_at = cost["peak_kw"], pd.Timestamp(cost["peak_at"])
else:  # an API without the copilot: the peak of the point forecast, kWh x 4
    peak = frame.loc[frame["usage_kwh"].idxmax()]
    peak_kw, peak_at = float(peak["usage_kwh"]) * charts.QUARTER_HOURS_PER_HOUR, peak["timestamp"]
columns = st.columns(4)
columns[0].metric("Expected use", f"{cost.get('energy_kwh', frame['usage_kwh'].sum()):,.1f} kWh")
columns[1].metric(
    "Expected peak",
    f"{peak_kw:,.1f} kW",
    delta=f"{peak_kw - cap_kw:+,.1f} kW vs cap" if cap_kw else None,
    delta_color="inverse",
    help=f"at the interval ending {peak_at:%H:%M}",
)
columns[2].metric(
    f"Expected energy charge ({currency})" if currency else "Expected energy charge",
    ui.money(cost.get("energy_charge")),
)
columns[3].metric("Expected CO2", f"{cost['co2_t']:,.2f} t" if cost.get("co2_t") is not None else "—")
if not cost:
    st.caption(f"The API at {ui.client().base_url} gives no cost for its forecasts (an API without the copilot).")

st.altair_chart(charts.forecast_chart(frame, cap_kw), width="stretch")
bands = "; bands: p10–p90 and 95 % (p025–p975)" if forecast.get("bands") else ""
st.caption(
    f"Forecast of {forecast['day']}: load periods "
    f"{PERIOD_SOURCES.get(forecast['load_type_source'], forecast['load_type_source'])}, {forecast['history_days']} "
    f"days of history{bands}. Shading: the tariff period of each interval."
)
if risk:
    at = pd.Timestamp(risk["max_at"])
    message = (
        f"Cap {risk['cap_kw']:,.0f} kW: the most likely interval to exceed it ends at {at:%H:%M} "
        f"(probability {risk['max_p_exceed']:.0%}); expected intervals over the cap: "
        f"{risk['expected_intervals_over_cap']:,.2f}."
    )
    (st.warning if risk["max_p_exceed"] >= 0.5 else st.info)(message)
elif cap_kw:
    over = frame[frame["usage_kwh"] * charts.QUARTER_HOURS_PER_HOUR > cap_kw]
    if over.empty:
        st.success(f"No interval's forecast demand exceeds the cap of {cap_kw:,.0f} kW.")
    else:
        st.warning(
            f"{len(over)} intervals' forecast demand exceeds the cap of {cap_kw:,.0f} kW, "
            f"from {over['start'].min():%H:%M} to {over['timestamp'].max():%H:%M}."
        )
if cost.get("energy_by_period"):
    st.dataframe(
        pd.DataFrame(
            [
                {
                    "tariff period": charts.PERIOD_NAMES.get(p, p),
                    "kWh": v["kwh"],
                    f"energy charge ({currency})": v["charge"],
                }
                for p, v in cost["energy_by_period"].items()
            ]
        ),
        hide_index=True,
    )
ui.lineage_line(forecast.get("lineage"))
