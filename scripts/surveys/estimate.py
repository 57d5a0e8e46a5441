#!/usr/bin/env python3
"""An independent computation of pbgdpl's survey estimates, with numpy, for the cross-check test.

Reads a survey export (CSV), the population of each commune (form 01 row 01: total, urban, rural)
and the unit tree (ancestor, commune pairs), and prints for every ancestor the weighted share of
respondents whose answer counts and its standard error: the ratio (Hajek) estimator, weights
post-stratified to the population by area (else by total, else 1), variance by Taylor
linearisation with communes as primary sampling units (respondents when the unit is one commune).

    estimate.py SURVEY.csv POPULATION.csv TREE.csv --unit-column "Mã xã/phường" \
        --area-column "Khu vực sinh sống" --question "Mức độ hài lòng (1-5)" --counts 4,5
"""
import argparse
import csv
import json
import sys

import numpy as np

AREAS = {"thành thị": "urban", "nông thôn": "rural"}


def read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.reader(f))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("survey")
    ap.add_argument("population")
    ap.add_argument("tree")
    ap.add_argument("--unit-column", required=True)
    ap.add_argument("--area-column", required=True)
    ap.add_argument("--question", required=True)
    ap.add_argument("--counts", required=True)
    a = ap.parse_args()

    rows = read_csv(a.survey)
    head, body = rows[0], [r for r in rows[1:] if any(c.strip() for c in r)]
    ui, ai, qi = head.index(a.unit_column), head.index(a.area_column), head.index(a.question)
    unit = np.array([r[ui].strip() for r in body])
    area = np.array([AREAS.get(r[ai].strip().lower(), "") for r in body])
    counts = set(a.counts.split(","))
    y = np.array([1.0 if r[qi].strip() in counts else 0.0 for r in body])

    pop = {}
    for r in read_csv(a.population)[1:]:
        pop[r[0]] = tuple(int(x) if x else None for x in r[1:4])

    w = np.ones(len(body))
    for c in np.unique(unit):
        idx = np.nonzero(unit == c)[0]
        total, urban, rural = pop.get(c, (None, None, None))
        by_area = {"urban": urban, "rural": rural}
        if all((by_area.get(area[i]) or 0) > 0 for i in idx):
            for ar in ("urban", "rural"):
                sel = idx[area[idx] == ar]
                if len(sel):
                    w[sel] = by_area[ar] / len(sel)
        elif total:
            w[idx] = total / len(idx)

    below = {}
    for r in read_csv(a.tree)[1:]:
        below.setdefault(r[0], set()).add(r[1])

    out = {}
    for anc, communes in below.items():
        m = np.isin(unit, list(communes))
        if not m.any():
            continue
        wm, ym, um = w[m], y[m], unit[m]
        W = wm.sum()
        p = (wm * ym).sum() / W
        z = wm * (ym - p) / W
        if len(np.unique(um)) == 1:
            zc = z
        else:
            _, inv = np.unique(um, return_inverse=True)
            zc = np.bincount(inv, weights=z)
        k = len(zc)
        se = float(np.sqrt(k / (k - 1) * (zc ** 2).sum())) if k > 1 else None
        out[anc] = {"p": float(p), "se": se, "n": int(m.sum())}
    json.dump(out, sys.stdout, ensure_ascii=False, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
