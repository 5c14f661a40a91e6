"""Altair charts of the pages. Streamlit renders them with the Vega-Lite it bundles: no CDN."""

from __future__ import annotations

import altair as alt
import pandas as pd

# KEPCO's time-of-use periods as the readings' load_type names them, lightest to heaviest.
PERIOD_LABELS = {"Light_Load": "light load", "Medium_Load": "mid load", "Maximum_Load": "maximum load"}
PERIOD_COLORS = ["#d9ead3", "#fff2cc", "#f4cccc"]
# The same periods as the tariff file names them.
PERIOD_NAMES = {"light": "light load", "mid": "mid load", "peak": "maximum load"}
PERIOD_STRONG_COLORS = {"light": "#93c47d", "mid": "#f1c232", "peak": "#e06666"}
QUARTER_HOURS_PER_HOUR = 4
QUANTILES = ("p025", "p10", "p50", "p90", "p975")  # a 15-minute kWh reading times 4 is the interval's mean demand in kW


def intervals_frame(intervals: list[dict]) -> pd.DataFrame:
    frame = pd.DataFrame(intervals)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"])
    frame["start"] = frame["timestamp"] - pd.Timedelta(minutes=15)
    return frame


def period_runs(frame: pd.DataFrame, column: str = "load_type") -> pd.DataFrame:
    """Contiguous runs of one tariff period: start, end and its label (the chart's shading)."""
    change = frame[column].ne(frame[column].shift()).cumsum()
    runs = frame.groupby(change).agg(start=("start", "first"), end=("timestamp", "last"), period=(column, "first"))
    runs["period"] = runs["period"].map(lambda p: PERIOD_LABELS.get(p, p))
    return runs.reset_index(drop=True)


def _period_layer(frame: pd.DataFrame) -> alt.Chart:
    return (
        alt.Chart(period_runs(frame))
        .mark_rect(opacity=0.55)
        .encode(
            x=alt.X("start:T", title=None),
            x2="end:T",
            color=alt.Color(
                "period:N",
                title="tariff period",
                scale=alt.Scale(domain=list(PERIOD_LABELS.values()), range=PERIOD_COLORS),
                legend=alt.Legend(orient="top"),
            ),
        )
    )


def forecast_chart(frame: pd.DataFrame, cap_kw: float | None = None) -> alt.LayerChart:
    """The day's 96 interval forecasts (points on a line), its bands when given, the periods, a demand cap."""
    y_title = "kWh per 15 min"
    layers = [_period_layer(frame)]
    for low, high, label in (("p025", "p975", "95 % band"), ("p10", "p90", "p10–p90")):
        if {low, high} <= set(frame.columns):
            layers.append(
                alt.Chart(frame.assign(band=label))
                .mark_area(opacity=0.35 if low == "p10" else 0.18, color="#1f77b4")
                .encode(x="timestamp:T", y=alt.Y(f"{low}:Q", title=y_title), y2=f"{high}:Q")
            )
    base = alt.Chart(frame).encode(
        x=alt.X("timestamp:T", title="interval end", axis=alt.Axis(format="%H:%M")),
        y=alt.Y("usage_kwh:Q", title=y_title),
    )
    tooltip = [
        alt.Tooltip("timestamp:T", format="%H:%M", title="interval end"),
        alt.Tooltip("usage_kwh:Q", format=".2f", title="forecast kWh"),
    ]
    tooltip += [alt.Tooltip(f"{c}:Q", format=".2f") for c in ("p025", "p10", "p90", "p975") if c in frame.columns]
    layers.append(base.mark_line(color="#1f4e79"))
    layers.append(base.mark_point(filled=True, size=18, color="#1f4e79").encode(tooltip=tooltip))
    if cap_kw:
        cap = pd.DataFrame({"kwh": [cap_kw / QUARTER_HOURS_PER_HOUR], "label": [f"cap {cap_kw:,.0f} kW"]})
        rule = alt.Chart(cap).encode(y="kwh:Q")
        layers.append(rule.mark_rule(color="#c00000", strokeDash=[6, 4], size=2))
        layers.append(rule.mark_text(align="left", dx=4, dy=-7, color="#c00000").encode(x=alt.value(0), text="label:N"))
    return alt.layer(*layers).properties(height=360).resolve_scale(color="independent")


