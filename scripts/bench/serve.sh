# Sourced by the benchmark scripts: a release server on a store, and the national figures made fresh
# by accepted returns.
#
#   serve_start BIN_DIR STORE UNITS DIR   # sets $server (its pid) and $base (its address)
#   national_get TOKEN [PERIOD]           # seconds to the national indicators (default 2026S1)
#   fresh_after_returns TOKEN UNITS       # three returns of one ward, each then national_get
#   serve_memory                          # its RSS now and at its peak
serve_start() {
  local bin=$1 store=$2 units=$3 dir=$4
  # The binary itself in the background, so that `$!` is its pid (not a shell's).
  "$bin/pbgdpl" --store "$store" --units "$units" serve --addr 127.0.0.1:0 >"$dir/serve.out" 2>/dev/null &
  server=$!
  for _ in $(seq 100); do grep -q http "$dir/serve.out" 2>/dev/null && break; sleep 0.2; done
  base=$(grep -o 'http://[0-9.:]*' "$dir/serve.out" | head -1)
}

national_get() {
  curl -s -o /dev/null -w '%{time_total}' -H "Authorization: Bearer $1" \
    "$base/api/v1/indicators?period=${2:-2026S1}&unit=VN"
}

fresh_after_returns() {
  local token=$1 units=$2 ward reached body post
  ward=$(awk -F, 'NR > 1 && $3 == "ward" && $7 == "" { print $1; exit }' "$units")
  for reached in 1001 1002 1003; do
    body="{\"form\":\"F01\",\"unit\":\"$ward\",\"period\":\"2026S1\",\"values\":[{\"row\":\"01\",\"column\":1,\"value\":5000},{\"row\":\"02\",\"column\":1,\"value\":$reached},{\"row\":\"03\",\"column\":1,\"value\":10},{\"row\":\"04\",\"column\":1,\"value\":9}]}"
    post=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' -H "Authorization: Bearer $token" \
      -H 'Content-Type: application/json' -d "$body" "$base/api/v1/returns")
    echo "return of $ward accepted (HTTP ${post% *}) in ${post#* } s; national figures fresh after $(national_get "$token") s"
  done
}

# The server's memory now and at its peak.
serve_memory() {
  echo "RSS $(awk '/VmRSS/ { printf "%.0f MB", $2 / 1024 }' "/proc/$server/status"), peak $(awk '/VmHWM/ { printf "%.0f MB", $2 / 1024 }' "/proc/$server/status")"
}
