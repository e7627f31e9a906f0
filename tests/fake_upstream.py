#!/usr/bin/python3
"""A fake OpenAI-compatible chat-completions server for tests and benchmarks.

It speaks plain HTTP/1.1 the way Ollama, llama.cpp and vLLM do (keep-alive,
chunked SSE streams, OpenAI error objects) and misbehaves on command: a
SCENARIO chooses the reply text, the token rate and a failure mode (an HTTP
error, a stall, a cut connection, a malformed event, a non-SSE body, a
stream without [DONE], bytes split into tiny pieces). It records every
completion request, including whether and when the client hung up, and
answers questions about that log over /_control/*.

Python 3.11 standard library only (asyncio streams: one task per
connection, no thread per connection). The command line, the protocol and
the scenario fields are described in docs/testing.md.
"""
import argparse
import asyncio
import json
import os
import random
import re
import resource
import signal
import socket
import sys
import time
from urllib.parse import parse_qs, urlsplit

MODELS = ("fake-small", "fake-large")
DEFAULT_SCENARIO = {"text": "Hello from the fake upstream.", "rate": 200, "mode": "ok"}
MODES = ("ok", "status", "stall", "cut", "malformed", "garbage", "no_done", "split")
# field -> (accepted types, check); bool is excluded from numbers explicitly.
FIELDS = {
    "text": (str, None),
    "tokens": (int, lambda v: 0 <= v <= 1_000_000),
    "rate": ((int, float), lambda v: v >= 0),
    "mode": (str, lambda v: v in MODES),
    "status": (int, lambda v: 100 <= v <= 599),
    "message": (str, None),
    "retry_after": (int, lambda v: v >= 0),
    "stall_after": (int, lambda v: v >= 0),
    "cut_after": (int, lambda v: v >= 0),
    "malformed_after": (int, lambda v: v >= 0),
    "echo": (bool, None),
    "stamp": (bool, None),
    "delay_headers": ((int, float), lambda v: 0 <= v <= 3600),
    "linger": ((int, float), lambda v: 0 <= v <= 3600),
    "transfer": (str, lambda v: v in ("chunked", "close")),
    "seed": (int, None),
}
MAX_HEADER = 64 * 1024
MAX_BODY = 64 * 1024 * 1024
MALFORMED_EVENT = 'data: {"choices": [ {not json'
GARBAGE_BODY = b"<!DOCTYPE html>\n<html><body><h1>It works!</h1><p>Not an API.</p></body></html>\n"
REASONS = {100: "Continue", 200: "OK", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 408: "Request Timeout", 413: "Payload Too Large",
           429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
           503: "Service Unavailable"}
TOKEN_RE = re.compile(r"\s*\S+|\s+")


class BadRequest(Exception):
    """The request cannot be parsed as HTTP: answer 400 and close."""


class ScenarioError(ValueError):
    pass


def check_scenario(obj):
    """Returns obj merged over nothing, or raises ScenarioError naming the field."""
    if not isinstance(obj, dict):
        raise ScenarioError("a scenario is a JSON object")
    for key, value in obj.items():
        if key not in FIELDS:
            raise ScenarioError(f"unknown scenario field {key!r}")
        types, ok = FIELDS[key]
        if isinstance(value, bool) and types is not bool or not isinstance(value, types) \
                or (ok and not ok(value)):
            raise ScenarioError(f"bad value for scenario field {key!r}: {value!r}")
    return dict(obj)


def error_body(message, type_, code=None, param=None):
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


def status_error(status, model, scenario):
    """The OpenAI error object a real server sends with `status`."""
    msg = scenario.get("message")
    table = {
        400: ("Bad request", "invalid_request_error", None),
        401: ("Invalid API key", "invalid_request_error", "invalid_api_key"),
        403: ("You are not allowed to use this model", "invalid_request_error", "forbidden"),
        404: (f"The model `{model}` does not exist or you do not have access to it.",
              "invalid_request_error", "model_not_found"),
        429: ("Rate limit reached for requests", "requests", "rate_limit_exceeded"),
    }
    default = ("The server had an error while processing your request.", "server_error", None)
    text, type_, code = table.get(status, default)
    return error_body(msg or text, type_, code)


