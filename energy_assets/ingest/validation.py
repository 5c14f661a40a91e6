"""Turning raw rows into clean readings, and keeping every rejected row with its reason.

Every raw row ends in exactly one place: clean, rejected (with every reason that applies), or
dropped as an exact duplicate of an earlier row (equal once formatting is normalized).

Formatting is normalized and counted, never a reason to reject: spaces around a cell, the letter
case of a category (`wEEKDAY`), an integral float written for an integer (`900.0` for nsm). A BOM
and CRLF line ends are handled by the reader. Anything that changes a value is judged: missing,
unparsable, not finite, out of range, inconsistent with the calendar, or physically inconsistent
(the power triangle and the emission factor, within the tolerance the export's own rounding
allows). Nothing is silently fixed. The one documented transformation is the UCI export's midnight
quirk: the 00:00 reading closes the day it is dated, so it moves to 00:00 of the next day, and its
day_of_week must then still name the day it closes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from energy_assets import schema
from energy_assets.ingest.reader import DATA_VERSION, RAW_VALUE_COLUMNS, SOURCE_FILE, SOURCE_LINE, SOURCE_MAP
from energy_assets.ingest.sourcemap import UCI, SourceMap

REASON = "reason"
REJECTED_COLUMNS: tuple[str, ...] = (SOURCE_FILE, SOURCE_LINE, *RAW_VALUE_COLUMNS, "parsed_timestamp", REASON)
# Kinds of formatting that are normalized (and counted per column), never rejected.
WHITESPACE, LETTER_CASE, INTEGRAL_FLOAT = "whitespace", "letter_case", "integral_float"
PHYSICAL_KINDS = ("inconsistent power triangle", "inconsistent co2")
# Slack for floating-point arithmetic on top of the rounding tolerances.
EPSILON = 1e-9
# The two sides of the power triangle: (reactive energy, power factor).
TRIANGLE_SIDES = (
    ("lagging_reactive_power_kvarh", "lagging_power_factor"),
    ("leading_reactive_power_kvarh", "leading_power_factor"),
)


@dataclass(frozen=True)
class ValidatedReadings:
    clean: pd.DataFrame
    rejected: pd.DataFrame
    exact_duplicates: int
    raw_rows: int
    # {kind: {column: rows normalized}}, e.g. {"letter_case": {"week_status": 12}}
    normalized: dict[str, dict[str, int]] = field(default_factory=dict)
    # {column: half a unit of the last decimal the export writes, in canonical units}
    tolerances: dict[str, float] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "raw_rows": self.raw_rows,
            "clean_rows": len(self.clean),
            "rejected_rows": len(self.rejected),
            "exact_duplicates_dropped": self.exact_duplicates,
        }

    def reason_counts(self) -> dict[str, int]:
        """How many rejected rows carry each kind of reason (the text before the first ':')."""
        kinds = self.rejected[REASON].str.split("; ").explode().str.split(":").str[0]
        return {str(k): int(v) for k, v in kinds.value_counts().items()}


def _add_reason(reasons: pd.Series, mask, *parts: pd.Series | str) -> None:
    """Append the message made of `parts` (text, or Series aligned with `reasons`) to the rows in `mask`.

    The message is built for the masked rows only, so a rule nobody breaks costs no strings.
    """
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    text = pd.Series("", index=reasons.index[mask], dtype=object)
    for part in parts:
        text = text + (part[mask].astype(str) if isinstance(part, pd.Series) else part)
    current = reasons[mask]
    reasons[mask] = np.where(current == "", text, current + "; " + text)


def _per_value(column: pd.Series, function) -> pd.Series:
    """`function` applied to each distinct value of `column` once, spread back to every row.

    Meter exports repeat values a lot (categories, rounded readings), so text work on the
    distinct values is many times cheaper than on every row.
    """
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    result = function(pd.Series(uniques, dtype=object))
    if isinstance(result, pd.DataFrame):
        return result.iloc[codes].set_axis(column.index)
    return pd.Series(np.asarray(result)[codes], index=column.index)


def _count(counts: dict[str, dict[str, int]], kind: str, column: str, mask) -> None:
    n = int(np.count_nonzero(mask))
    if n:
        counts.setdefault(kind, {})[column] = n


def parse_timestamps(text: pd.Series, source_map: SourceMap) -> tuple[pd.Series, pd.Series]:
    """(time as written, interval end in plant time) of each row; NaT where the text does not parse.

    Text must already be stripped. The midnight quirk (a 00:00 dated by the day it closes) is
    undone when the map says the export has it; the export's clock is converted to plant time.
    """
    dated = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    for fmt in source_map.date_formats:
        todo = dated.isna()
        if not todo.any():
            break
        dated[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    timestamp = dated
    if source_map.midnight == "previous_day":
        is_midnight = dated.notna() & (dated == dated.dt.normalize())
        timestamp = dated.where(~is_midnight, dated + pd.Timedelta(days=1))
    if source_map.timezone != schema.PLANT_TIMEZONE:
        local = timestamp.dt.tz_localize(source_map.timezone, ambiguous="NaT", nonexistent="NaT")
        timestamp = local.dt.tz_convert(schema.PLANT_TIMEZONE).dt.tz_localize(None).astype("datetime64[ns]")
    return dated, timestamp


def source_map_of(raw: pd.DataFrame) -> SourceMap:
    """The source map the raw rows were read with (it travels in their attrs); the UCI map if none."""
    stored = raw.attrs.get(SOURCE_MAP)
    return SourceMap.from_dict(stored) if stored else UCI


def interval_months(raw: pd.DataFrame) -> list[str]:
    """The months the parsable timestamps of raw rows fall in, without validating anything else."""
    _, timestamp = parse_timestamps(raw[schema.TIMESTAMP].str.strip(), source_map_of(raw))
    return sorted(month_of(timestamp.dropna()).unique())


def _parse_numbers(text: pd.Series, decimal: str, integer: bool) -> pd.DataFrame:
    """(value or NaN, decimals written, integral float written for an integer) of each distinct text."""
    if decimal == ",":
        # With decimal commas a '.' is no decimal point (a thousands separator, or another export).
        text = text.str.replace(",", ".", regex=False).where(~text.str.contains(".", regex=False), "not a number")
    number = pd.to_numeric(text, errors="coerce")
    point = text.str.find(".")
    # Decimals written; an integer counts its trailing zeros as negative decimals (3170 Wh: -1),
    # and a value without significant digits tells nothing (NaN, left out of the quantile).
    whole = text.str.lstrip("+-")
    zeros = whole.str.len() - whole.str.rstrip("0").str.len()
    decimals = np.where(point >= 0, text.str.len() - point - 1, np.where(whole.str.strip("0") == "", np.nan, -zeros))
    integral = text.str.fullmatch(r"[+-]?\d+\.0*").to_numpy(dtype=bool) if integer else np.zeros(len(text), dtype=bool)
    return pd.DataFrame({"number": number.to_numpy(dtype=float), "decimals": decimals, "integral": integral})


def _power_factor(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """pf = P / sqrt(P^2 + Q^2) in %, NaN where P = Q = 0 (undefined)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return 100.0 * p / np.hypot(p, q)


