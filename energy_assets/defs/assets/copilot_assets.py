"""Copilot assets: each month's bill under the tariff, its power-factor report and its peak report.

All three are partitioned by month and read every clean month (the billing demand ratchets over
the 12 months before). The arithmetic is the copilot domain package's; this module only wires it,
checks the bill and draws the plots shown in the asset metadata.
"""

import base64
import io

import dagster as dg
import numpy as np
import pandas as pd
from pydantic import Field

from energy_assets import schema
from energy_assets.copilot import service
from energy_assets.copilot.errors import CopilotInputError
from energy_assets.copilot.tariff import INTERVAL_HOURS, TARIFF_ENV, Tariff, load_tariff
from energy_assets.defs.partitions import monthly_partitions

TARIFF_KEY = f"ops.<asset>.config.tariff_path (or env {TARIFF_ENV})"
PF_TARGET_PCT = 95.0  # the top of the lagging discount band in the default tariff: the report sizes a bank for it
TOP_PEAKS = 10
ALL_MONTHS = {"clean_readings": dg.AssetIn(partition_mapping=dg.AllPartitionMapping())}


def _monthly_asset(description: str, **extra):
    """A copilot asset: one partition per month, all months in one run, reading every clean month."""
    return dg.asset(
        group_name="copilot",
        kinds={"pandas", "parquet"},
        partitions_def=monthly_partitions,
        backfill_policy=dg.BackfillPolicy.single_run(),
        ins=ALL_MONTHS,
        description=description,
        **extra,
    )


class TariffConfig(dg.Config):
    tariff_path: str = Field(
        default="", description=f"Tariff file (YAML). Empty: env {TARIFF_ENV}, else the bundled KEPCO 2018 tariff."
    )


def _tariff(config: TariffConfig) -> Tariff:
    try:
        return load_tariff(config.tariff_path or None)
    except CopilotInputError as error:
        raise dg.Failure(description=f"tariff ({TARIFF_KEY}): {error}") from error


def _png(figure) -> str:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _plot(draw, title: str) -> dg.MetadataValue:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots(figsize=(8, 3.2))
    draw(ax)
    ax.set_title(title)
    return dg.MetadataValue.md(f"![{title}](data:image/png;base64,{_png(figure)})")


def _months(context: dg.AssetExecutionContext, priced) -> list[str]:
    missing = [m for m in context.partition_keys if m not in priced.months]
    if missing:
        raise dg.Failure(description=f"months {missing}: no clean readings")
    return list(context.partition_keys)


@_monthly_asset(
    "The month's electricity bill under the tariff: energy charge by TOU period, billing demand "
    "(ratchet) and demand charge, power-factor adjustment, total and CO2.",
    check_specs=[
        dg.AssetCheckSpec(
            "check_bill_components_add_up",
            asset="monthly_bill",
            blocking=True,
            description="energy by period sums to the energy charge; energy + demand + power factor = total",
        ),
        dg.AssetCheckSpec(
            "check_bill_every_interval_priced",
            asset="monthly_bill",
            blocking=True,
            description="every reading of the month has a rate (priced intervals = readings); intervals missing from "
            "the month are listed, and judged by the clean data's continuity checks",
        ),
    ],
)
def monthly_bill(context: dg.AssetExecutionContext, config: TariffConfig, clean_readings: pd.DataFrame):
    tariff = _tariff(config)
    priced = service.prepare_history(clean_readings, tariff)
    bills = {m: service.bill(priced, m, tariff)["bill"] for m in _months(context, priced)}
    tables = {m: pd.json_normalize(b, sep="_") for m, b in bills.items()}
    add_up, priced_all = {}, {}
    for month, b in bills.items():
        by_period = sum(b["energy_charge_by_period"].values())
        total = b["energy_charge"] + b["demand_charge"] + b["pf_adjustment"]
        add_up[month] = abs(by_period - b["energy_charge"]) <= 0.05 and abs(total - b["total"]) <= 0.05
        priced_all[month] = b["priced_intervals"] == b["intervals"]

    def draw(ax):
        frame = pd.DataFrame(
            {
                m: {
                    **{f"energy ({p})": v for p, v in b["energy_charge_by_period"].items()},
                    "demand": b["demand_charge"],
                    "power factor": b["pf_adjustment"],
                }
                for m, b in bills.items()
            }
        ).T
        frame.plot.bar(stacked=True, ax=ax, width=0.8)
        ax.set(ylabel=tariff.currency, xlabel="month")

    yield dg.Output(
        tables,
        metadata={
            "tariff_version": tariff.label,
            "months": ", ".join(bills),
            "total": float(sum(b["total"] for b in bills.values())),
            "bills": dg.MetadataValue.json(bills),
            "plot": _plot(draw, "bill by component"),
        },
    )
    yield dg.AssetCheckResult(
        check_name="check_bill_components_add_up",
        passed=all(add_up.values()),
        metadata={"failing_months": [m for m, ok in add_up.items() if not ok]},
    )
    yield dg.AssetCheckResult(
        check_name="check_bill_every_interval_priced",
        passed=all(priced_all.values()),
        metadata={
            "unpriced_months": [m for m, ok in priced_all.items() if not ok],
            "missing_intervals": {m: b["expected_intervals"] - b["intervals"] for m, b in bills.items()},
        },
    )


