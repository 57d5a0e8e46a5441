# Sourced by the benchmark scripts: one line of latency under load for a path, asked once first to
# warm the server's caches as a leader's first visit would.
#
#   wrk_row NAME URL SECONDS [HEADER...]    # 50 connections, 2 threads; p50, p99, requests/s
wrk_row() {
  local name=$1 url=$2 secs=$3
  shift 3
  local hdrs=() h
  for h in "$@"; do hdrs+=(-H "$h"); done
  curl -s -o /dev/null "${hdrs[@]}" "$url"
  local out p50 p99 rps non2xx
  out=$(wrk -t2 -c50 -d"${secs}s" --latency "${hdrs[@]}" "$url")
  p50=$(echo "$out" | awk '$1=="50%"{print $2}')
  p99=$(echo "$out" | awk '$1=="99%"{print $2}')
  rps=$(echo "$out" | awk '/Requests\/sec/{print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/{print $NF}')
  echo "$name: p50 $p50, p99 $p99, $rps requests/s, 50 connections, ${secs} s${non2xx:+, non-2xx $non2xx}"
}