def tokenize(scenario, messages):
    if scenario.get("echo"):
        text = json.dumps(messages, ensure_ascii=False)
    elif scenario.get("tokens") is not None:
        return ["tok0"] + [f" tok{i}" for i in range(1, scenario["tokens"])] \
            if scenario["tokens"] else []
    else:
        text = scenario.get("text", "")
    return TOKEN_RE.findall(text)


def one_off_scenario(messages):
    """The `#fake {...}` scenario of the last user message, or None."""
    for msg in reversed(messages):
        if isinstance(msg, dict) and msg.get("role") == "user":
            content = msg.get("content")
            if isinstance(content, list):   # multi-part content: its first text part
                content = next((p.get("text") for p in content
                                if isinstance(p, dict) and p.get("type") == "text"), None)
            if isinstance(content, str) and content.startswith("#fake {"):
                line = content[len("#fake "):].split("\n", 1)[0]
                try:
                    obj = json.loads(line)
                except ValueError as e:
                    raise ScenarioError(f"#fake line is not JSON: {e}") from None
                return {**DEFAULT_SCENARIO, **check_scenario(obj)}
            return None
    return None


def count_words(messages):
    n = 0
    for m in messages:
        if isinstance(m, dict) and isinstance(m.get("content"), str):
            n += len(m["content"].split())
    return n + 3 * len(messages)


class Conn:
    """One client connection: buffered reads (so a watcher can read ahead
    while we stream without losing a pipelined request) and framed writes."""

    def __init__(self, reader, writer):
        self.reader = reader
        self.writer = writer
        self.buf = bytearray()
        self.eof = False
        self.gone = asyncio.Event()     # the client closed or reset the connection
        self.chunked = False            # current response uses chunked framing

    async def fill(self):
        if self.eof:
            raise asyncio.IncompleteReadError(bytes(self.buf), None)
        try:
            data = await self.reader.read(65536)
        except ConnectionError:
            data = b""
        if not data:
            self.eof = True
            self.gone.set()
            raise asyncio.IncompleteReadError(bytes(self.buf), None)
        self.buf += data

    async def read_until(self, sep, limit):
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise BadRequest("header too large")
            await self.fill()

    async def read_exact(self, n):
        while len(self.buf) < n:
            await self.fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    async def watch(self):
        """Runs while a response is produced: notices the client leaving."""
        try:
            while True:
                await self.fill()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    def write(self, data):
        if not self.gone.is_set() and not self.writer.is_closing():
            self.writer.write(data)

    def write_body(self, data):
        """One piece of a streamed body, framed as a chunk when chunked."""
        if self.chunked:
            data = b"%x\r\n%s\r\n" % (len(data), data)
        self.write(data)

    async def drain(self):
        if self.gone.is_set():
            raise ConnectionResetError("client gone")
        await self.writer.drain()

    def abort(self):
        self.writer.transport.abort()


class Request:
    def __init__(self, method, target, version, headers, body):
        self.method = method
        self.path = urlsplit(target).path
        self.query = {k: v[-1] for k, v in parse_qs(urlsplit(target).query).items()}
        self.version = version
        self.headers = headers          # lower-cased names
        self.body = body
        self.client_port = None         # the connection's: tells a reused connection

    @property
    def keep_alive(self):
        conn = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in conn
        return "close" not in conn


async def read_request(conn):
    """The next request on conn, or None when the client closed cleanly."""
    try:
        head = await conn.read_until(b"\r\n\r\n", MAX_HEADER)
    except asyncio.IncompleteReadError as e:
        if e.partial.strip():
            raise BadRequest("truncated request head") from None
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise BadRequest("bad request line")
    headers = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest("bad header line")
        headers[name.lower()] = value.strip()
    if headers.get("expect", "").lower() == "100-continue":
        conn.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = bytearray()
        while True:
            size_line = await conn.read_until(b"\r\n", 1024)
            try:
                size = int(size_line.split(b";")[0].strip(), 16)
            except ValueError:
                raise BadRequest("bad chunk size") from None
            if size == 0:
                while await conn.read_until(b"\r\n", MAX_HEADER) != b"\r\n":
                    pass                # trailers
                break
            if len(body) + size > MAX_BODY:
                raise BadRequest("body too large")
            body += await conn.read_exact(size)
            if await conn.read_exact(2) != b"\r\n":
                raise BadRequest("bad chunk end")
        body = bytes(body)
    else:
        try:
            length = int(headers.get("content-length", "0"))
        except ValueError:
            raise BadRequest("bad Content-Length") from None
        if length < 0 or length > MAX_BODY:
            raise BadRequest("bad Content-Length")
        body = await conn.read_exact(length)
    return Request(parts[0], parts[1], parts[2], headers, body)


