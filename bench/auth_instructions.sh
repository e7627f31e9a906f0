#!/usr/bin/env bash
# auth_instructions.sh — instructions per request (callgrind) of GET /api/v1/health,
# /auth/me by cookie session and by bearer token: the real server over HTTPS,
# one keep-alive client, 200 then 600 requests on a fresh server each; the
# difference / 400 is one request without start-up. Load-independent, unlike
# bench/auth.sh. Needs valgrind (scripts/deps.sh test). BUILD=dir (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
D=$(mktemp -d)
trap 'kill $(cat $D/pid 2>/dev/null) 2>/dev/null; rm -rf "$D"' EXIT
B=${BUILD:-build}/chatbot
inst=$D/inst; rm -rf $inst; mkdir -p $inst
$B --instance $inst db upgrade >/dev/null
port=18999
start() { valgrind --tool=callgrind --callgrind-out-file=$D/out.$1 $B --instance $inst serve --port $port >$D/log.$1 2>&1 & echo $! > $D/pid; for i in $(seq 900); do grep -q serving $D/log.$1 && break; sleep 0.1; done; }
stop() { kill -TERM $(cat $D/pid); wait $(cat $D/pid) 2>/dev/null || true; }
start setup
read -r cookie token < <(/usr/bin/python3 - $port $inst/tls/cert.pem <<'PY'
import http.client, json, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
c = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=120)
body = json.dumps({"email": "cg@example.org", "password": "correct horse battery"})
for path in ("/api/v1/auth/register", "/api/v1/auth/login"):
    c.request("POST", path, body=body, headers={"Content-Type": "application/json"}); r = c.getresponse(); r.read()
cookie = r.getheader("Set-Cookie").split(";")[0]
c.request("GET", "/api/v1/auth/me", headers={"Cookie": cookie}); r = c.getresponse(); me = json.loads(r.read())
c.request("POST", "/api/v1/tokens", body=json.dumps({"name": "cg"}), headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRF-Token": me["csrf_token"]})
r = c.getresponse(); print(cookie, json.loads(r.read())["token"])
PY
)
stop
for kind in health cookie bearer; do for n in 200 600; do
  start $kind.$n
  /usr/bin/python3 - $port $inst/tls/cert.pem $kind $n "$cookie" "$token" <<'PY'
import http.client, ssl, sys
port, cert, kind, n, cookie, token = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
ctx = ssl.create_default_context(cafile=cert)
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx, timeout=120)
path = "/api/v1/health" if kind == "health" else "/api/v1/auth/me"
h = {} if kind == "health" else ({"Cookie": cookie} if kind == "cookie" else {"Authorization": "Bearer " + token})
for i in range(n):
    c.request("GET", path, headers=h); r = c.getresponse(); r.read(); assert r.status == 200, r.status
PY
  stop
  echo "$kind $n $(grep -h '^summary:' $D/out.$kind.$n | awk '{print $2}')"
done; done
