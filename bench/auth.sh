#!/usr/bin/env bash
# auth.sh — what authentication costs: GET /api/v1/auth/me with a cookie
# session beside GET /api/v1/health, same server, same run (wrk, loopback,
# HTTPS keep-alive). Prints a Markdown table for bench/RESULTS.md.
#   bench/auth.sh [DURATION_SECONDS] [CONNECTIONS] [ROUNDS]   (default 10, 64, 3)
# Each round runs the three cells in a rotated order (whatever runs first
# or last in a round must not decide the comparison); the table gives the
# median of the rounds and every round's figure.
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10} conns=${2:-64} rounds=${3:-3}
scripts/deps.sh bench
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" --target chatbot >/dev/null
work=$(mktemp -d)
trap 'kill $pid 2>/dev/null || true; wait 2>/dev/null; rm -rf "$work"' EXIT
ulimit -n "$(ulimit -Hn)"
port=18445
CHATBOT_LOG_LEVEL=warning build/chatbot --instance "$work/inst" serve --port $port >"$work/log" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -q serving "$work/log" 2>/dev/null && break; sleep 0.1; done
cookie=$(/usr/bin/python3 - "$port" "$work/inst/tls/cert.pem" <<'PY'
import http.client, json, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx)
body = json.dumps({"email": "bench@example.org", "password": "correct horse battery"})
for path in ("/api/v1/auth/register", "/api/v1/auth/login"):
    c.request("POST", path, body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse(); r.read()
cookie = r.getheader("Set-Cookie").split(";")[0]
c.request("GET", "/api/v1/auth/me", headers={"Cookie": cookie})
r = c.getresponse(); me = json.loads(r.read())
c.request("POST", "/api/v1/tokens", body=json.dumps({"name": "bench"}),
          headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": me["csrf_token"]})
r = c.getresponse(); token = json.loads(r.read())["token"]
print(cookie, token)
PY
)
read -r cookie token <<<"$cookie"
cell() {
  wrk -t2 -c"$conns" -d"${dur}s" --latency "$@" 2>&1
}
names=("GET /api/v1/health" "GET /api/v1/auth/me (cookie session)" "GET /api/v1/auth/me (bearer token)")
args=("https://127.0.0.1:$port/api/v1/health"
      "-H|Cookie: $cookie|https://127.0.0.1:$port/api/v1/auth/me"
      "-H|Authorization: Bearer $token|https://127.0.0.1:$port/api/v1/auth/me")
declare -a rps p50 p99 bad
for ((r = 0; r < rounds; r++)); do
  for ((k = 0; k < 3; k++)); do
    i=$(( (k + r) % 3 ))
    IFS='|' read -r -a a <<<"${args[$i]}"
    out=$(cell "${a[@]}")
    rps[$i]+="$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out") "
    p50[$i]+="$(awk '$1 == "50%" {print $2}' <<<"$out") "
    p99[$i]+="$(awk '$1 == "99%" {print $2}' <<<"$out") "
    bad[$i]+="$(awk '/Non-2xx/ {print $NF}' <<<"$out")"
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
health=$(median <<<"${rps[0]}")
echo "| endpoint | connections | req/s (median of $rounds) | rounds | share of health | p50 (last) | p99 (last) | non-2xx |"
echo "| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: |"
for i in 0 1 2; do
  m=$(median <<<"${rps[$i]}")
  echo "| ${names[$i]} | $conns | $m | ${rps[$i]% } | $(awk -v a="$m" -v b="$health" 'BEGIN {printf "%.0f %%", 100 * a / b}') | $(awk '{print $NF}' <<<"${p50[$i]}") | $(awk '{print $NF}' <<<"${p99[$i]}") | ${bad[$i]:-0} |"
done
