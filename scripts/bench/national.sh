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
# shellcheck source=scripts/bench/serve.sh
source scripts/bench/serve.sh
serve_start "$bin" "$dir/store" "$units" "$dir"
echo "first request after start: $(national_get "$token") s; again (cached): $(national_get "$token") s"
fresh_after_returns "$token" "$units"

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
echo "server memory after the load: $(serve_memory)"
