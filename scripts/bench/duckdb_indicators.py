#!/usr/bin/env python3
"""The peer of `pbgdpl indicators` in BENCHMARKS.md: DuckDB computing the same cell indicators — ratios
of sums of form cells over every unit's subtree, for every unit of the tree and every period in the
files — from pbgdpl's own Parquet export (`pbgdpl export --format parquet`) and the unit list.

    python3 scripts/bench/duckdb_indicators.py VALUES.parquet UNITS.csv [RUNS]

VALUES.parquet may be a glob (`dir/*.parquet`, one export per period).

Prints the time of each run (the first reads the Parquet file cold, the others warm) and the number
of (unit, indicator) results. What it leaves out of pbgdpl's work: urban/rural attribution of returns
that filled only the total, coverage, targets, history through successors, BC-* and NV-1 — so it is a
floor for the same answer, not the same answer.
"""
import csv
import sys
import time

import duckdb

# numerator, denominator (cells as FORM.ROW(COL)) of the cell indicators of fixtures/catalog/indicators.
INDICATORS = {
    "CDS-1": ("F01", "02", 2, "F01", "01", 2),
    "CDS-2": ("F01", "02", 3, "F01", "01", 3),
    "CDS-3": ("F01", "04", 1, "F01", "03", 1),
    "CDS-4": ("F01", "06", 1, "F01", "05", 1),
    "CDS-5": ("F01", "08", 1, "F01", "07", 1),
    "HD-1": ("F02", "01", 2, "F02", "01", 1),
    "HD-2": ("F02", "02", 1, "F01", "01", 1),
    "HD-3": ("F02", "07", 2, "F02", "07", 1),
}


def closure(units_csv):
    """(ancestor, unit) for every unit of the list, each unit its own ancestor too: today's units in
    today's tree, units that have ended under their parents of then (pbgdpl passes their figures to
    their successors instead; here they only keep a period's values from falling out of the join).
    A code used twice keeps today's unit."""
    parent = {}
    with open(units_csv, newline="", encoding="utf-8") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: not r.get("valid_to"))
        for row in rows:
            parent[row["code"]] = row.get("parent") or None
    out = []
    for code in parent:
        a = code
        while a is not None:
            out.append((a, code))
            a = parent.get(a)
    return out


def main():
    values, units = sys.argv[1], sys.argv[2]
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    con = duckdb.connect()
    con.execute("CREATE TABLE tree (ancestor VARCHAR, unit VARCHAR)")
    con.executemany("INSERT INTO tree VALUES (?, ?)", closure(units))
    con.execute("CREATE TABLE ind (code VARCHAR, nf VARCHAR, nr VARCHAR, nc INT, df VARCHAR, dr VARCHAR, dc INT)")
    con.executemany("INSERT INTO ind VALUES (?, ?, ?, ?, ?, ?, ?)", [(k, *v) for k, v in INDICATORS.items()])
    query = f"""
        WITH v AS (SELECT period, unit, form, row_code, col, num FROM read_parquet('{values}') WHERE num IS NOT NULL),
        sums AS (
            SELECT v.period, t.ancestor, v.form, v.row_code, v.col, SUM(v.num) AS s
            FROM v JOIN tree t ON t.unit = v.unit GROUP BY ALL)
        SELECT n.period, i.code, n.ancestor, n.s / NULLIF(d.s, 0) * 100 AS value
        FROM ind i
        JOIN sums n ON n.form = i.nf AND n.row_code = i.nr AND n.col = i.nc
        JOIN sums d ON d.period = n.period AND d.ancestor = n.ancestor
                   AND d.form = i.df AND d.row_code = i.dr AND d.col = i.dc
    """
    for run in range(runs):
        t = time.perf_counter()
        rows = con.execute(query).fetchall()
        print(f"duckdb run {run + 1}: {time.perf_counter() - t:.3f} s, {len(rows)} results")


if __name__ == "__main__":
    main()
