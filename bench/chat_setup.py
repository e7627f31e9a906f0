#!/usr/bin/python3
"""chat_setup.py — accounts and conversations for bench/chat.sh, through
the REST API (HTTPS, the instance's own certificate).

  chat_setup.py PORT CAFILE users   N PREFIX          register N accounts
  chat_setup.py PORT CAFILE login   EMAIL             -> "COOKIE CSRF"
  chat_setup.py PORT CAFILE time    PATH COOKIE N      -> "p50 | p99 | max | n"
      N sequential GETs on one keep-alive connection (after one untimed),
      each answer read whole and required to be 200; milliseconds.
  chat_setup.py PORT CAFILE streams USERS CONVS MODEL OUT
      registers USERS accounts, signs each in and creates CONVS
      conversations round-robin over them with `model` MODEL; writes one
      line per conversation, "ID COOKIE CSRF", to OUT (the input of
      bench-stream-clients and of the wrk scripts).

Standard library only; every account's password is PASSWORD below.
"""
import http.client
import json
import ssl
import sys
import time

PASSWORD = "correct horse battery staple"


class Api:
    def __init__(self, port, cafile):
        ctx = ssl.create_default_context(cafile=cafile)
        self.c = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)

    def call(self, method, path, body=None, cookie=None, csrf=None, want=(200, 201)):
        headers = {"Content-Type": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
        if csrf:
            headers["X-CSRF-Token"] = csrf
        self.c.request(method, path, body=None if body is None else json.dumps(body),
                       headers=headers)
        r = self.c.getresponse()
        data = r.read()
        if r.status not in want:
            sys.exit(f"chat_setup: {method} {path}: {r.status} {data[:300]!r}")
        return r, json.loads(data) if data else None

    def register(self, email):
        self.call("POST", "/api/v1/auth/register", {"email": email, "password": PASSWORD},
                  want=(201, 409))

    def login(self, email):
        r, doc = self.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})
        return r.getheader("Set-Cookie").split(";")[0], doc["csrf_token"]

    def conversation(self, cookie, csrf, title, model):
        body = {"title": title}
        if model:
            body["model"] = model
        _, doc = self.call("POST", "/api/v1/conversations", body, cookie, csrf)
        return doc["id"]


def main():
    port, cafile, cmd, args = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
    api = Api(port, cafile)
    if cmd == "users":
        for i in range(1, int(args[0]) + 1):
            api.register(f"{args[1]}{i}@example.org")
    elif cmd == "login":
        print(*api.login(args[0]))
    elif cmd == "streams":
        users, convs, model, out = int(args[0]), int(args[1]), args[2], args[3]
        sessions = []
        for i in range(1, users + 1):
            email = f"stream{i}@example.org"
            api.register(email)
            sessions.append(api.login(email))
        with open(out, "w") as f:
            for k in range(convs):
                cookie, csrf = sessions[k % users]
                cid = api.conversation(cookie, csrf, f"bench stream {k}", model)
                f.write(f"{cid} {cookie} {csrf}\n")
    elif cmd == "time":
        path, cookie, n = args[0], args[1], int(args[2])
        took = []
        for i in range(n + 1):
            t = time.perf_counter()
            api.c.request("GET", path, headers={"Cookie": cookie})
            r = api.c.getresponse()
            r.read()
            if r.status != 200:
                sys.exit(f"chat_setup: GET {path}: {r.status}")
            if i:
                took.append((time.perf_counter() - t) * 1e3)
        took.sort()
        pct = lambda p: took[min(len(took) - 1, int(p / 100 * len(took)))]
        print(f"{pct(50):.2f} ms | {pct(99):.2f} ms | {took[-1]:.2f} ms | {n}")
    else:
        sys.exit(f"chat_setup: unknown command {cmd}")


if __name__ == "__main__":
    main()
