#!/usr/bin/env python3
"""Generates the unit catalogs from the `vietnamadminunits` package (1.0.4, MIT), so that the next
reorganisation is a re-run, not a rewrite.

    python3 scripts/units/generate.py           # writes the files below
    python3 scripts/units/generate.py --check   # exits 1 when a committed file differs from a fresh run

It reads the wheel committed in fixtures/catalog/sources/ (dataset.db: 10,040 communes in 696 districts
of 63 provinces before 01/07/2025 and 3,321 communes of 34 provinces after; converter_2025.json: which
old commune went into which new one), plus the departments listed by hand beside it, and writes

    fixtures/catalog/units.csv    today's Quảng Ngãi (51) and everything it was made of: old Quảng Ngãi
                                  and Kon Tum (62) with their districts and communes, the departments
    fixtures/national/units.csv   the whole country, under the Ministry's root `VN`

Each unit has `valid_from`/`valid_to`; before 01/07/2025 the tree is province → district → commune,
after it province → commune. A unit that ends names its successors with shares: an old commune that
went whole into a new one, 1; a commune divided among several (441 in the country, one in Quảng Ngãi
and Kon Tum: Trà Bùi), each part's share of the new communes' areas — an approximation that a
province can override by editing the row; a district, its province's successor (its own returns
belong to the province, its communes have theirs); an old province, the new one. Codes are reused (95
of today's 96 Quảng Ngãi codes were older units' codes): a code names a unit at a date.
Only the standard library is used.
"""
import csv
import io
import json
import sqlite3
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ROOT / "fixtures/catalog/sources"
WHEEL = SOURCES / "vietnamadminunits-1.0.4-py3-none-any.whl"
REFORM_LAST = "2025-06-30"
REFORM_FIRST = "2025-07-01"
HEADER = ["code", "name", "kind", "parent", "area", "valid_from", "valid_to", "successors", "lat", "lon", "area_km2"]
NATION = {"code": "VN", "name": "Việt Nam", "kind": "nation"}


def load():
    with zipfile.ZipFile(WHEEL) as wheel, tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "dataset.db"
        db.write_bytes(wheel.read("vietnamadminunits/data/dataset.db"))
        converter = json.loads(wheel.read("vietnamadminunits/data/converter_2025.json"))
        con = sqlite3.connect(db)
        con.row_factory = sqlite3.Row
        legacy = [dict(r) for r in con.execute("SELECT * FROM admin_units_legacy ORDER BY provinceCode, districtCode, wardCode")]
        new = [dict(r) for r in con.execute("SELECT * FROM admin_units ORDER BY provinceCode, wardCode")]
        con.close()
    return legacy, new, converter


def coord(x):
    return "" if x is None else f"{x:.5f}"


def ward_kind(ward_type, name):
    # The name's own prefix wins where the type column contradicts it (a few rows do).
    for prefix, kind in (("Phường ", "ward"), ("Thị trấn ", "ward"), ("Thị Trấn ", "ward"), ("Đặc khu ", "special_zone"), ("Xã ", "commune")):
        if name.startswith(prefix):
            return kind
    return {"Phường": "ward", "Thị trấn": "ward", "Đặc khu": "special_zone"}.get(ward_type, "commune")


