#!/usr/bin/env bash
# The weight of every dashboard page and of the indicators API for a province of 3,322 units (one
# synthetic province holding every commune of the country and the bundled province's departments),
# uncompressed and as sent gzipped to a browser. Figures for #16's closing note and BENCHMARKS.md.
#
#   bash scripts/bench/page-sizes.sh [debug|release]   # default debug: sizes do not depend on the build
#
# With SHOTS=DIR, Chromium screenshots of the indicator page and the full map at 1366 and 390 px.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pbgdpl-target}"
profile="${1:-debug}"
flag=""; [ "$profile" = release ] && flag="--release"
cargo build $flag --quiet -p pbgdpl -p pbgdpl-fixtures --bin pbgdpl --bin gen-national
bin="$CARGO_TARGET_DIR/$profile"
dir=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill $server 2>/dev/null; rm -rf "$dir"' EXIT
# One province (code 99) with today's 3,321 communes, wards and special zones and 11 departments.
python3 - "$dir/units.csv" <<'PY'
import csv, sys
out = csv.writer(open(sys.argv[1], "w", newline=""))
out.writerow(["code", "name", "kind", "parent", "area", "valid_from", "valid_to", "successors", "lat", "lon", "area_km2"])
out.writerow(["99", "Tỉnh Lớn", "province", "", "", "", "", "", "", "", ""])
n = 0
for r in csv.DictReader(open("fixtures/national/units.csv")):
    if r["kind"] in ("commune", "ward", "special_zone") and not r["valid_to"]:
        out.writerow([r["code"], r["name"], r["kind"], "99", r["area"], "", "", "", r["lat"], r["lon"], r["area_km2"]])
        n += 1
for r in csv.DictReader(open("fixtures/catalog/units.csv")):
    if r["kind"] == "department" and not r["valid_to"]:
        out.writerow([r["code"], r["name"], r["kind"], "99", "", "", "", "", "", "", ""])
        n += 1
print(f"{n + 1} units", file=sys.stderr)
PY
units="$dir/units.csv"
"$bin/gen-national" "$dir/store" --periods 2026S1,2026P --units "$units"
pb() { "$bin/pbgdpl" --store "$dir/store" --units "$units" "$@"; }
token=$(pb user add do --role admin 2>/dev/null)
"$bin/pbgdpl" --store "$dir/store" --units "$units" serve --addr 127.0.0.1:18777 >"$dir/serve.log" 2>&1 &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18777/healthz && break; sleep 0.2; done
link=$(pb user link do 2>/dev/null | tail -1)
curl -s -c "$dir/cookies" -o /dev/null "http://127.0.0.1:18777$link"
printf '%-58s %12s %12s %8s\n' "page" "bytes" "gzipped" "seconds"
for path in "/?period=2026S1" "/chi-tieu/CDS-2?period=2026S1" "/chi-tieu/CDS-2?period=2026S1&show=tat-ca&page=60" \
  "/chi-tieu/CDS-2/nguon?period=2026S1&unit=99" "/nop-bao-cao?period=2026S1" "/nop-bao-cao?period=2026S1&show=chua-gui" \
  "/don-vi/26737?period=2026S1" "/chi-tieu/CDS-2/ban-do?period=2026S1" "/nop?period=2026S1" "/quan-tri/nhat-ky"; do
  # The first call computes and caches; the second is what the next leader gets.
  curl -s -b "$dir/cookies" -o /dev/null "http://127.0.0.1:18777$path"
  raw=$(curl -s -b "$dir/cookies" -o /dev/null -w '%{size_download}' "http://127.0.0.1:18777$path")
  read -r gz secs < <(curl -s -b "$dir/cookies" -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download} %{time_total}\n' "http://127.0.0.1:18777$path")
  printf '%-58s %12s %12s %8s\n' "$path" "$raw" "$gz" "$secs"
done
for path in "/api/v1/indicators?period=2026S1" "/api/v1/indicators?period=2026S1&indicator=CDS-2&fields=unit,value,status" \
  "/api/v1/indicators?period=2026S1&limit=100&offset=0"; do
  curl -s -H "Authorization: Bearer $token" -o /dev/null "http://127.0.0.1:18777$path"
  raw=$(curl -s -H "Authorization: Bearer $token" -o /dev/null -w '%{size_download}' "http://127.0.0.1:18777$path")
  read -r gz secs < <(curl -s -H "Authorization: Bearer $token" -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download} %{time_total}\n' "http://127.0.0.1:18777$path")
  printf '%-58s %12s %12s %8s\n' "$path" "$raw" "$gz" "$secs"
done
if [ -n "${SHOTS:-}" ]; then
  mkdir -p "$SHOTS"
  for page in "chi-tieu /chi-tieu/CDS-2?period=2026S1" "ban-do /chi-tieu/CDS-2/ban-do?period=2026S1"; do
    name=${page%% *}; path=${page#* }
    for w in 1366 390; do
      next=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$path")
      chromium --headless --no-sandbox --disable-gpu --no-first-run --hide-scrollbars --user-data-dir="$dir/chrome-$name-$w" \
        --window-size=$w,2400 --screenshot="$SHOTS/3322-$name-$w.png" "http://127.0.0.1:18777$(pb user link do 2>/dev/null | tail -1)?next=$next" 2>/dev/null
    done
  done
  ls -la "$SHOTS"/3322-*
fi
