"""Helpers for the chat tests: an account with its session headers, and a
Server-Sent Events reader over a real HTTPS response."""
import itertools
import json

PW = "correct horse battery"
_n = itertools.count()


def signed_in(srv, email=None):
    """Registers a fresh account and logs in: the headers of its session."""
    email = email or f"chat{next(_n)}-{srv.port}@example.org"
    r = srv.post("/api/v1/auth/register", {"email": email, "password": PW})
    assert r.status == 201, r
    r = srv.post("/api/v1/auth/login", {"email": email, "password": PW})
    assert r.status == 200, r
    return {"Cookie": r.header("set-cookie").split(";")[0], "X-CSRF-Token": r.json()["csrf_token"]}


def new_conversation(srv, headers, **fields):
    r = srv.post("/api/v1/conversations", fields, headers=headers)
    assert r.status == 201, r
    return r.json()


class Stream:
    """An SSE response read event by event: (name, data) pairs, with data
    decoded from JSON. Comments are counted, not returned."""

    def __init__(self, srv, path, body, headers, timeout=30):
        self.conn = srv.connection(timeout=timeout)
        hdrs = {"Content-Type": "application/json", **headers}
        self.conn.request("POST", path, body=json.dumps(body).encode(), headers=hdrs)
        self.resp = self.conn.getresponse()
        self.status = self.resp.status
        self.headers = {k.lower(): v for k, v in self.resp.getheaders()}
        self.comments = 0

    def next(self):
        name, data = "message", []
        while True:
            line = self.resp.readline()
            if not line:
                return None
            line = line.decode("utf-8").rstrip("\n")
            if line == "":
                if data:
                    return name, json.loads("\n".join(data))
                continue
            if line.startswith(":"):
                self.comments += 1
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].lstrip(" "))

    def __iter__(self):
        while (ev := self.next()) is not None:
            yield ev

    def all(self):
        return list(self)

    def close(self):
        """Closes the socket for real (the response holds its own reference)."""
        self.resp.close()
        self.conn.close()


def stream(srv, path, body, headers, **kw):
    return Stream(srv, path, body, headers, **kw)
