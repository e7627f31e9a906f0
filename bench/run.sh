#!/usr/bin/env bash
# run.sh — throughput and latency of the main endpoints, beside the
# framework's ceiling, in one run. Prints a Markdown table for
# bench/RESULTS.md. Loopback only; every load is bounded in time.
#
#   bench/run.sh [DURATION_SECONDS]      (default 10 per cell)
#
# Servers: build/chatbot-fixture (generated endpoints over the fixture
# schema, HTTPS) and build/bench-ceiling (a constant JSON answer with the same
# libmicrohttpd options and the same certificate).
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10}
scripts/deps.sh bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target chatbot-fixture bench-ceiling >/dev/null

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

ulimit -n "$(ulimit -Hn)"
app_port=18443 ceil_port=18444
CHATBOT_LOG_LEVEL=warning build/chatbot-fixture --instance "$work/inst" serve --port $app_port >"$work/app.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "serving" "$work/app.log" 2>/dev/null && break; sleep 0.1; done
build/bench-ceiling $ceil_port "$work/inst/tls/cert.pem" "$work/inst/tls/key.pem" >"$work/ceil.log" 2>&1 &
pids+=($!)
sleep 0.5

# 1,000 rows so the list endpoint pages through a real table.
for i in $(seq 1000); do
  printf '{"title":"note %d","body":"benchmark row %d","priority":%d}' "$i" "$i" $((i % 11))
  echo
done | python3 -c '
import http.client, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx)
for line in sys.stdin:
    c.request("POST", "/api/v1/notes", body=line.strip(), headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 201, r.status
' $app_port "$work/inst/tls/cert.pem"

cell() {  # url conns -> "req/s p50 p99"
  local out
  local threads=2
  [ "$2" -lt 2 ] && threads=1                    # wrk needs connections >= threads
  out=$(wrk -t"$threads" -c"$2" -d"${dur}s" --latency "$1" 2>&1)
  local rps p50 p99 errs
  rps=$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out")
  p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
  p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
  errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' <<<"$out")
  echo "$rps | $p50 | $p99 | ${errs:-none}"
}

echo "| endpoint | connections | req/s | p50 | p99 | errors |"
echo "| --- | ---: | ---: | ---: | ---: | --- |"
for c in 1 64 256; do
  echo "| ceiling: constant JSON (bench-ceiling) | $c | $(cell https://127.0.0.1:$ceil_port/api/v1/health "$c") |"
  echo "| GET /api/v1/health | $c | $(cell https://127.0.0.1:$app_port/api/v1/health "$c") |"
  echo "| GET /api/v1/notes?limit=10 (generated list) | $c | $(cell "https://127.0.0.1:$app_port/api/v1/notes?limit=10" "$c") |"
done
echo
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); duration ${dur}s per cell, wrk -t2 (-t1 at 1 connection)"