def _fmt(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1 else f"{value:.2f}"


def validate(raw: pd.DataFrame, source_map: SourceMap | None = None) -> ValidatedReadings:
    """Split raw string rows (from `reader.read_raw`) into clean readings and rejected rows."""
    source_map = source_map or source_map_of(raw)
    attrs = dict(raw.attrs)
    raw = raw.reset_index(drop=True)
    reasons = pd.Series("", index=raw.index, dtype=object)
    normalized: dict[str, dict[str, int]] = {}
    texts: dict[str, pd.Series] = {}
    for name in RAW_VALUE_COLUMNS:
        codes, uniques = pd.factorize(raw[name], use_na_sentinel=False)
        stripped = pd.Series(uniques, dtype=object).str.strip()
        _count(normalized, WHITESPACE, name, (stripped != uniques).to_numpy()[codes])
        texts[name] = pd.Series(stripped.to_numpy()[codes], index=raw.index)

    # Timestamps
    dated, timestamp = parse_timestamps(texts[schema.TIMESTAMP], source_map)
    written = raw[schema.TIMESTAMP]
    _add_reason(reasons, dated.isna(), "unparsable timestamp: '", written, "'")
    _add_reason(
        reasons,
        dated.notna() & timestamp.isna(),
        f"unparsable timestamp: no such local time in {source_map.timezone}: '",
        written,
        "'",
    )

    # Numbers, in the export's units and decimal separator, converted to canonical units
    values: dict[str, pd.Series] = {}
    tolerances: dict[str, float] = {}
    for name, spec in schema.NUMERIC.items():
        scale = source_map.scale(name)
        integer = name in schema.INTEGER_COLUMNS
        parsed = _per_value(texts[name], lambda u, integer=integer: _parse_numbers(u, source_map.decimal, integer))
        number = parsed["number"] * scale
        decimals = parsed["decimals"].dropna().to_numpy()
        if name in schema.INTEGER_COLUMNS:
            _count(normalized, INTEGRAL_FLOAT, name, parsed["integral"].to_numpy())
        tolerances[name] = 0.5 * 10.0 ** (-int(np.quantile(decimals, 0.99))) * scale if len(decimals) else 0.5 * scale
        empty = (texts[name] == "").to_numpy()
        _add_reason(reasons, empty, f"missing value: '{name}'")
        _add_reason(reasons, ~empty & number.isna().to_numpy(), f"unparsable value: '{name}'='", raw[name], "'")
        finite = np.isfinite(number)
        _add_reason(reasons, number.notna() & ~finite, f"not finite: '{name}'='", texts[name], "'")
        outside = finite & ((number < spec.minimum) | (number > spec.maximum))
        _add_reason(
            reasons,
            outside,
            f"out of range: '{name}'=",
            texts[name],
            f" outside [{spec.minimum:g}, {spec.maximum:g}]"
            + ("" if scale == 1 else f" {spec.unit} (the export writes {source_map.units[name]})"),
        )
        values[name] = number.where(finite & ~outside)

    nsm = values["nsm"]
    off_grid = nsm.notna() & ((nsm % schema.NSM_STEP_SECONDS != 0) | (nsm != nsm.round()))
    _add_reason(reasons, off_grid, f"inconsistent nsm: not on the {schema.NSM_STEP_SECONDS} s grid")

    # Categories: letter case is formatting; anything else outside the domain is rejected
    for name, allowed in schema.CATEGORIES.items():
        text = texts[name]
        by_lower = {c.lower(): c for c in allowed}
        folded = _per_value(text, lambda u, by_lower=by_lower: u.str.lower().map(by_lower))
        case_only = folded.notna() & (folded != text)
        _count(normalized, LETTER_CASE, name, case_only.to_numpy())
        _add_reason(reasons, folded.isna(), f"unknown category: '{name}'='", text, f"' (allowed: {list(allowed)})")
        values[name] = folded

    # Calendar consistency, in plant time: nsm is the interval end's time of day (0 at midnight),
    # day_of_week and week_status name the day the interval belongs to.
    seconds = (timestamp - timestamp.dt.normalize()).dt.total_seconds()
    nsm_mismatch = timestamp.notna() & nsm.notna() & ~off_grid & (seconds != nsm)
    _add_reason(
        reasons,
        nsm_mismatch,
        "inconsistent nsm: nsm=",
        texts["nsm"],
        " but the time of day is ",
        seconds.astype("Int64"),
        " s",
    )
    calendar = schema.calendar_columns(timestamp.fillna(pd.Timestamp("2000-01-01"))).set_index(raw.index)
    for name in ("day_of_week", "week_status"):
        mismatch = timestamp.notna() & values[name].notna() & (calendar[name] != values[name])
        _add_reason(
            reasons,
            mismatch,
            f"inconsistent day: {name}='",
            values[name],
            "' but the interval falls on a ",
            calendar["day_of_week"],
        )

    _physical_consistency(values, tolerances, reasons)

    # Exact duplicates: every value equal once formatting is normalized. They carry nothing new.
    # The key holds parsed values; a row with an unreadable cell adds its normalized text.
    key = pd.DataFrame({schema.TIMESTAMP: timestamp.to_numpy().view("int64")})
    unread = timestamp.isna().to_numpy()
    for name in (*schema.NUMERIC, *schema.CATEGORIES):
        column = values[name]
        key[name] = column.to_numpy() if name in schema.NUMERIC else pd.factorize(column)[0]
        unread |= column.isna().to_numpy()
    key["text"] = -1
    if unread.any():
        joined = pd.DataFrame({n: texts[n][unread] for n in RAW_VALUE_COLUMNS}).agg("\x1f".join, axis=1)
        key.loc[unread, "text"] = pd.factorize(joined)[0]
    duplicate = key.duplicated(keep="first").to_numpy()
    keep = ~duplicate

    _resolve_clashes(raw, timestamp, keep, reasons)

    is_clean = keep & (reasons == "").to_numpy()
    clean = pd.DataFrame({schema.TIMESTAMP: timestamp[is_clean].astype("datetime64[ns]")})
    for name in schema.NUMERIC:
        column = values[name][is_clean]
        clean[name] = column.astype("int64") if name in schema.INTEGER_COLUMNS else column.astype("float64")
    for name in schema.CATEGORIES:
        clean[name] = values[name][is_clean].astype(object)
    clean = clean.sort_values(schema.TIMESTAMP).reset_index(drop=True)

    is_rejected = keep & ~is_clean
    rejected = raw[is_rejected].copy()
    rejected["parsed_timestamp"] = timestamp[is_rejected].astype("datetime64[ns]")
    rejected[REASON] = reasons[is_rejected]
    rejected = rejected[list(REJECTED_COLUMNS)].reset_index(drop=True)
    lineage = {DATA_VERSION: attrs[DATA_VERSION]} if DATA_VERSION in attrs else {}
    clean.attrs = dict(lineage)
    rejected.attrs = dict(lineage)
    return ValidatedReadings(
        clean=clean,
        rejected=rejected,
        exact_duplicates=int(duplicate.sum()),
        raw_rows=len(raw),
        normalized=normalized,
        tolerances=tolerances,
    )


def _physical_consistency(values: dict[str, pd.Series], tolerances: dict[str, float], reasons: pd.Series) -> None:
    """Reject readings whose power triangle or CO2 figure contradicts their usage beyond rounding.

    Interval arithmetic: each written value stands for every value that rounds to it (plus or minus
    half a unit of its last decimal), so a reading is inconsistent only when no such values satisfy
    the relation. pf rises with P and falls with Q, so its extremes lie at the corners of that box.
    """
    p = values["usage_kwh"].to_numpy(dtype=float)
    hp = tolerances["usage_kwh"]
    for q_name, pf_name in TRIANGLE_SIDES:
        q = values[q_name].to_numpy(dtype=float)
        pf = values[pf_name].to_numpy(dtype=float)
        hq, hpf = tolerances[q_name], tolerances[pf_name]
        low = np.nan_to_num(_power_factor(np.clip(p - hp, 0, None), q + hq), nan=0.0)
        high = np.nan_to_num(_power_factor(p + hp, np.clip(q - hq, 0, None)), nan=100.0)
        with np.errstate(invalid="ignore"):
            bad = (pf < low - hpf - EPSILON) | (pf > high + hpf + EPSILON)
        bad &= ~np.isnan(p) & ~np.isnan(q) & ~np.isnan(pf)
        if bad.any():
            implied = _power_factor(p[bad], q[bad])
            messages = [
                (
                    f"inconsistent power triangle: {pf_name}={_fmt(f)} but usage_kwh={_fmt(pp)} and "
                    f"{q_name}={_fmt(qq)} imply "
                )
                + (f"{pf_name}={i:.2f}" if np.isfinite(i) else "no defined power factor")
                + (f" (or usage_kwh={qq * f / np.sqrt(1e4 - f * f):.2f})" if 0 < f < 100 and qq > 0 else "")
                for f, pp, qq, i in zip(pf[bad], p[bad], q[bad], implied, strict=True)
            ]
            _add_reason(reasons, bad, pd.Series(messages, index=reasons.index[bad]).reindex(reasons.index))

    co2 = values["co2_tco2"].to_numpy(dtype=float)
    hc = tolerances["co2_tco2"]
    f_low, f_high = schema.EMISSION_FACTOR_KG_PER_KWH
    low = np.clip(p - hp, 0, None) * f_low / 1000
    high = (p + hp) * f_high / 1000
    with np.errstate(invalid="ignore"):
        bad = ((co2 + hc + EPSILON < low) | (co2 - hc - EPSILON > high)) & ~np.isnan(p) & ~np.isnan(co2)
    if bad.any():
        factor = sum(schema.EMISSION_FACTOR_KG_PER_KWH) / 2
        messages = [
            (
                f"inconsistent co2: co2_tco2={c:g} but usage_kwh={_fmt(pp)} at {factor:.4f} kg/kWh implies "
                f"co2_tco2={pp * factor / 1000:.3f}"
            )
            + (f" (or usage_kwh={c * 1000 / factor:.2f})" if c > 0 else "")
            for c, pp in zip(co2[bad], p[bad], strict=True)
        ]
        _add_reason(reasons, bad, pd.Series(messages, index=reasons.index[bad]).reindex(reasons.index))


def _resolve_clashes(raw: pd.DataFrame, timestamp: pd.Series, keep: np.ndarray, reasons: pd.Series) -> None:
    """The same interval twice with different values: keep a copy only if it is the one consistent copy.

    A copy is consistent when no rule rejects it on its own (the physical consistency rules are
    the ones that usually tell a corrupted copy from the meter's reading). Every other copy is
    rejected, and its reason says which rule decided; with no or several consistent copies, every
    copy is rejected.
    """
    clash = keep & timestamp.notna().to_numpy() & timestamp.where(keep).duplicated(keep=False).to_numpy()
    if not clash.any():
        return
    rows = pd.DataFrame(
        {
            "ts": timestamp[clash],
            "ok": (reasons[clash] == ""),
            "where": raw[SOURCE_FILE][clash] + " line " + raw[SOURCE_LINE][clash].astype(str),
        }
    )
    consistent = rows.groupby("ts")["ok"].transform("sum")
    copies = rows.groupby("ts")["ok"].transform("size")
    winner = rows[rows["ok"] & (consistent == 1)].set_index("ts")["where"]
    messages = []
    for index, ts, ok, n_ok, n in zip(rows.index, rows["ts"], rows["ok"], consistent, copies, strict=True):
        if n_ok == 1 and not ok:
            own = reasons[index]
            rule = "physical consistency" if any(kind in own for kind in PHYSICAL_KINDS) else "validity"
            messages.append(
                f"duplicate timestamp with different values: {ts}, decided by {rule}: the consistent copy "
                f"({winner[ts]}) is kept"
            )
        elif n_ok != 1:
            messages.append(
                f"duplicate timestamp with different values: {ts}, {n} copies and {int(n_ok)} consistent, so "
                "no rule decides and every copy is rejected"
            )
        else:
            messages.append("")
    message = pd.Series(messages, index=rows.index)
    _add_reason(reasons, reasons.index.isin(rows.index[message != ""]), message.reindex(reasons.index))


def month_of(timestamps: pd.Series) -> pd.Series:
    """The monthly partition key ('2018-01') of each interval: the month its interval starts in."""
    return schema.interval_day(timestamps).dt.strftime("%Y-%m")
