"""Bills: the monthly bill by component, power factor by month against the tariff's thresholds, actual vs forecast."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import charts, ui

st.title("Bills")

span = ui.answer(ui.get, "/history")
if span is None:
    st.stop()
if not span["months"]:
    st.warning("The API has no clean readings yet, so there is no month to bill: run the pipeline first.")
    st.stop()

months = span["months"]
if len(months) > 1:
    first, last = st.select_slider(
        "Months",
        options=months,
        value=(months[0], months[-1]),
        help="Months with clean readings, as the API reports them.",
    )
    chosen = months[months.index(first) : months.index(last) + 1]
else:
    chosen = months

answers = {}
for month in chosen:
    answer = ui.answer(ui.get, "/copilot/bill", month=month)
    if answer is None:
        st.stop()
    answers[month] = answer

bills = pd.DataFrame([{**a["bill"], "complete_month": a.get("complete_month", True)} for a in answers.values()])
periods = sorted({p for a in answers.values() for p in a["bill"]["energy_charge_by_period"]}, key=charts.period_order)
for period in periods:
    bills[f"energy_{period}"] = [a["bill"]["energy_charge_by_period"].get(period, 0.0) for a in answers.values()]
tariff = next(iter(answers.values())).get("tariff") or {}
currency = tariff.get("currency", "")

columns = st.columns(4)
columns[0].metric(f"Total billed ({currency})", ui.money(bills["total"].sum()))
columns[1].metric(f"Energy charge ({currency})", ui.money(bills["energy_charge"].sum()))
columns[2].metric(f"Demand charge ({currency})", ui.money(bills["demand_charge"].sum()))
columns[3].metric(f"Power-factor adjustment ({currency})", ui.money(bills["pf_adjustment"].sum()))
st.caption(f"{len(bills)} months, {bills['energy_kwh'].sum():,.0f} kWh, {bills['co2_t'].sum():,.1f} t CO2.")

st.subheader("Bill by component")
parts = {f"energy_{p}": f"energy, {charts.PERIOD_NAMES.get(p, p)}" for p in periods}
parts.update({"demand_charge": "demand charge", "pf_adjustment": "power-factor adjustment"})
colors = {f"energy, {charts.PERIOD_NAMES.get(p, p)}": charts.PERIOD_STRONG_COLORS.get(p, "#999999") for p in periods}
colors.update({"demand charge": "#3d85c6", "power-factor adjustment": "#8e7cc3"})
st.altair_chart(charts.stacked_bars(bills, "month", parts, f"charge ({currency})", colors), width="stretch")
partial = bills.loc[~bills["complete_month"], "month"].tolist()
if partial:
    st.caption(f"Months with missing intervals (billed on what there is): {', '.join(partial)}.")

st.subheader("Power factor by month")
rule = next(iter(answers.values())).get("power_factor_rule") or {}
series, thresholds, lines = {}, {}, []
for side, when in (("lagging", "day"), ("leading", "night")):
    window = rule.get(side) or {}
    hours = f"{window['start_hour']:02d}–{window['end_hour']:02d} h" if "start_hour" in window else when
    series[f"{side}_pf_pct"] = f"{side} ({hours})"
    if window.get("reference_pct") is not None:
        thresholds[f"{side}_pf_pct"] = float(window["reference_pct"])
        lines.append(f"{side} {window['reference_pct']:g} % in {hours}")
st.altair_chart(charts.power_factor_chart(bills, series, thresholds), width="stretch")
if lines:
    per_point = rule.get("share_of_demand_charge_per_point")
    share = f"; each point below adds {per_point:.1%} of the demand charge" if per_point is not None else ""
    st.caption(f"Dashed: the tariff's reference power factor, {' and '.join(lines)}{share}.")

table = bills[
    [
        "month",
        "energy_kwh",
        "max_demand_kw",
        "billing_demand_kw",
        "energy_charge",
        "demand_charge",
        "pf_adjustment",
        "total",
        "co2_t",
    ]
]
st.dataframe(table, hide_index=True, width="stretch")
ui.lineage_line({"tariff_version": tariff.get("tariff_version")} if tariff else None)

st.subheader("Actual vs forecast")
versus = ui.answer(ui.get, "/forecast/monthly")
if versus is not None:
    monthly = pd.DataFrame(versus["months"])
    monthly = monthly[monthly["month"].isin(chosen)]
    monthly["actual"] = monthly["actual_kwh"] / 1000
    monthly["forecast"] = monthly["forecast_kwh"].astype(float) / 1000
    st.altair_chart(charts.actual_vs_forecast_chart(monthly), width="stretch")
    covered = monthly[monthly["forecast_intervals"] > 0]
    if covered.empty:
        st.info(f"No forecast covers the chosen months: {versus['forecast_source']}.")
    else:
        st.caption(f"Forecast: {versus['forecast_source']}; summed over the intervals it covers.")
        st.dataframe(
            covered[
                [
                    "month",
                    "forecast_kwh",
                    "forecast_actual_kwh",
                    "total_error_pct",
                    "rmse_kwh",
                    "forecast_intervals",
                    "intervals",
                ]
            ].rename(
                columns={
                    "forecast_kwh": "forecast (kWh)",
                    "forecast_actual_kwh": "actual (kWh)",
                    "total_error_pct": "error of the total (%)",
                    "rmse_kwh": "RMSE per interval (kWh)",
                    "forecast_intervals": "intervals forecast",
                    "intervals": "intervals read",
                }
            ),
            hide_index=True,
            width="stretch",
        )
    ui.lineage_line(versus.get("lineage"))
