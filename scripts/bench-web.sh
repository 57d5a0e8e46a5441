#!/usr/bin/env bash
# Load benchmark of the web app: the demo store, a release build, wrk on loopback with 50 connections.
# Prints p50/p99 latency and requests/s for the overview page, an indicator page and the indicators API.
# Usage: bash scripts/bench-web.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-15}"
command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -qq wrk >/dev/null; }
cargo build --release --quiet
bin=$(realpath "${CARGO_TARGET_DIR:-target}/release/pbgdpl")
work=$(mktemp -d)
server=""
trap '[ -n "$server" ] && kill "$server" 2>/dev/null; rm -rf "$work"' EXIT
(cd "$work" && "$bin" demo --no-serve >/dev/null)
store="$work/pbgdpl-demo"
token=$("$bin" --store "$store" user add bench --role viewer)
echo "mat-khau-bench" | "$bin" --store "$store" user passwd bench 2>/dev/null
"$bin" --store "$store" serve --addr 127.0.0.1:18555 >"$work/serve.log" 2>&1 &
server=$!
sleep 1
cookie=$(curl -s -o /dev/null -D - -d "name=bench&password=mat-khau-bench" http://127.0.0.1:18555/dang-nhap | sed -n 's/^set-cookie: \([^;]*\).*/\1/Ip')
# shellcheck source=scripts/bench/wrk.sh
source scripts/bench/wrk.sh
for target in "overview /?period=2026P" "indicator-page /chi-tieu/CDS-1?period=2026P" "indicators-api /api/v1/indicators?period=2026P"; do
  wrk_row "${target%% *}" "http://127.0.0.1:18555${target#* }" "$secs" "Cookie: $cookie" "Authorization: Bearer $token"
done