def head_bytes(status, headers):
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def send(conn, status, body, content_type="application/json", extra=(), keep=True):
    """A whole response with Content-Length. body: bytes or a JSON-able object."""
    if not isinstance(body, bytes):
        body = json.dumps(body, ensure_ascii=False).encode()
    headers = [("Content-Type", content_type), ("Content-Length", len(body)), *extra,
               ("Connection", "keep-alive" if keep else "close")]
    conn.write(head_bytes(status, headers) + body)
    await conn.drain()
    return keep


class Upstream:
    def __init__(self, api_key):
        self.api_key = api_key
        self.scenario = dict(DEFAULT_SCENARIO)
        self.log = []
        self.waiters = []

    # --- the log ---------------------------------------------------------
    def changed(self):
        waiters, self.waiters = self.waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    def entry(self, n):
        return self.log[n - 1] if 1 <= n <= len(self.log) else None

    async def wait(self, pred, timeout):
        deadline = time.monotonic() + timeout
        while not pred():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            fut = asyncio.get_running_loop().create_future()
            self.waiters.append(fut)
            try:
                await asyncio.wait_for(fut, left)
            except asyncio.TimeoutError:
                pass
        return True

    # --- dispatch ----------------------------------------------------------
    async def handle(self, conn, req):
        """Answers one request; returns whether the connection stays open."""
        keep = req.keep_alive
        path, method = req.path, req.method
        if path.startswith("/_control/"):
            return await self.control(conn, req, keep)
        if path.startswith("/v1/") and self.api_key is not None:
            if req.headers.get("authorization") != f"Bearer {self.api_key}":
                if path == "/v1/chat/completions":
                    try:
                        body = json.loads(req.body)
                    except ValueError:
                        body = None
                    return await self.refuse(conn, self.new_entry(req, body, 401),
                                             status_error(401, None, {}), keep)
                return await send(conn, 401, status_error(401, None, {}), keep=keep)
        if method == "GET" and path == "/v1/models":
            data = [{"id": m, "object": "model", "created": 1700000000, "owned_by": "fake"}
                    for m in MODELS]
            return await send(conn, 200, {"object": "list", "data": data}, keep=keep)
        if method == "GET" and path.startswith("/v1/models/") and path[11:] in MODELS:
            return await send(conn, 200, {"id": path[11:], "object": "model",
                                          "created": 1700000000, "owned_by": "fake"}, keep=keep)
        if method == "POST" and path == "/v1/chat/completions":
            return await self.completion(conn, req, keep)
        return await send(conn, 404, error_body(f"Unknown request URL: {method} {path}",
                                                "invalid_request_error", "unknown_url"), keep=keep)

    async def control(self, conn, req, keep):
        path, method = req.path, req.method
        if method == "POST" and path == "/_control/scenario":
            try:
                self.scenario = {**DEFAULT_SCENARIO, **check_scenario(json.loads(req.body))}
            except (ValueError, ScenarioError) as e:
                return await send(conn, 400, error_body(str(e), "invalid_request_error"), keep=keep)
            return await send(conn, 200, {"scenario": self.scenario}, keep=keep)
        if method == "GET" and path == "/_control/scenario":
            return await send(conn, 200, {"scenario": self.scenario}, keep=keep)
        if method == "POST" and path == "/_control/reset":
            self.scenario = dict(DEFAULT_SCENARIO)
            self.log = []
            self.changed()
            return await send(conn, 200, {"scenario": self.scenario}, keep=keep)
        if method == "GET" and path == "/_control/log":
            return await send(conn, 200, {"requests": self.log}, keep=keep)
        if method == "GET" and path == "/_control/wait":
            try:
                n = int(req.query.get("n", ""))
                timeout = float(req.query.get("timeout", "5"))
            except ValueError:
                return await send(conn, 400, error_body("n and timeout are numbers",
                                                        "invalid_request_error"), keep=keep)
            log = self.log      # a reset while waiting must not satisfy an old wait

            def ready():
                e = log[n - 1] if 1 <= n <= len(log) else None
                if e is None:
                    return False
                if req.query.get("disconnected") == "1" and not e["client_disconnected"]:
                    return False
                if req.query.get("finished") == "1" and not e["finished"]:
                    return False
                return True
            if await self.wait(ready, timeout):
                return await send(conn, 200, log[n - 1], keep=keep)
            return await send(conn, 408, {"error": {"message": f"request {n} not there in time",
                                                    "type": "timeout"},
                                          "entry": self.entry(n)}, keep=keep)
        return await send(conn, 404, error_body(f"no control endpoint {method} {path}",
                                                "invalid_request_error"), keep=keep)

    def new_entry(self, req, body, status):
        body = body if isinstance(body, dict) else {}
        entry = {"n": len(self.log) + 1, "model": body.get("model"),
                 "stream": body.get("stream") is True, "messages": body.get("messages"),
                 "params": {k: v for k, v in body.items() if k != "messages"},
                 "authorization": req.headers.get("authorization"), "status": status,
                 "client_port": req.client_port,
                 "scenario": None, "tokens_sent": 0, "finished": False,
                 "client_disconnected": False, "disconnected_at": None,
                 "started_at": time.time(), "finished_at": None}
        self.log.append(entry)
        self.changed()
        return entry

    # --- completions -----------------------------------------------------
    async def completion(self, conn, req, keep):
        try:
            body = json.loads(req.body)
        except ValueError as e:
            return await self.refuse(conn, self.new_entry(req, None, 400), error_body(
                f"We could not parse the JSON body of your request: {e}",
                "invalid_request_error"), keep)
        problem = None
        if not isinstance(body, dict):
            problem = "the body must be a JSON object"
        elif not isinstance(body.get("model"), str):
            problem = "you must provide a model parameter"
        elif not isinstance(body.get("messages"), list) or not body["messages"] \
                or not all(isinstance(m, dict) and isinstance(m.get("role"), str)
                           for m in body["messages"]):
            problem = "'messages' must be a non-empty array of {role, content} objects"
        if problem:
            return await self.refuse(conn, self.new_entry(req, body, 400), error_body(
                problem, "invalid_request_error"), keep)
        if body["model"] not in MODELS:
            return await self.refuse(conn, self.new_entry(req, body, 404),
                                     status_error(404, body["model"], {}), keep)
        try:
            scenario = one_off_scenario(body["messages"]) or self.scenario
        except ScenarioError as e:
            return await self.refuse(conn, self.new_entry(req, body, 400),
                                     error_body(str(e), "invalid_request_error"), keep)
        entry = self.new_entry(req, body, 200)
        entry["scenario"] = scenario
        if scenario["mode"] == "status":
            entry["status"] = scenario.get("status", 500)
        watcher = asyncio.ensure_future(self.watch(conn, entry))
        try:
            return await Reply(self, conn, entry, body, scenario, keep).run()
        except ConnectionError:         # a write failed before the watcher saw the close
            self.client_gone(entry)
            return False
        finally:
            watcher.cancel()
            await asyncio.wait([watcher])   # it must stop reading before we do

    async def refuse(self, conn, entry, doc, keep):
        """Answers a completion request with the error in its entry's status."""
        keep = await send(conn, entry["status"], doc, keep=keep)
        self.finish(entry)
        return keep

    async def watch(self, conn, entry):
        await conn.watch()
        self.client_gone(entry)

    def client_gone(self, entry):
        if not entry["finished"] and not entry["client_disconnected"]:
            entry["client_disconnected"] = True
            entry["disconnected_at"] = time.time()
            self.changed()

    def finish(self, entry):
        entry["finished"] = True
        entry["finished_at"] = time.time()
        self.changed()