@_monthly_asset(
    "The month's lagging (09-23 h) and leading (23-09 h) power factor, the adjustment on the bill, and the "
    f"automatic capacitor bank that would lift the lagging power factor to {PF_TARGET_PCT:.0f} % with its saving.",
)
def power_factor_report(context: dg.AssetExecutionContext, config: TariffConfig, clean_readings: pd.DataFrame):
    tariff = _tariff(config)
    priced = service.prepare_history(clean_readings, tariff)
    rows = {}
    for month in _months(context, priced):
        scenario = service.whatif_power_factor(priced, months=[month], target_pf_pct=PF_TARGET_PCT, tariff=tariff)
        pf = scenario["pf"][month]
        rows[month] = pd.DataFrame(
            [
                {
                    "month": month,
                    **pf,
                    "bank_kvar_for_target": scenario["scenario"]["bank_kvar"],
                    "saving": scenario["months"][month]["delta"]["total"] * -1,
                }
            ]
        )
    table = priced.table
    window = tariff.lagging.contains(table["hour"].to_numpy())
    daily = table[table["month"].astype(str).isin(rows)].assign(
        lag_kwh=lambda t: np.where(window[t.index], t[schema.TARGET], 0.0),
        lag_kvarh=lambda t: np.where(window[t.index], t["lagging_reactive_power_kvarh"], 0.0),
    )
    by_day = daily.groupby("day")[["lag_kwh", "lag_kvarh"]].sum()
    lagging_daily = 100 * by_day["lag_kwh"] / np.hypot(by_day["lag_kwh"], by_day["lag_kvarh"]).replace(0, np.nan)

    def draw(ax):
        ax.plot(lagging_daily.index, lagging_daily.to_numpy(), linewidth=0.9, label="lagging pf, 09-23 h")
        ax.axhline(
            tariff.lagging.reference_pct,
            color="black",
            linewidth=0.8,
            label=f"reference {tariff.lagging.reference_pct:.0f} %",
        )
        ax.set(ylabel="%", xlabel="day")
        ax.legend(loc="lower right")

    summary = {m: r.iloc[0].to_dict() for m, r in rows.items()}
    return dg.Output(
        rows,
        metadata={
            "tariff_version": tariff.label,
            "target_pf_pct": PF_TARGET_PCT,
            "report": dg.MetadataValue.json(summary),
            "plot": _plot(draw, "daily lagging power factor"),
        },
    )


@_monthly_asset(
    f"The month's {TOP_PEAKS} highest 15-minute demands (kW) with their TOU period, the billing "
    "demand and the month that set it.",
)
def peak_report(context: dg.AssetExecutionContext, config: TariffConfig, clean_readings: pd.DataFrame):
    tariff = _tariff(config)
    priced = service.prepare_history(clean_readings, tariff)
    tables, summary = {}, {}
    for month in _months(context, priced):
        rows = priced.rows_of([month])
        top = rows.nlargest(TOP_PEAKS, "demand_kw")
        tables[month] = pd.DataFrame(
            {
                "timestamp": top[schema.TIMESTAMP].to_numpy(),
                "demand_kw": top["demand_kw"].to_numpy(),
                "period": top["period"].astype(str).to_numpy(),
                "weekday": (top[schema.TIMESTAMP] - schema.INTERVAL).dt.day_name().to_numpy(),
            }
        )
        bill = service.bill(priced, month, tariff)["bill"]
        summary[month] = {
            "max_demand_kw": bill["max_demand_kw"],
            "max_demand_at": bill["max_demand_at"],
            "billing_demand_kw": bill["billing_demand_kw"],
            "billing_demand_month": bill["billing_demand_month"],
        }
    table = priced.table[priced.table["month"].astype(str).isin(tables)]
    daily = table.groupby("day")["demand_kw"].max()

    def draw(ax):
        ax.plot(daily.index, daily.to_numpy(), linewidth=0.9, label="daily max demand")
        for month, s in summary.items():
            start = pd.Timestamp(f"{month}-01")
            ax.hlines(s["billing_demand_kw"], start, start + pd.offsets.MonthEnd(1), color="red", linewidth=1.2)
        ax.set(ylabel="kW (15-minute average)", xlabel="day")
        ax.legend(loc="lower right")

    return dg.Output(
        tables,
        metadata={
            "tariff_version": tariff.label,
            "peaks": dg.MetadataValue.json(summary),
            "interval_hours": INTERVAL_HOURS,
            "plot": _plot(draw, "daily maximum demand and billing demand (red)"),
        },
    )
