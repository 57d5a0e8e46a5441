#!/usr/bin/env bash
# The test command of the README (and of CI): lints, then every test of the workspace on a debug build.
# Installs the system packages the tests need when they are missing (Debian).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/pbgdpl-target}"

need=()
for pkg in $(cat scripts/test-packages.txt 2>/dev/null | grep -v '^#' || true); do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  echo "installing test packages: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# axe-core checks every page for accessibility in tests/it/dashboards.rs: npm (Debian's `npm`, unless
# node came with its own) installs a pinned version into a cache outside the clone.
if ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm
fi
axe_dir="$HOME/.cache/pbgdpl-npm"
export PBGDPL_AXE="$axe_dir/node_modules/axe-core/axe.min.js"
if [ ! -f "$PBGDPL_AXE" ] || ! grep -q '"version": "4.10.3"' "$axe_dir/node_modules/axe-core/package.json"; then
  mkdir -p "$axe_dir"
  npm install --prefix "$axe_dir" --no-audit --no-fund --no-save --silent axe-core@4.10.3
fi

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --quiet -- -D warnings
# Architecture Invariant (ARCHITECTURE.md): the engine and the reports link neither SQLite nor calamine,
# whatever reaches them through other crates.
for crate in pbgdpl-engine pbgdpl-reports pbgdpl-catalog; do
  if cargo tree -p "$crate" -e normal --prefix none | grep -E '^(rusqlite|libsqlite3-sys|calamine) '; then
    echo "architecture: $crate must not depend on SQLite or calamine" >&2
    exit 1
  fi
done
# The doc tests are left out (there are none); the last line sums up every test binary.
log=$(mktemp)
wrap=$(mktemp -d)
# A real PostgreSQL server for the PostgreSQL store's tests (scripts/postgres.sh): thrown away at
# the end. Without it those tests would only say "skipped", so failing to start it fails the run.
pg=$(bash scripts/postgres.sh)
export PBGDPL_TEST_POSTGRES="${pg#* }"
trap 'bash scripts/postgres.sh stop "${pg%% *}"; rm -rf "$log" "$wrap"' EXIT
echo "PostgreSQL for the tests: $PBGDPL_TEST_POSTGRES"
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}

# A test must give the same answer on any day: the suite again, with the system clock moved to 2027
# and to 2030 (the tests use an injected clock, so nothing may change). libfaketime deadlocks rustc
# and parallel tests (stack.md): the binaries are built first, then each runs on one thread from its
# package folder. Chromium and LibreOffice hang under libfaketime: they get the real time through
# wrappers first in PATH.
for prog in chromium soffice; do
  printf '#!/bin/sh\nunset LD_PRELOAD FAKETIME FAKETIME_DONT_FAKE_MONOTONIC\nexec /usr/bin/%s "$@"\n' "$prog" > "$wrap/$prog"
  chmod +x "$wrap/$prog"
done
tests=$(cargo test --workspace --all-targets --no-run --message-format=json 2>/dev/null | python3 -c '
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["profile"].get("test"):
        print(os.path.dirname(m["manifest_path"]) + "\t" + m["executable"])
')
for when in "2027-03-15 10:00:00" "2030-10-01 09:00:00"; do
  echo "== the suite with the clock at $when =="
  while IFS=$'\t' read -r dir exe; do
    (cd "$dir" && PATH="$wrap:$PATH" FAKETIME_DONT_FAKE_MONOTONIC=1 faketime -f "@$when" "$exe" --test-threads=1) \
      >>"$log" 2>&1 || { echo "FAILED with the clock at $when: $exe"; status=1; }
  done <<< "$tests"
done

# A short fuzzing run of what units send (fixtures/src/bin/fuzz.rs; a longer one by hand, see
# README.md): any panic or hang fails the run.
# `--all-targets` builds the fixtures' binaries as test harnesses only: the fuzzer itself is built here.
cargo build --quiet -p pbgdpl-fixtures --bin fuzz || status=1
"$CARGO_TARGET_DIR/debug/fuzz" 20 "$CARGO_TARGET_DIR/debug/pbgdpl" || status=1

awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed (the suite run three times: today, 2027, 2030)\n", p, f }' "$log"
exit "$status"
