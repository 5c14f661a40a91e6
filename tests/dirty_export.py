"""A seeded generator of realistic dirty exports of the bundled UCI file, with the truth kept beside it.

It takes the genuine export and applies what real plant exports do, at realistic rates:
- formatting only (a value is unchanged): stray spaces, letter-case noise in categories
  (`wEEKDAY`, `lIGHT_lOAD`), `900.0` written for the integer nsm, a BOM, CRLF line ends, and an
  extra column the platform does not know;
- value faults: blank cells, unparsable text, out-of-range values, in-range gross outliers (a
  usage or reactive energy off by a digit or a factor, a power factor or CO2 figure that is not
  the meter's), and copies of an interval with different values (duplicate timestamps);
- exact duplicate rows (an interval exported twice) and scattered missing intervals.

`truth` has one row per data line written: where it came from in the genuine file, the interval it
stands for, and every fault applied. `score` measures a validation of the export against it.

    python -m tests.dirty_export OUT_DIR [--seed 7]   # writes OUT_DIR/dirty_export.csv, truth.parquet, dropped.json
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

BUNDLED_CSV = Path(__file__).resolve().parent.parent / "data" / "uci" / "steel_industry_energy.csv"

# Share of rows given each fault. Formatting faults can stack on a row; a row gets at most one
# value fault. Missing intervals come in runs (1-12 intervals), started at `missing_run_start`.
RATES = {
    "whitespace": 0.02,
    "letter_case": 0.02,
    "integral_float": 0.01,
    "missing_value": 0.002,
    "unparsable": 0.001,
    "out_of_range": 0.001,
    "gross_outlier": 0.004,
    "clash_copy": 0.001,
    "exact_duplicate": 0.002,
    "missing_run_start": 0.001,
}
FORMATTING = ("whitespace", "letter_case", "integral_float")
VALUE_FAULTS = ("missing_value", "unparsable", "out_of_range", "gross_outlier")
EXTRA_COLUMN = "mixed_type_col"

# Column positions in the UCI export.
DATE, USAGE, LAG_Q, LEAD_Q, CO2, LAG_PF, LEAD_PF, NSM, WEEK, DAY, LOAD = range(11)
NUMERIC = (USAGE, LAG_Q, LEAD_Q, CO2, LAG_PF, LEAD_PF, NSM)
CATEGORY = (WEEK, DAY, LOAD)
CANONICAL = (
    "timestamp",
    "usage_kwh",
    "lagging_reactive_power_kvarh",
    "leading_reactive_power_kvarh",
    "co2_tco2",
    "lagging_power_factor",
    "leading_power_factor",
    "nsm",
    "week_status",
    "day_of_week",
    "load_type",
)


@dataclass
class DirtyExport:
    path: Path
    truth: pd.DataFrame  # line, source_index, timestamp, role, formatting, value_fault, column
    dropped: list[int]  # source indices of the intervals left out


def _fmt(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def _gross(row: list[str], rng: np.random.Generator) -> int:
    """Corrupt one numeric value grossly but inside its declared range; return the column changed."""
    usage, lag_q, lead_q = float(row[USAGE]), float(row[LAG_Q]), float(row[LEAD_Q])
    choice = rng.choice(["usage", "reactive", "power_factor", "co2"])
    if choice == "usage":
        row[USAGE] = _fmt(min(usage * rng.uniform(3, 10), 480.0) if usage > 5 else rng.uniform(30, 120))
        return USAGE
    if choice == "reactive":
        column = LAG_Q if lag_q > 0 or lead_q == 0 else LEAD_Q
        value = float(row[column])
        if 0 < value < 50:
            row[column] = f"{rng.integers(1, 4)}{row[column]}"  # a digit too many
        else:
            row[column] = _fmt(min(value * rng.uniform(2, 4), 490.0) if value >= 50 else rng.uniform(60, 400))
        return column
    if choice == "power_factor":
        column = LAG_PF if rng.random() < 0.5 else LEAD_PF
        value = float(row[column])
        row[column] = (
            _fmt(rng.uniform(40, 90))
            if value > 95
            else _fmt(min(value + rng.uniform(10, 40), 99.0) if value < 60 else value - rng.uniform(10, 40))
        )
        return column
    row[CO2] = _fmt(round(float(row[CO2]) + rng.choice([0.02, 0.03, 0.05, 0.1]), 2))
    return CO2


def _value_fault(kind: str, row: list[str], rng: np.random.Generator) -> int:
    if kind == "gross_outlier":
        return _gross(row, rng)
    column = int(rng.choice(NUMERIC + CATEGORY if kind == "missing_value" else NUMERIC))
    if kind == "missing_value":
        row[column] = ""
    elif kind == "unparsable":
        row[column] = str(rng.choice(["n/a", "#VALUE!", "12,5x", "--", "NaN"]))
    else:  # out of range
        row[column] = str(rng.choice(["-1", "-0.5", "130" if column in (LAG_PF, LEAD_PF) else "9999"]))
    return column


def _formatting(kind: str, row: list[str], rng: np.random.Generator) -> None:
    if kind == "whitespace":
        column = int(rng.integers(0, 11))
        row[column] = str(rng.choice([" ", "  ", "\t"])) + row[column] + str(rng.choice(["", " "]))
    elif kind == "letter_case":
        column = int(rng.choice(CATEGORY))
        text = row[column]
        noisy = "".join(c.swapcase() if rng.random() < 0.5 else c for c in text)
        row[column] = noisy if noisy != text else text.swapcase()
    elif row[NSM].strip().isdigit():
        row[NSM] = row[NSM].replace(row[NSM].strip(), row[NSM].strip() + ".0")


def interval_ends(dates: pd.Series) -> pd.Series:
    """The UCI text dates as interval ends (the 00:00 row closes the day it is dated)."""
    dated = pd.to_datetime(dates, format="%d/%m/%Y %H:%M")
    return dated.where(dated != dated.dt.normalize(), dated + pd.Timedelta(days=1))


def generate(
    out_dir: Path, seed: int = 7, rates: dict[str, float] | None = None, source: Path = BUNDLED_CSV
) -> DirtyExport:
    rates = {**RATES, **(rates or {})}
    rng = np.random.default_rng(seed)
    reader = csv.reader(io.StringIO(source.read_text(encoding="utf-8-sig")))
    header = next(reader)
    rows = list(reader)
    n = len(rows)
    ends = interval_ends(pd.Series([r[DATE] for r in rows]))

    dropped: set[int] = set()
    for start in np.flatnonzero(rng.random(n) < rates["missing_run_start"]):
        dropped.update(range(start, min(start + int(rng.integers(1, 13)), n)))

    out_rows: list[list[str]] = []
    truth: list[dict] = []

    def emit(row: list[str], index: int, role: str, formatting: list[str], fault: str, column: int | None) -> None:
        extra = str(rng.choice(["", "x", "1", "2.5", "ok", "-"]))
        out_rows.append([*row[:2], extra, *row[2:]])
        truth.append(
            {
                "line": len(out_rows) + 1,
                "source_index": index,
                "timestamp": ends[index],
                "role": role,
                "formatting": ",".join(formatting),
                "value_fault": fault,
                "column": CANONICAL[column] if column is not None else "",
            }
        )

    for index, original in enumerate(rows):
        if index in dropped:
            continue
        row = list(original)
        formatting = [k for k in FORMATTING if rng.random() < rates[k]]
        draw = rng.random()
        fault, column, edge = "", None, 0.0
        for kind in VALUE_FAULTS:
            edge += rates[kind]
            if draw < edge:
                fault, column = kind, _value_fault(kind, row, rng)
                break
        for kind in formatting:
            _formatting(kind, row, rng)
        emit(row, index, "row", formatting, fault, column)
        if not fault and rng.random() < rates["clash_copy"]:
            copy = list(original)
            emit(copy, index, "clash_copy", [], "gross_outlier", _gross(copy, rng))
        elif rng.random() < rates["exact_duplicate"]:
            emit(list(row), index, "exact_duplicate", formatting, fault, column)

    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "dirty_export.csv"
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n")
    writer.writerow([*header[:2], EXTRA_COLUMN, *header[2:]])
    writer.writerows(out_rows)
    path.write_bytes(b"\xef\xbb\xbf" + text.getvalue().encode())
    frame = pd.DataFrame(truth)
    frame.to_parquet(out_dir / "truth.parquet", index=False)
    (out_dir / "dropped.json").write_text(json.dumps([int(i) for i in sorted(dropped)]))
    return DirtyExport(path=path, truth=frame, dropped=sorted(dropped))


def score(
    export: DirtyExport,
    clean: pd.DataFrame,
    rejected: pd.DataFrame,
    counts: dict[str, int],
    genuine_clean: pd.DataFrame,
) -> dict:
    """The goals measured on one validation of the export (clean and rejected rows, counts)."""
    truth = export.truth
    genuine = genuine_clean.set_index("timestamp")
    kept = clean.set_index("timestamp")
    common = kept.index.intersection(genuine.index)
    columns = [c for c in CANONICAL if c != "timestamp"]
    differs = ~(
        kept.loc[common, columns].reset_index(drop=True) == genuine.loc[common, columns].reset_index(drop=True)
    ).all(axis=1)
    not_genuine = len(kept.index.difference(genuine.index))
    formatting_only = truth[(truth["role"] == "row") & (truth["formatting"] != "") & (truth["value_fault"] == "")]
    formatting_only = formatting_only[
        formatting_only["timestamp"].isin(genuine.index)
    ]  # the genuine file's own rejects aside
    rejected_lines = set(rejected["source_line"])
    return {
        "raw_rows": counts["raw_rows"],
        "data_lines": len(truth),
        "counts_add_up": counts["clean_rows"] + counts["rejected_rows"] + counts["exact_duplicates_dropped"]
        == counts["raw_rows"]
        == len(truth),
        "corrupted_kept_as_clean": int(differs.sum()) + not_genuine,
        "value_faults": int((truth["value_fault"] != "").sum()),
        "value_faults_rejected": int(truth.loc[truth["value_fault"] != "", "line"].isin(rejected_lines).sum()),
        "formatting_only_rows": len(formatting_only),
        "formatting_only_clean": int(formatting_only["timestamp"].isin(kept.index).sum()),
        "formatting_only_clean_share": float(formatting_only["timestamp"].isin(kept.index).mean())
        if len(formatting_only)
        else 1.0,
        "missing_intervals": len(export.dropped),
        "exact_duplicates_written": int((truth["role"] == "exact_duplicate").sum()),
        "clash_copies_written": int((truth["role"] == "clash_copy").sum()),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    export = generate(args.out_dir, args.seed)
    print(
        f"{export.path}: {len(export.truth)} data lines, {len(export.dropped)} intervals left out; truth in "
        f"{args.out_dir / 'truth.parquet'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