def profiles_chart(frame: pd.DataFrame, x: str, series: dict[str, str], y_title: str = "kWh per 15 min") -> alt.Chart:
    """Several profiles of one day as lines (e.g. before and after a scenario), keyed by `series` label."""
    long = frame.melt(id_vars=[x], value_vars=list(series), var_name="series", value_name="value")
    long["series"] = long["series"].map(series)
    return (
        alt.Chart(long)
        .mark_line(interpolate="step-before")
        .encode(
            x=alt.X(f"{x}:T", title="interval end", axis=alt.Axis(format="%H:%M")),
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color("series:N", title=None, legend=alt.Legend(orient="top")),
            strokeDash=alt.StrokeDash("series:N", legend=None),
            tooltip=[alt.Tooltip(f"{x}:T", format="%H:%M"), "series:N", alt.Tooltip("value:Q", format=".2f")],
        )
        .properties(height=320)
    )


def stacked_bars(
    frame: pd.DataFrame, x: str, parts: dict[str, str], y_title: str, colors: dict[str, str] | None = None
) -> alt.Chart:
    """One bar per `x` (e.g. month), stacked in the order of `parts` (column → label), colored by `colors`
    (label → color)."""
    long = frame.melt(id_vars=[x], value_vars=list(parts), var_name="part", value_name="value")
    long["order"] = long["part"].map({c: i for i, c in enumerate(parts)})
    long["part"] = long["part"].map(parts)
    labels = list(parts.values())
    scale = alt.Scale(domain=labels, range=[colors[label] for label in labels]) if colors else alt.Scale(domain=labels)
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X(f"{x}:N", title=None, axis=alt.Axis(labelAngle=0)),
            y=alt.Y("value:Q", title=y_title, stack=True),
            color=alt.Color("part:N", title=None, scale=scale, legend=alt.Legend(orient="top")),
            order=alt.Order("order:Q"),
            tooltip=[f"{x}:N", "part:N", alt.Tooltip("value:Q", format=",.0f")],
        )
        .properties(height=320)
    )


def period_order(period: str) -> tuple[int, str]:
    names = list(PERIOD_NAMES)
    return (names.index(period) if period in names else len(names), period)


def power_factor_chart(
    frame: pd.DataFrame, series: dict[str, str], thresholds: dict[str, float]
) -> alt.LayerChart | alt.FacetChart:  # alt.layer hoists shared facet encodings into a FacetChart
    """Monthly power factor (%) per series, with each series' threshold as a dashed rule."""
    long = frame.melt(id_vars=["month"], value_vars=list(series), var_name="series", value_name="pf").dropna()
    long["series"] = long["series"].map(series)
    color = alt.Color("series:N", title=None, legend=alt.Legend(orient="top"))
    layers = [
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=alt.X("month:N", title=None),
            y=alt.Y("pf:Q", title="power factor (%)", scale=alt.Scale(zero=False)),
            color=color,
            tooltip=["month:N", "series:N", alt.Tooltip("pf:Q", format=".2f")],
        )
    ]
    if thresholds:
        rules = pd.DataFrame({"series": [series[k] for k in thresholds], "pf": list(thresholds.values())})
        layers.append(alt.Chart(rules).mark_rule(strokeDash=[6, 4]).encode(y="pf:Q", color=color))
    return alt.layer(*layers).properties(height=280)


def actual_vs_forecast_chart(frame: pd.DataFrame) -> alt.Chart:
    """Monthly usage (MWh): the actual beside the forecast, grouped per month; months without a forecast show the
    actual alone."""
    long = frame.melt(
        id_vars=["month"], value_vars=["actual", "forecast"], var_name="series", value_name="mwh"
    ).dropna()
    return (
        alt.Chart(long)
        .mark_bar()
        .encode(
            x=alt.X("month:N", title=None),
            xOffset="series:N",
            y=alt.Y("mwh:Q", title="usage (MWh)"),
            color=alt.Color(
                "series:N", title=None, legend=alt.Legend(orient="top"), scale=alt.Scale(range=["#3d85c6", "#e69138"])
            ),
            tooltip=["month:N", "series:N", alt.Tooltip("mwh:Q", format=",.1f")],
        )
        .properties(height=280)
    )
