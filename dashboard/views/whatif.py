"""What-if: shift energy between hours, correct the power factor, schedule a deferrable block; savings as the API
computes them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import streamlit as st

from dashboard import charts, ui

st.title("What-if")

span, first_day, last_day = ui.history_span()
CLOCK = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60 + 1, 15)]


def clock(label: str, default: str, key: str) -> str:
    return st.selectbox(label, CLOCK, index=CLOCK.index(default), key=key)


def savings_line(saving: float | None, currency: str, what: str) -> None:
    if saving is None:
        return
    verb = "saves" if saving >= 0 else "costs"
    st.metric(f"Saving ({what})", ui.money(saving, currency))
    st.caption(f"The scenario {verb} {ui.money(abs(saving), currency)} over the months it touches.")


def delta_table(answer: dict) -> None:
    rows = [
        {"month": month, **{k: v for k, v in part["delta"].items() if not k.startswith("energy_charge_")}}
        for month, part in answer["months"].items()
    ]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


shift_tab, pf_tab, optimize_tab = st.tabs(["Shift energy", "Power factor", "Schedule a block"])

with shift_tab:
    with st.form("shift"):
        day = st.date_input("Day", value=last_day, min_value=first_day, max_value=last_day, key="shift_day")
        a, b, c, d = st.columns(4)
        with a:
            from_start = clock("Move from", "10:00", "from_start")
        with b:
            from_end = clock("until", "12:00", "from_end")
        with c:
            to_start = clock("to", "02:00", "to_start")
        with d:
            to_end = clock("until ", "04:00", "to_end")
        share = st.slider("Share of that window's energy to move", 0.05, 1.0, 0.5, 0.05, key="share")
        submitted = st.form_submit_button("Compute the shift")
    if submitted:
        body = {
            "days": [day.isoformat()],
            "from_start": from_start,
            "from_end": from_end,
            "to_start": to_start,
            "to_end": to_end,
            "share": share,
        }
        st.session_state["shift_answer"] = ui.answer(ui.post, "/copilot/whatif/shift", body)
    answer = st.session_state.get("shift_answer")
    if answer:
        currency = (answer.get("tariff") or {}).get("currency", "")
        savings_line(-answer["delta_total"]["total"], currency, "shift")
        profile = answer["days"][0]
        columns = st.columns(3)
        columns[0].metric("Energy moved", f"{profile['moved_kwh']:,.1f} kWh")
        columns[1].metric("Peak before", f"{profile['peak_kw_before']:,.1f} kW")
        columns[2].metric(
            "Peak after",
            f"{profile['peak_kw_after']:,.1f} kW",
            delta=f"{profile['peak_kw_after'] - profile['peak_kw_before']:+,.1f} kW",
            delta_color="inverse",
        )
        times = pd.date_range(
            pd.Timestamp(profile["day"]) + pd.Timedelta(minutes=15), periods=len(profile["before_kwh"]), freq="15min"
        )
        frame = pd.DataFrame({"timestamp": times, "before": profile["before_kwh"], "after": profile["after_kwh"]})
        st.altair_chart(
            charts.profiles_chart(frame, "timestamp", {"before": "before", "after": "after"}), width="stretch"
        )
        delta_table(answer)
        if answer.get("co2_t"):
            st.caption(
                f"CO2: {answer['co2_t']['before']} t before, {answer['co2_t']['after']} t after. "
                f"{answer['co2_t'].get('note', '')}"
            )

with pf_tab:
    with st.form("power_factor"):
        mode = st.radio(
            "Size the capacitor bank by", ["target power factor", "bank size"], horizontal=True, key="pf_mode"
        )
        a, b = st.columns(2)
        target = a.number_input("Target lagging power factor (%)", 50.0, 100.0, 95.0, 0.5, key="target_pf")
        bank = b.number_input("Bank size (kVAr)", 1.0, 5000.0, 100.0, 10.0, key="bank_kvar")
        cost_per_kvar = st.number_input(
            "Installed cost per kVAr (your quote; empty: no payback)",
            min_value=0.0,
            value=None,
            step=1000.0,
            key="cost_per_kvar",
        )
        submitted = st.form_submit_button("Compute the correction")
    if submitted:
        body = {"target_pf_pct": target} if mode == "target power factor" else {"bank_kvar": bank}
        if cost_per_kvar is not None:
            body["cost_per_kvar"] = cost_per_kvar
        st.session_state["pf_answer"] = ui.answer(ui.post, "/copilot/whatif/power-factor", body)
    answer = st.session_state.get("pf_answer")
    if answer:
        currency = (answer.get("tariff") or {}).get("currency", "")
        savings_line(answer["saving"], currency, "power factor")
        columns = st.columns(3)
        columns[0].metric("Bank", f"{answer['scenario']['bank_kvar']:,.1f} kVAr")
        columns[1].metric("Saving per year", ui.money(answer["saving_per_year"], currency))
        columns[2].metric(
            "Payback", f"{answer['payback_years']:,.1f} years" if answer.get("payback_years") is not None else "—"
        )
        if answer.get("payback_note"):
            st.caption(answer["payback_note"])
        pf = pd.DataFrame([{"month": m, **v} for m, v in answer["pf"].items()])
        st.altair_chart(
            charts.power_factor_chart(
                pf, {"lagging_pf_pct_before": "lagging, before", "lagging_pf_pct_after": "lagging, after"}, {}
            ),
            width="stretch",
        )
        delta_table(answer)

with optimize_tab:
    with st.form("optimize"):
        day = st.date_input("Forecast day", value=dt.date.fromisoformat(span["next_day"]), key="opt_day")
        a, b, c = st.columns(3)
        energy = a.number_input("Energy of the block (kWh)", 1.0, 20000.0, 400.0, 10.0, key="opt_energy")
        duration = b.number_input("Duration (minutes)", 15, 1440, 120, 15, key="opt_duration")
        power = c.number_input("Power limit (kW)", 1.0, 5000.0, 250.0, 10.0, key="opt_power")
        a, b, c = st.columns(3)
        with a:
            window_start = clock("Allowed from", "06:00", "opt_from")
        with b:
            window_end = clock("until", "22:00", "opt_to")
        cap = c.number_input("Peak cap (kW, optional)", min_value=0.0, value=None, step=10.0, key="opt_cap")
        submitted = st.form_submit_button("Schedule at least cost")
    if submitted:
        body = {
            "day": day.isoformat(),
            "energy_kwh": energy,
            "duration_minutes": int(duration),
            "power_limit_kw": power,
            "window_start": window_start,
            "window_end": window_end,
        }
        if cap:
            body["peak_cap_kw"] = cap
        st.session_state["opt_answer"] = ui.answer(ui.post, "/copilot/optimize", body)
    answer = st.session_state.get("opt_answer")
    if answer:
        currency = (answer.get("tariff") or {}).get("currency", "")
        savings_line(answer["saving_vs_early"], currency, "against running as early as allowed")
        columns = st.columns(3)
        columns[0].metric("Start", pd.Timestamp(answer["start"]).strftime("%H:%M"))
        columns[1].metric("Peak with the block", f"{answer['peak_kw']:,.1f} kW")
        columns[2].metric("Cap binds", "yes" if answer["cap_binds"] else "no")
        schedule = pd.DataFrame(answer["schedule"])
        schedule["timestamp"] = pd.to_datetime(schedule["interval_start"]) + pd.Timedelta(minutes=15)
        st.altair_chart(
            charts.profiles_chart(
                schedule, "timestamp", {"baseline_kw": "forecast", "total_kw": "forecast + block"}, "kW"
            ),
            width="stretch",
        )
