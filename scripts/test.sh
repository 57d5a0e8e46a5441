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
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-targets --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
exit "$status"