class Reply:
    """Produces one completion answer as the scenario says."""

    def __init__(self, up, conn, entry, body, scenario, keep):
        self.up = up
        self.conn, self.entry, self.body, self.sc = conn, entry, body, scenario
        self.mode = scenario["mode"]
        self.chunked = scenario.get("transfer", "chunked") == "chunked"
        self.keep = keep and self.chunked and self.mode != "no_done"
        self.model = body["model"]
        self.tokens = tokenize(scenario, body["messages"])
        limit = body.get("max_completion_tokens", body.get("max_tokens"))
        self.finish_reason = "stop"
        if isinstance(limit, int) and not isinstance(limit, bool) and 0 < limit < len(self.tokens):
            self.tokens = self.tokens[:limit]
            self.finish_reason = "length"
        rate = scenario.get("rate", 0)
        self.interval = 1.0 / rate if rate else 0.0
        self.created = int(time.time())
        self.id = f"chatcmpl-{entry['n']}"
        self.nl = "\r\n" if self.mode == "split" else "\n"
        self.rng = random.Random(scenario.get("seed", entry["n"]))

    async def run(self):
        delay = self.sc.get("delay_headers", 0)
        if delay and await self.client_left_within(delay):
            return False
        if self.mode == "status":
            status = self.sc.get("status", 500)
            extra = [("Retry-After", self.sc.get("retry_after", 7))] if status == 429 else []
            await send(self.conn, status, status_error(status, self.model, self.sc),
                       extra=extra, keep=self.keep)
            self.up.finish(self.entry)
            return self.keep
        if self.mode == "garbage":
            await send(self.conn, 200, GARBAGE_BODY, "text/html; charset=utf-8", keep=self.keep)
            self.up.finish(self.entry)
            return self.keep
        if self.body.get("stream") is True:
            return await self.stream()
        return await self.whole()

    async def client_left_within(self, seconds):
        try:
            await asyncio.wait_for(self.conn.gone.wait(), seconds)
            return True
        except asyncio.TimeoutError:
            return False

    def content(self, i):
        return f"{time.time_ns()} " if self.sc.get("stamp") else self.tokens[i]

    async def pace(self, i, start):
        """Sleeps until token i is due; False when the client left meanwhile."""
        if self.interval:
            due = start + i * self.interval - time.monotonic()
            if due > 0:
                await asyncio.sleep(due)
        elif i % 64 == 63:
            await asyncio.sleep(0)      # let other streams run
        return not self.conn.gone.is_set()

    # --- stream: true -----------------------------------------------------
    async def stream(self):
        conn, sc, mode = self.conn, self.sc, self.mode
        conn.chunked = self.chunked
        headers = [("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache")]
        if self.chunked:
            headers.append(("Transfer-Encoding", "chunked"))
        headers.append(("Connection", "keep-alive" if self.keep else "close"))
        conn.write(head_bytes(200, headers))
        prefix = ('data: {"id":%s,"object":"chat.completion.chunk","created":%d,"model":%s,'
                  '"choices":[{"index":0,"delta":' % (json.dumps(self.id), self.created,
                                                      json.dumps(self.model)))
        await self.event(prefix + '{"role":"assistant","content":""},"finish_reason":null}]}')
        n = len(self.tokens)
        if mode in ("stall", "cut"):
            n = min(n, sc.get(mode + "_after", 0))
        bad_at = sc.get("malformed_after", 0) if mode == "malformed" else None
        start = time.monotonic()
        for i in range(n):
            if i == bad_at:
                await self.event(MALFORMED_EVENT)
            if not await self.pace(i, start):
                return False
            text = json.dumps(self.content(i), ensure_ascii=False)
            await self.event(prefix + '{"content":' + text + '},"finish_reason":null}]}')
            self.entry["tokens_sent"] = i + 1
        if bad_at is not None and bad_at >= n:
            await self.event(MALFORMED_EVENT)
        if mode == "stall":
            await conn.gone.wait()      # the watcher records the disconnect
            return False
        if mode == "cut":
            conn.abort()                # no final chunk, no [DONE], no chunked terminator
            return False
        await self.event(prefix + '{},"finish_reason":%s}]}' % json.dumps(self.finish_reason))
        opts = self.body.get("stream_options")
        if isinstance(opts, dict) and opts.get("include_usage") is True:
            await self.event(prefix[:prefix.index('"choices"')] + '"choices":[],"usage":%s}'
                             % json.dumps(self.usage()))
        if mode != "no_done":
            await self.event("data: [DONE]")
        if sc.get("linger"):
            await conn.drain()
            await asyncio.sleep(sc["linger"])
        if self.chunked:
            conn.write(b"0\r\n\r\n")
        self.up.finish(self.entry)     # before the drain: the client may close at once
        await conn.drain()
        return self.keep

    async def event(self, line):
        data = (line + self.nl + self.nl).encode()
        if self.mode == "split":
            await self.write_split(data)
        else:
            self.conn.write_body(data)
            await self.conn.drain()

    async def write_split(self, data):
        """data in pieces of 1-7 bytes, each its own write (and HTTP chunk),
        always cutting inside every CRLF and every multi-byte character."""
        forced = {i + 1 for i in range(len(data) - 1)
                  if data[i:i + 2] == b"\r\n" or (data[i] >= 0xC0)}
        pos = 0
        while pos < len(data):
            end = min(len(data), pos + self.rng.randint(1, 7))
            cut = next((c for c in range(pos + 1, end) if c in forced), end)
            self.conn.write_body(data[pos:cut])
            await self.conn.drain()
            await asyncio.sleep(self.rng.choice((0, 0, 0.0005, 0.001)))
            if self.conn.gone.is_set():
                raise ConnectionResetError("client gone")
            pos = cut

    # --- stream: false ----------------------------------------------------
    async def whole(self):
        conn, mode = self.conn, self.mode
        n = len(self.tokens)
        if mode in ("stall", "cut"):
            n = min(n, self.sc.get(mode + "_after", 0))
        if self.interval and await self.client_left_within(n * self.interval):
            return False
        if mode == "stall":
            await conn.gone.wait()
            return False
        if mode == "cut":
            conn.abort()
            return False
        if mode == "malformed":
            await send(conn, 200, MALFORMED_EVENT[len("data: "):].encode(), keep=self.keep)
            self.up.finish(self.entry)
            return self.keep
        text = "".join(self.content(i) for i in range(n))
        self.entry["tokens_sent"] = n
        doc = {"id": self.id, "object": "chat.completion", "created": self.created,
               "model": self.model,
               "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                            "finish_reason": self.finish_reason}],
               "usage": self.usage()}
        if mode != "split":
            await send(conn, 200, doc, keep=self.keep)
        else:
            data = json.dumps(doc, ensure_ascii=False).encode()
            conn.write(head_bytes(200, [("Content-Type", "application/json"),
                                        ("Content-Length", len(data)),
                                        ("Connection", "keep-alive" if self.keep else "close")]))
            await self.write_split(data)
        self.up.finish(self.entry)
        return self.keep

    def usage(self):
        prompt = count_words(self.body["messages"])
        return {"prompt_tokens": prompt, "completion_tokens": len(self.tokens),
                "total_tokens": prompt + len(self.tokens)}


async def serve_connection(up, reader, writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    conn = Conn(reader, writer)
    keep = True
    try:
        while keep:
            try:
                req = await read_request(conn)
            except BadRequest as e:
                await send(conn, 400, error_body(str(e), "invalid_request_error"), keep=False)
                break
            if req is None:
                break
            conn.chunked = False
            peer = writer.get_extra_info("peername")
            req.client_port = peer[1] if peer else None
            keep = await up.handle(conn, req)
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    except Exception as e:     # a bug here must not take the server down
        print(f"fake_upstream: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        conn.abort()
    finally:
        if not writer.is_closing():
            writer.close()


def write_port_file(path, port):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(f"{port}\n")
    os.replace(tmp, path)


async def main(args):
    up = Upstream(args.api_key)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)   # benchmarks open 1,000+ sockets
    want = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    server = await asyncio.start_server(lambda r, w: serve_connection(up, r, w),
                                        args.host, args.port, backlog=4096)
    port = server.sockets[0].getsockname()[1]
    if args.port_file:
        write_port_file(args.port_file, port)
    print(f"listening on {port}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with server:
        await stop.wait()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Fake OpenAI-compatible upstream for tests.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--api-key")
    asyncio.run(main(parser.parse_args()))