def build(legacy, new, converter, provinces_new=None):
    """Rows for the new provinces in `provinces_new` (codes; None: all) and everything before them."""
    new_by_key = {(r["provinceKey"], r["wardKey"]): r for r in new}
    new_province_code = {r["provinceKey"]: r["provinceCode"] for r in new}
    old_to_new_province = {old: new_key for new_key, olds in converter["DICT_PROVINCE"].items() for old in olds}
    # Old commune key → [(new code, share)].
    successors = {}
    for prov_key, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_ward, olds in wards.items():
            code = new_by_key[(prov_key, new_ward)]["wardCode"]
            for old in olds:
                successors[old] = [(code, 1.0)]
    for prov_key, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old, targets in olds.items():
            areas = [(new_by_key[(prov_key, t["newWardKey"])]["wardCode"], t["newWardAreaKm2"] or 0.0) for t in targets]
            total = sum(a for _, a in areas) or float(len(areas))
            shares = [(c, (a / total) if total else 1.0 / len(areas)) for c, a in areas]
            successors[old] = shares
    keep = lambda new_code: provinces_new is None or new_code in provinces_new
    rows = [dict(NATION)]
    # Old provinces, their districts and communes: valid until the reform.
    seen_province, seen_district = set(), set()
    for r in legacy:
        new_key = old_to_new_province[r["provinceKey"]]
        new_code = new_province_code[new_key]
        if not keep(new_code):
            continue
        if r["provinceCode"] not in seen_province:
            seen_province.add(r["provinceCode"])
            rows.append({"code": r["provinceCode"], "name": r["province"], "kind": "province", "parent": "VN",
                         "valid_to": REFORM_LAST, "successors": f"{new_code}:1",
                         "lat": coord(r["provinceLat"]), "lon": coord(r["provinceLon"])})
        key = f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey'] or ''}"
        if r["districtCode"] not in seen_district:
            seen_district.add(r["districtCode"])
            # An island district without communes became a special zone; any other district's own
            # returns belong to its province's successor.
            after = successors[key] if r["wardCode"] is None else [(new_code, 1.0)]
            rows.append({"code": r["districtCode"], "name": r["district"], "kind": "district", "parent": r["provinceCode"],
                         "valid_to": REFORM_LAST, "successors": shares_text(after),
                         "lat": coord(r["districtLat"]), "lon": coord(r["districtLon"])})
        if r["wardCode"] is None:
            continue
        rows.append({"code": r["wardCode"], "name": r["ward"], "kind": ward_kind(r["wardType"], r["ward"]),
                     "parent": r["districtCode"], "valid_to": REFORM_LAST, "successors": shares_text(successors[key]),
                     "lat": coord(r["wardLat"]), "lon": coord(r["wardLon"])})
    # The new provinces and their communes: from the reform on.
    seen_province = set()
    for r in new:
        if not keep(r["provinceCode"]):
            continue
        if r["provinceCode"] not in seen_province:
            seen_province.add(r["provinceCode"])
            rows.append({"code": r["provinceCode"], "name": r["province"], "kind": "province", "parent": "VN",
                         "valid_from": REFORM_FIRST, "lat": coord(r["provinceLat"]), "lon": coord(r["provinceLon"])})
        rows.append({"code": r["wardCode"], "name": r["ward"], "kind": ward_kind(r["wardType"], r["ward"]),
                     "parent": r["provinceCode"], "valid_from": REFORM_FIRST,
                     "lat": coord(r["wardLat"]), "lon": coord(r["wardLon"]),
                     "area_km2": "" if r["wardAreaKm2"] is None else f"{r['wardAreaKm2']:g}"})
    return rows


def shares_text(shares):
    """`code:share;code:share`, shares rounded to four places, the last one making the sum exactly 1."""
    if len(shares) == 1:
        return f"{shares[0][0]}:1"
    values = [round(s, 4) for _, s in shares]
    values[-1] = round(1 - sum(values[:-1]), 4)
    return ";".join(f"{c}:{v:g}" for (c, _), v in zip(shares, values))


def departments(name):
    with open(SOURCES / name, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write(rows, path, check):
    out = io.StringIO()
    w = csv.DictWriter(out, fieldnames=HEADER, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: r.get(k, "") or "" for k in HEADER})
    text = out.getvalue()
    if check:
        have = path.read_text(encoding="utf-8") if path.exists() else ""
        if have != text:
            print(f"{path.relative_to(ROOT)} differs from a fresh run of {Path(__file__).name}", file=sys.stderr)
            return False
        return True
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"{path.relative_to(ROOT)}: {len(rows)} units")
    return True


def main():
    check = "--check" in sys.argv[1:]
    legacy, new, converter = load()
    province = build(legacy, new, converter, provinces_new={"51"}) + departments("departments.csv")
    nation = build(legacy, new, converter) + departments("departments.csv") + departments("national-departments.csv")
    ok = write(province, ROOT / "fixtures/catalog/units.csv", check)
    ok = write(nation, ROOT / "fixtures/national/units.csv", check) and ok
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
