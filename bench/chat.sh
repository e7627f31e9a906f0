#!/usr/bin/env bash
# chat.sh — the chat benchmarks of issue 4, on loopback over HTTPS.
# Prints Markdown table rows (and the details behind them) for
# bench/RESULTS.md.
#
#   bench/chat.sh [a|b|c|all|ceiling]                 (default all)
#
#   a  STREAMS concurrent streamed replies (default 1000; a list such as
#      "250 500 1000" runs each in turn, a fresh server each) from the fake
#      upstream (UPSTREAM=py: tests/fake_upstream.py, the default; UPSTREAM=c:
#      bench-stamp-upstream, bench/stamp_upstream.c, the same stream format
#      for a fraction of the CPU) at 20 tokens/s, TOKENS each
#      (default 200 = 10 s), every token stamped with its send time:
#      server RSS and CPU, per-token added latency (client read time -
#      stamp), tokens and `done` events. Client: bench-stream-clients
#      (bench/stream_clients.c: C, libcurl multi, one thread; it opens all
#      connections first, then starts every stream at once). 10 accounts,
#      one conversation per stream. CPU and RSS are sampled from /proc
#      (bench/proc_sample.py) while the streams run. Latency is given over
#      all tokens and over the steady state (tokens read after the first
#      second and before the last: without the start, where the POSTs of
#      every stream are handled at once, and the end, with every final write).
#   b  POST …/messages, built-in bot, JSON answers, wrk at 64 connections
#      over 1,024 conversations (bench/chat_post.lua), DURATION s (default 10).
#   c  10,000 conversations and 1,000,000 messages (bench/chat_seed.py,
#      written straight into SQLite): the conversation list, the newest page
#      of a 5,000-message conversation, search for a rare, a common and the
#      most frequent word; wrk --latency at 4 connections (searches also at
#      1), DURATION s each.
#   ceiling  (not in `all`) the streaming ceiling: (a)'s streams, client and
#      measures against bench-ceiling (bench/ceiling.c), which streams
#      stamped tokens at 20 tokens/s from one ticker thread with chatbot's
#      libmicrohttpd options and nothing else (no database, no upstream):
#      what the framework allows on this machine.
#
# Environment: BUILD (build directory, default build), STREAMS, TOKENS,
# DURATION, UPSTREAM (a's fake upstream: py, the default, or c),
# STREAM_CLIENTS_RAMP_S and STREAM_CLIENTS_DUMP (bench/stream_clients.c: a
# ramp of the stream starts, a file of every token's latency), KEEP=1 keeps
# the work directory (its path is printed).
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-all}
case "$what" in a|b|c|all|ceiling) ;; *) echo "usage: $0 [a|b|c|all|ceiling]" >&2; exit 2 ;; esac
upstream=${UPSTREAM:-py}
case "$upstream" in py|c) ;; *) echo "chat.sh: UPSTREAM is py or c, not $upstream" >&2; exit 2 ;; esac
build=${BUILD:-build}
streams=${STREAMS:-1000} tokens=${TOKENS:-200} dur=${DURATION:-10}
py=/usr/bin/python3

scripts/deps.sh bench
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target chatbot bench-stream-clients bench-ceiling \
  bench-stamp-upstream >/dev/null

work=$(mktemp -d /tmp/chat-bench.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ "${KEEP:-0}" = 1 ]; then echo "work directory kept: $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)"

# start_server INSTANCE PORT: starts chatbot, waits for it; sets $server_pid.
start_server() {
  "$build/chatbot" --instance "$1" serve --port "$2" >"$1.log" 2>&1 &
  server_pid=$!
  pids+=("$server_pid")
  for _ in $(seq 300); do
    grep -q "serving" "$1.log" 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "chat.sh: the server did not start:" >&2; cat "$1.log" >&2; exit 1
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
}

# wrk_cell ARGS… -> "p50 | p99 | req/s | non-2xx, timeouts" from one wrk
# --latency run (a request is a timeout after 10 s, not wrk's default 2 s).
wrk_cell() {
  local out
  out=$(wrk --latency --timeout 10s "$@" 2>&1)
  echo "$out" >>"$work/wrk.log"
  local non2xx timeouts
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  timeouts=$(sed -n 's/.*timeout \([0-9]*\).*/\1/p' <<<"$out")
  if [ "$(awk '/requests in/ {print $1}' <<<"$out")" = 0 ]; then   # no answer within the run
    echo "no answer in ${dur}s | | 0 | ${non2xx:-0}, ${timeouts:-0}"
    return
  fi
  echo "$(awk '$1 == "50%" {print $2}' <<<"$out") | $(awk '$1 == "99%" {print $2}' <<<"$out") | $(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out") | ${non2xx:-0}, ${timeouts:-0}"
}

