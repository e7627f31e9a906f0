#!/usr/bin/env bash
# auth.sh — what authentication costs: GET /api/v1/auth/me with a cookie
# session beside GET /api/v1/health, same server, same run (wrk, loopback,
# HTTPS keep-alive). Prints a Markdown table for bench/RESULTS.md.
#   bench/auth.sh [DURATION_SECONDS] [CONNECTIONS]      (default 10, 64)
set -euo pipefail
cd "$(dirname "$0")/.."
dur=${1:-10} conns=${2:-64}
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
  local out
  out=$(wrk -t2 -c"$conns" -d"${dur}s" --latency "$@" 2>&1)
  echo "$(awk '/Requests\/sec/ {printf "%.0f", $2}' <<<"$out") | $(awk '$1 == "50%" {print $2}' <<<"$out") | $(awk '$1 == "99%" {print $2}' <<<"$out") | $(awk '/Non-2xx/ {print $NF}' <<<"$out")"
}
echo "| endpoint | connections | req/s | p50 | p99 | non-2xx |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
echo "| GET /api/v1/health | $conns | $(cell https://127.0.0.1:$port/api/v1/health) |"
echo "| GET /api/v1/auth/me (cookie session) | $conns | $(cell -H "Cookie: $cookie" https://127.0.0.1:$port/api/v1/auth/me) |"
echo "| GET /api/v1/auth/me (bearer token) | $conns | $(cell -H "Authorization: Bearer $token" https://127.0.0.1:$port/api/v1/auth/me) |"
