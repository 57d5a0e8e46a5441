#!/usr/bin/env python3
"""The peers of pbgdpl's ingest in BENCHMARKS.md, on the same workbooks: python-calamine (the Rust
calamine behind a Python binding) reading every cell of every sheet, and Python's zipfile inflating
every entry — what reading a workbook costs before any validation or storing.

    python3 scripts/bench/calamine_read.py DIR      # every .xlsx below DIR

Needs `pip install python-calamine`. Prints files/s for each.
"""
import pathlib
import sys
import time
import zipfile


def main() -> None:
    files = sorted(pathlib.Path(sys.argv[1]).rglob("*.xlsx"))
    if not files:
        sys.exit(f"no .xlsx below {sys.argv[1]}")
    t = time.perf_counter()
    inflated = 0
    for f in files:
        with zipfile.ZipFile(f) as z:
            for name in z.namelist():
                inflated += len(z.read(name))
    s = time.perf_counter() - t
    print(f"zipfile inflating every entry: {len(files)} files in {s:.3f} s = {len(files) / s:.0f} files/s "
          f"({inflated / 1e6:.1f} MB inflated)")
    try:
        from python_calamine import CalamineWorkbook
    except ImportError:
        print("python-calamine: not installed (pip install python-calamine)")
        return
    t = time.perf_counter()
    cells = 0
    for f in files:
        wb = CalamineWorkbook.from_path(str(f))
        for name in wb.sheet_names:
            for row in wb.get_sheet_by_name(name).to_python():
                cells += len(row)
    s = time.perf_counter() - t
    print(f"python-calamine reading every sheet: {len(files)} files in {s:.3f} s = {len(files) / s:.0f} files/s "
          f"({cells} cells)")


if __name__ == "__main__":
    main()