# The load average: the machine is shared, and a busy neighbour moves every figure.
load() { echo "load average before this part: $(cut -d' ' -f1-3 /proc/loadavg)"; }

machine() {
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr); $(date -u +%Y-%m-%d)"
}

free_port() { $py -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# run_clients URL CAFILE JOBS CONTENT NAME=PID…: bench-stream-clients over
# JOBS ($work/clients.out), with the CPU and RSS of the NAME=PID processes
# and of the client sampled while the streams run ($work/sample.out).
run_clients() {
  local url=$1 ca=$2 jobs=$3 content=$4
  shift 4
  "$build/bench-stream-clients" "$url" "$ca" "$jobs" "$content" $((tokens / 20 + 120)) \
    >"$work/clients.out" 2>"$work/clients.err" &
  local client_pid=$!
  while ! grep -q streams_starting "$work/clients.out" 2>/dev/null; do
    kill -0 "$client_pid" 2>/dev/null || { cat "$work/clients.err" >&2; exit 1; }
    sleep 0.05
  done
  $py bench/proc_sample.py 0.25 "$@" client=$client_pid >"$work/sample.out" &
  local sampler_pid=$!
  wait "$client_pid"
  kill -TERM "$sampler_pid"; wait "$sampler_pid" || true
}

# The cells of a streams row. latency_cells reads the client's results from
# the caller's array r; the others read NAME's line of $work/sample.out.
latency_cells() {
  echo "${r[latency_ms_p50]} ms | ${r[latency_ms_p99]} ms | ${r[latency_ms_p999]} ms | ${r[latency_ms_max]} ms | ${r[steady_latency_ms_p50]} ms | ${r[steady_latency_ms_p99]} ms"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
rss_cells() {
  local l; l=$(grep "^$1 " "$work/sample.out")
  echo "$(field hwm_mb "$l") MiB | $(field rss_max_mb "$l") MiB"
}
cpu_cell() {
  local l; l=$(grep "^$1 " "$work/sample.out")
  echo "$(field cpu_s "$l") s ($(field cores "$l") cores)"
}
# The figures behind a row.
stream_details() {
  echo
  sed 's/^/    /' "$work/clients.out" "$work/sample.out"
  [ -s "$work/clients.err" ] && { echo "    client stderr (first lines):"; head -5 "$work/clients.err" | sed 's/^/    /'; }
  return 0
}

# --- (a) concurrent streamed replies --------------------------------------------
part_a() {
  local streams=$1
  local inst=$work/a$streams port=18461
  mkdir -p "$inst"
  rm -f "$work/fake.port"
  if [ "$upstream" = c ]; then        # the stamp scenario is its only one
    "$build/bench-stamp-upstream" --tokens "$tokens" --rate 20 --port-file "$work/fake.port" \
      >"$work/fake.log" 2>&1 &
  else
    $py tests/fake_upstream.py --port 0 --port-file "$work/fake.port" >"$work/fake.log" 2>&1 &
  fi
  local fake_pid=$!
  pids+=("$fake_pid")
  for _ in $(seq 100); do [ -s "$work/fake.port" ] && break; sleep 0.1; done
  [ -s "$work/fake.port" ] ||
    { echo "chat.sh: the fake upstream did not start:" >&2; cat "$work/fake.log" >&2; exit 1; }
  local fport
  fport=$(cat "$work/fake.port")
  cat >"$inst/config" <<EOF
registrations_per_hour = 100000
max_connections = $((streams * 2 + 100))
log_level = warning
llm_url = http://127.0.0.1:$fport/v1
llm_model = fake-small
EOF
  start_server "$inst" $port
  $py bench/chat_setup.py $port "$inst/tls/cert.pem" streams 10 "$streams" fake-small "$work/jobs"
  load
  if [ "$upstream" = py ]; then
    curl -sf -X POST --data "{\"tokens\": $tokens, \"rate\": 20, \"stamp\": true}" \
      "http://127.0.0.1:$fport/_control/scenario" >/dev/null
  fi
  run_clients "https://127.0.0.1:$port" "$inst/tls/cert.pem" "$work/jobs" \
    "Tell me about the weather on the coast" server=$server_pid fake_upstream=$fake_pid
  if [ "$upstream" = c ]; then        # its figures come at SIGTERM, on stdout
    kill -TERM "$fake_pid"
    wait "$fake_pid" || echo "chat.sh: bench-stamp-upstream exited with status $?" >&2
    grep '^upstream_' "$work/fake.log" >>"$work/clients.out"
    stop_server
  else
    curl -sf "http://127.0.0.1:$fport/_control/log" | $py -c '
import json, sys
log = json.load(sys.stdin)["requests"]
print("upstream_requests", len(log))
print("upstream_finished", sum(e["finished"] for e in log))
print("upstream_tokens_sent", sum(e["tokens_sent"] for e in log))
print("upstream_client_disconnected", sum(e["client_disconnected"] for e in log))' >>"$work/clients.out"
    stop_server
    kill "$fake_pid"; wait "$fake_pid" 2>/dev/null || true
  fi

  local -A r
  while read -r k v; do r[$k]=$v; done <"$work/clients.out"
  echo
  local from=""
  [ "$upstream" = py ] || from=", upstream bench-stamp-upstream"
  echo "(a) $streams concurrent streamed replies, $tokens tokens at 20 tokens/s each$from"
  echo
  echo "| streams | tokens received / sent upstream | done events | p50 | p99 | p99.9 | max | steady p50 | steady p99 | server RSS peak (VmHWM) | server RSS max sampled | server CPU | fake upstream CPU | client CPU |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| ${r[streams]} | ${r[tokens]} / ${r[upstream_tokens_sent]} | ${r[done]} | $(latency_cells) | $(rss_cells server) | $(cpu_cell server) | $(cpu_cell fake_upstream) | $(cpu_cell client) |"
  stream_details
}

# --- ceiling: the same streams from bench-ceiling --------------------------------
# A certificate for 127.0.0.1 ($work/cert/tls/*.pem): chatbot makes one at its
# first start.
ceiling_cert() {
  mkdir -p "$work/cert"
  printf 'log_level = warning\n' >"$work/cert/config"
  start_server "$work/cert" "$(free_port)"
  stop_server
}

part_ceiling() {
  local streams=$1 tls=$work/cert/tls port
  port=$(free_port)
  "$build/bench-ceiling" "$port" "$tls/cert.pem" "$tls/key.pem" --stream-tokens "$tokens" \
    --stream-rate 20 >"$work/ceiling.log" 2>&1 &
  local ceiling_pid=$!
  pids+=("$ceiling_pid")
  for _ in $(seq 100); do grep -q serving "$work/ceiling.log" && break; sleep 0.1; done
  grep -q serving "$work/ceiling.log" || { echo "chat.sh: bench-ceiling did not start:" >&2; cat "$work/ceiling.log" >&2; exit 1; }
  seq "$streams" | sed 's/$/ x x/' >"$work/jobs_ceiling"     # ids 1..N; no cookie, no CSRF
  load
  run_clients "https://127.0.0.1:$port" "$tls/cert.pem" "$work/jobs_ceiling" "hello" ceiling=$ceiling_pid
  kill -TERM "$ceiling_pid"
  wait "$ceiling_pid" || echo "chat.sh: bench-ceiling exited with status $?" >&2
  grep '^ceiling_' "$work/ceiling.log" >>"$work/clients.out"    # tokens sent, the ticker's cost

  local -A r
  while read -r k v; do r[$k]=$v; done <"$work/clients.out"
  echo
  echo "(ceiling) $streams concurrent streams from bench-ceiling, $tokens tokens at 20 tokens/s each"
  echo
  echo "| streams | tokens received / sent | done events | p50 | p99 | p99.9 | max | steady p50 | steady p99 | ceiling RSS peak (VmHWM) | ceiling RSS max sampled | ceiling CPU | client CPU |"
  echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  echo "| ${r[streams]} | ${r[tokens]} / ${r[ceiling_tokens_sent]} | ${r[done]} | $(latency_cells) | $(rss_cells ceiling) | $(cpu_cell ceiling) | $(cpu_cell client) |"
  stream_details
}

# --- (b) POST …/messages, built-in bot, JSON ----------------------------------
part_b() {
  local inst=$work/b port=18462 conns=64
  mkdir -p "$inst"
  printf 'registrations_per_hour = 100000\nlog_level = warning\n' >"$inst/config"
  start_server "$inst" $port
  $py bench/chat_setup.py $port "$inst/tls/cert.pem" streams 1 1024 builtin "$work/jobs_b"
  local out
  load
  out=$(wrk -t2 -c$conns -d"${dur}s" --latency -s bench/chat_post.lua \
    "https://127.0.0.1:$port" -- "$work/jobs_b" 2 2>&1)
  echo "$out" >>"$work/wrk.log"
  stop_server
  local non2xx statuses
  non2xx=$(awk '/Non-2xx/ {print $NF}' <<<"$out")
  statuses=$(sed -n 's/^statuses //p' <<<"$out")
  echo
  echo "(b) POST /api/v1/conversations/{id}/messages, built-in bot, stream:false, 1,024 conversations of one user"
  echo
  echo "| connections | req/s | p50 | p99 | non-2xx | answers by status |"
  echo "| ---: | ---: | ---: | ---: | ---: | --- |"
  echo "| $conns | $(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out") | $(awk '$1 == "50%" {print $2}' <<<"$out") | $(awk '$1 == "99%" {print $2}' <<<"$out") | ${non2xx:-0} | $statuses |"
}

# --- (c) lists and search over 1,000,000 messages --------------------------------
part_c() {
  local inst=$work/c port=18463 conns=4
  mkdir -p "$inst"
  printf 'log_level = warning\n' >"$inst/config"
  "$build/chatbot" --instance "$inst" db upgrade >/dev/null 2>&1
  for i in $(seq 10); do
    echo "correct horse battery staple" | "$build/chatbot" --instance "$inst" users create "seed$i@example.org" --password-stdin >/dev/null
  done
  $py bench/chat_seed.py "$inst/chatbot.db" 1000 100000 2 >"$work/seed.out" 2>"$work/seed.err"
  local -A s
  while read -r k v; do s[$k]=$v; done <"$work/seed.out"
  start_server "$inst" $port
  load
  local cookie csrf
  read -r cookie csrf < <($py bench/chat_setup.py $port "$inst/tls/cert.pem" login seed1@example.org)
  local base=https://127.0.0.1:$port/api/v1
  local big=${s[big_conversation]}
  local top common rare
  read -r top _ <<<"${s[word_top]}"; read -r common _ <<<"${s[word_common]}"; read -r rare _ <<<"${s[word_rare]}"
  # Each URL answers 200 with something in it before it is timed.
  for u in "$base/conversations" "$base/conversations/$big/messages?reverse=true&limit=50" \
           "$base/search?q=$common" "$base/search?q=$rare"; do
    curl -sf --cacert "$inst/tls/cert.pem" -H "Cookie: $cookie" "$u" | grep -q '"items":\[{' ||
      { echo "chat.sh: $u answered no items" >&2; exit 1; }
  done
  cell() { wrk_cell -t2 -c$conns -d"${dur}s" -H "Cookie: $cookie" "$1"; }
  echo
  echo "(c) ${s[users]} users, ${s[conversations]} conversations, ${s[messages]} messages (seeded in ${s[seed_seconds]} s); signed in as the first user; wrk -t2 -c$conns -d${dur}s --latency"
  echo
  echo "| request | p50 | p99 | req/s | non-2xx, timeouts |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  echo "| GET /api/v1/conversations (first page of 1,000) | $(cell "$base/conversations") |"
  echo "| GET …/conversations/$big/messages?reverse=true&limit=50 (newest page of 5,000) | $(cell "$base/conversations/$big/messages?reverse=true&limit=50") |"
  local w
  for w in word_rare word_common word_top; do
    read -r word all mine <<<"${s[$w]}"
    echo "| GET /api/v1/search?q=$word (${w#word_}: in $all messages, $mine of this user's) | $(cell "$base/search?q=$word") |"
  done
  # One search at a time (a sequential client, keep-alive): the time of a
  # search alone, and a figure even when a search outlasts a wrk run.
  echo
  echo "| sequential GET | p50 | p99 | max | requests |"
  echo "| --- | ---: | ---: | ---: | ---: |"
  for w in word_rare word_common word_top; do
    read -r word all mine <<<"${s[$w]}"
    echo "| /api/v1/search?q=$word | $($py bench/chat_setup.py $port "$inst/tls/cert.pem" time "/api/v1/search?q=$word" "$cookie" 20) |"
  done
  stop_server
}

case "$what" in a|all) for n in $streams; do part_a "$n"; done ;; esac
case "$what" in b|all) part_b ;; esac
case "$what" in c|all) part_c ;; esac
case "$what" in ceiling) ceiling_cert; for n in $streams; do part_ceiling "$n"; done ;; esac
machine
