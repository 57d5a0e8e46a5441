#!/usr/bin/env bash
# The national figures of BENCHMARKS.md, on this machine, in one run: the release build, the country
# generated into a store (gen-national), one period's indicators for the nation and every unit —
# pbgdpl beside DuckDB on pbgdpl's own Parquet export — and freshness (an accepted return to fresh
# national figures on a running server).
#
#   bash scripts/bench/national.sh [PERIODS]     # default 2024,2025S1,2025,2026S1,2026P
#
# Needs the Python package duckdb (`pip install duckdb`; PYTHON=path/to/python picks another one).
# With PBGDPL_BENCH_POSTGRES=postgres://… (an empty database or schema) the generation and the
# indicators are measured on PostgreSQL too.
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pbgdpl-target}"
periods="${1:-2024,2025S1,2025,2026S1,2026P}"
py="${PYTHON:-python3}"
# One invocation for both binaries: the same features, so the same build.
cargo build --release --quiet -p pbgdpl -p pbgdpl-fixtures --bin pbgdpl --bin gen-national --bin bench-engine
bin="$CARGO_TARGET_DIR/release"
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT
units=fixtures/national/units.csv
pb() { "$bin/pbgdpl" --store "$dir/store" --units "$units" "$@"; }

echo "== generate: $periods"
"$bin/gen-national" "$dir/store" --periods "$periods"
du -sh "$dir/store" | sed 's/^/store size: /'

echo "== where the engine's time goes, and an accepted return: rebuilt from the store beside applied (bench-engine)"
"$bin/bench-engine" "$dir/store" --units "$units" --period 2026S1 --unit VN --runs 3

echo "== indicators of 2026S1: the nation and its 34 provinces (pbgdpl; DuckDB computes every unit), 3 runs"
for run in 1 2 3; do
  /usr/bin/time -f "pbgdpl run $run: %e s, peak RSS %M KB" "$bin/pbgdpl" --store "$dir/store" --units "$units" \
    indicators --period 2026S1 --unit VN --format json >"$dir/ind.json"
done
python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))), 'results')" "$dir/ind.json"
pb export --period 2026S1 --unit VN --format parquet -o "$dir/values.parquet"
"$py" scripts/bench/duckdb_indicators.py "$dir/values.parquet" "$units" 3

if [ -n "${PBGDPL_BENCH_POSTGRES:-}" ]; then
  echo "== the same on PostgreSQL ($PBGDPL_BENCH_POSTGRES, an empty database or schema)"
  "$bin/gen-national" "$PBGDPL_BENCH_POSTGRES" --periods "$periods"
  for run in 1 2; do
    /usr/bin/time -f "pbgdpl on PostgreSQL run $run: %e s, peak RSS %M KB" "$bin/pbgdpl" --store "$PBGDPL_BENCH_POSTGRES" \
      --units "$units" indicators --period 2026S1 --unit VN --format json >/dev/null
  done
fi

echo "== freshness: an accepted return to fresh national figures"
token=$(pb user add bench --role admin)
pb serve --addr 127.0.0.1:0 >"$dir/serve.out" 2>/dev/null &
server=$!
for _ in $(seq 100); do grep -q http "$dir/serve.out" 2>/dev/null && break; sleep 0.2; done
base=$(grep -o 'http://[0-9.:]*' "$dir/serve.out" | head -1)
get() { curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $token" "$base/api/v1/indicators?period=2026S1&unit=VN"; }
echo "first request after start: $(get) s; again (cached): $(get) s"
unit=$(awk -F, 'NR > 1 && $3 == "ward" && $7 == "" { print $1; exit }' "$units")
for reached in 1001 1002 1003; do
  body="{\"form\":\"F01\",\"unit\":\"$unit\",\"period\":\"2026S1\",\"values\":[{\"row\":\"01\",\"column\":1,\"value\":5000},{\"row\":\"02\",\"column\":1,\"value\":$reached},{\"row\":\"03\",\"column\":1,\"value\":10},{\"row\":\"04\",\"column\":1,\"value\":9}]}"
  post=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' -d "$body" "$base/api/v1/returns")
  echo "return of $unit accepted (HTTP ${post% *}) in ${post#* } s; national figures fresh after $(get) s"
done

echo "== dashboards and API at 50 clients (wrk, 2 threads, ${WRK_SECONDS:-10} s each, warmed once)"
if command -v wrk >/dev/null; then
  link=$(pb user link bench 2>/dev/null | tail -1)
  cookie=$(curl -s -o /dev/null -D - "$base$link" | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip' | head -1)
  # shellcheck source=scripts/bench/wrk.sh
  source scripts/bench/wrk.sh
  for target in "overview /?period=2026S1&unit=VN" "indicator-page /chi-tieu/CDS-1?period=2026S1&unit=VN" \
    "indicators-api /api/v1/indicators?period=2026S1&unit=VN" \
    "indicators-api-slice /api/v1/indicators?period=2026S1&unit=VN&indicator=CDS-1&fields=unit,value,status"; do
    wrk_row "${target%% *}" "$base${target#* }" "${WRK_SECONDS:-10}" "Cookie: $cookie" \
      "Authorization: Bearer $token" "Accept-Encoding: gzip"
  done
else
  echo "wrk is not installed (apt-get install wrk): skipped"
fi
