#!/usr/bin/env bash
# The country at 1×, 4× and 16× the data (BENCHMARKS.md): 2, 8 and 32 stored periods, each measured
# in one run beside DuckDB on pbgdpl's own Parquet export of the same periods —
#   - one period's indicators, a whole command-line run (starts with nothing read, reads 2026S1);
#   - every stored period read on first use and its indicators computed (bench-engine --every-period),
#     beside DuckDB computing every period for every unit;
#   - the Ministry's report of 2026 for the nation and for one province;
#   - a server: the first answer after it starts, fresh figures after an accepted return, its memory.
#
#   bash scripts/bench/scale.sh            # PYTHON=path/to/python for another one with duckdb
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pbgdpl-target}"
py="${PYTHON:-python3}"
cargo build --release --quiet -p pbgdpl -p pbgdpl-fixtures --bin pbgdpl --bin gen-national --bin bench-engine
bin="$CARGO_TARGET_DIR/release"
dir=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
# shellcheck source=scripts/bench/serve.sh
source scripts/bench/serve.sh
units=fixtures/national/units.csv
province=51 # Quảng Ngãi (Kon Tum merged into it)

every=$(for y in $(seq 2019 2030); do printf '%sS1 %sP %s ' "$y" "$y" "$y"; done)
x1="2026S1 2026P"
x4="2024S1 2024P 2024 2025S1 2025P 2025 2026S1 2026P"
x16=$(echo "$every" | tr ' ' '\n' | head -32 | tr '\n' ' ') # 2019S1 … 2029P

for size in "1× $x1" "4× $x4" "16× $x16"; do
  name=${size%% *}
  periods=${size#* }
  list=$(echo "$periods" | xargs | tr ' ' ',')
  store="$dir/store-$name"
  pb() { "$bin/pbgdpl" --store "$store" --units "$units" "$@"; }
  echo "== $name: $(echo "$periods" | wc -w) periods ($list)"
  "$bin/gen-national" "$store" --periods "$list" 2>/dev/null
  du -sh "$store" | sed 's/^/store size: /'

  for run in 1 2; do
    /usr/bin/time -f "indicators --period 2026S1 --unit VN, whole run $run: %e s, peak RSS %M KB" \
      "$bin/pbgdpl" --store "$store" --units "$units" indicators --period 2026S1 --unit VN --format json >/dev/null
  done
  "$bin/bench-engine" "$store" --units "$units" --unit VN --every-period
  mkdir -p "$dir/parquet-$name"
  for p in $periods; do
    pb export --period "$p" --unit VN --format parquet -o "$dir/parquet-$name/$p.parquet"
  done
  "$py" scripts/bench/duckdb_indicators.py "$dir/parquet-$name/*.parquet" "$units" 3 | sed 's/^/every period, every unit: /'
  rm -rf "$dir/parquet-$name"

  for unit in VN $province; do
    /usr/bin/time -f "report of 2026 for $unit (workbook and narrative): %e s, peak RSS %M KB" \
      "$bin/pbgdpl" --store "$store" --units "$units" report --period 2026 --unit "$unit" --out "$dir/report-$name-$unit" >/dev/null
    ls -l "$dir/report-$name-$unit" | awk 'NR > 1 { printf "  %s %d KB\n", $NF, $5 / 1024 }'
  done

  token=$(pb user add "bench-$RANDOM" --role admin 2>/dev/null)
  serve_start "$bin" "$store" "$units" "$dir"
  echo "server: first answer after start (2026S1): $(national_get "$token") s; again (cached): $(national_get "$token") s; another period (2026P) first: $(national_get "$token" 2026P) s"
  fresh_after_returns "$token" "$units" | sed 's/^/server: /'
  echo "server: memory after these answers: $(serve_memory)"
  kill "$server"
  wait "$server" 2>/dev/null || true
  server=
  rm -rf "$store" "$dir"/report-*
done
