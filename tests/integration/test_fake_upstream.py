"""The fake OpenAI-compatible upstream (tests/fake_upstream.py) itself: the
chat tests trust it, so here it is checked against the protocol on the wire."""
import http.client
import json
import socket
import threading
import time

import pytest

from upstream import FakeUpstream, one_off, parse_sse

DEFAULT_TEXT = "Hello from the fake upstream."
UTF8_TEXT = "héllo wörld ✓ 👋"


@pytest.fixture(scope="module")
def server():
    up = FakeUpstream().start()
    yield up
    assert up.stop() == "", "the fake wrote to stderr"


@pytest.fixture
def up(server):
    server.reset()
    return server


def chat(up, content="hi", stream=True, model="fake-small", headers=None, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}], **extra}
    if stream is not None:
        body["stream"] = stream
    return up.request("POST", "/v1/chat/completions", body, headers)


def chunks_of(body):
    """An SSE body's chunk objects (each must be JSON), and whether it ended with [DONE]."""
    events = parse_sse(body)
    done = bool(events) and events[-1] == "[DONE]"
    return [json.loads(e) for e in events if e != "[DONE]"], done


def text_of(chunks):
    return "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])


def raw(up, request, timeout=10):
    """Sends bytes on a fresh socket and reads until the server closes."""
    with socket.create_connection(("127.0.0.1", up.port), timeout=timeout) as s:
        s.sendall(request)
        data = b""
        while True:
            part = s.recv(65536)
            if not part:
                return data
            data += part


def post_bytes(path, body, extra=""):
    return (f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n").encode() + body


def dechunk(data):
    """A chunked body → (list of chunk payloads, saw the terminating 0 chunk)."""
    out = []
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            return out, True
        assert data[size:size + 2] == b"\r\n" or len(data) < size + 2
        out.append(data[:size])
        data = data[size + 2:]
    return out, False


def split_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (l.partition(":") for l in lines[1:])}
    return int(lines[0].split(" ")[1]), headers, body


# --- process and plain endpoints -------------------------------------------

def test_announces_port(server):
    assert server.banner == f"listening on {server.port}"


def test_models(up):
    status, headers, body = up.request("GET", "/v1/models")
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["object"] == "list"
    assert [(m["id"], m["object"], m["owned_by"]) for m in doc["data"]] == \
        [("fake-small", "model", "fake"), ("fake-large", "model", "fake")]


def test_unknown_paths_are_404_error_json(up):
    for method, path in (("GET", "/"), ("GET", "/v1/completions"), ("POST", "/v1/models"),
                         ("GET", "/v1/chat/completions"), ("GET", "/_control/nothing")):
        status, _, body = up.request(method, path)
        assert status == 404, (method, path)
        assert json.loads(body)["error"]["message"]


# --- completions ------------------------------------------------------------

def test_non_stream_completion(up):
    status, headers, body = chat(up, stream=False, model="fake-large")
    assert status == 200 and headers["content-type"] == "application/json"
    doc = json.loads(body)
    assert doc["object"] == "chat.completion" and doc["model"] == "fake-large"
    assert doc["id"].startswith("chatcmpl-")
    choice = doc["choices"][0]
    assert choice["message"] == {"role": "assistant", "content": DEFAULT_TEXT}
    assert choice["finish_reason"] == "stop"
    assert doc["usage"]["completion_tokens"] == 5
    assert doc["usage"]["total_tokens"] == doc["usage"]["prompt_tokens"] + 5
    entry = up.wait(1, finished=True)
    assert entry["stream"] is False and entry["tokens_sent"] == 5


def test_stream_reassembles_and_ends_with_done(up):
    status, headers, body = chat(up, headers={"Authorization": "Bearer whatever"})
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    assert headers["transfer-encoding"] == "chunked"
    chunks, done = chunks_of(body)
    assert done and body.endswith(b"data: [DONE]\n\n")
    assert text_of(chunks) == DEFAULT_TEXT
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "finish_reason": "stop"}
    for c in chunks:
        assert c["object"] == "chat.completion.chunk" and c["model"] == "fake-small"
        assert c["id"] == chunks[0]["id"] and isinstance(c["created"], int)
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    [entry] = up.log()
    assert entry["n"] == 1 and entry["stream"] is True and entry["model"] == "fake-small"
    assert entry["messages"] == [{"role": "user", "content": "hi"}]
    assert entry["authorization"] == "Bearer whatever"
    assert entry["tokens_sent"] == 5 and entry["finished"] is True
    assert entry["client_disconnected"] is False and entry["disconnected_at"] is None
    assert abs(entry["started_at"] - time.time()) < 60


def test_usage_chunk_and_max_tokens(up):
    _, _, body = chat(up, stream_options={"include_usage": True}, max_tokens=3)
    chunks, done = chunks_of(body)
    assert done and text_of(chunks) == "Hello from the"
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 3


def test_tokens_and_rate(up):
    up.set_scenario(tokens=20, rate=50)
    t0 = time.monotonic()
    _, _, body = chat(up)
    elapsed = time.monotonic() - t0
    chunks, done = chunks_of(body)
    assert done and text_of(chunks) == " ".join(f"tok{i}" for i in range(20))
    assert 0.3 <= elapsed < 3, elapsed     # 19 gaps of 20 ms
    up.set_scenario(tokens=3000, rate=0)
    t0 = time.monotonic()
    chunks, done = chunks_of(chat(up)[2])
    assert done and len(chunks) == 3002 and time.monotonic() - t0 < 5


@pytest.mark.parametrize("code", [401, 404, 429, 500, 503])
@pytest.mark.parametrize("stream", [True, False])
def test_status_mode(up, code, stream):
    up.set_scenario(mode="status", status=code)
    status, headers, body = chat(up, stream=stream)
    assert status == code and headers["content-type"] == "application/json"
    err = json.loads(body)["error"]
    assert err["message"] and err["type"]
    assert headers.get("retry-after") == ("7" if code == 429 else None)
    if code == 401:
        assert err["code"] == "invalid_api_key"
    assert up.wait(1, finished=True)["status"] == code


def test_one_off_scenario(up):
    _, _, body = chat(up, one_off(text="just this once", rate=0))
    assert text_of(chunks_of(body)[0]) == "just this once"
    status, _, _ = chat(up, one_off(mode="status", status=429))
    assert status == 429
    # only the LAST user message counts, and the next request has the default again
    body = {"model": "fake-small", "stream": True,
            "messages": [{"role": "user", "content": one_off(text="old")},
                         {"role": "assistant", "content": "old"},
                         {"role": "user", "content": "#fake is just text here"}]}
    assert text_of(chunks_of(up.request("POST", "/v1/chat/completions", body)[2])[0]) == \
        DEFAULT_TEXT
    # a one-off merges over the defaults, not over the scenario in force
    up.set_scenario(text="global")
    _, _, body = chat(up, one_off(rate=0))
    assert text_of(chunks_of(body)[0]) == DEFAULT_TEXT
    assert text_of(chunks_of(chat(up)[2])[0]) == "global"


def test_echo(up):
    up.set_scenario(echo=True, rate=0)
    messages = [{"role": "system", "content": "be brief"},
                {"role": "user", "content": "line one\nline \"two\" " + UTF8_TEXT}]
    body = {"model": "fake-small", "stream": True, "messages": messages}
    _, _, data = up.request("POST", "/v1/chat/completions", body)
    assert json.loads(text_of(chunks_of(data)[0])) == messages
    body["stream"] = False
    _, _, data = up.request("POST", "/v1/chat/completions", body)
    assert json.loads(json.loads(data)["choices"][0]["message"]["content"]) == messages


def test_stamp(up):
    up.set_scenario(stamp=True, tokens=5, rate=100)
    before = time.time_ns()
    chunks, done = chunks_of(chat(up)[2])
    stamps = [int(c["choices"][0]["delta"]["content"]) for c in chunks[1:-1]]
    assert done and len(stamps) == 5 and stamps == sorted(stamps)
    assert before <= stamps[0] and stamps[-1] <= time.time_ns()


def test_delay_headers(up):
    up.set_scenario(delay_headers=0.5)
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", json.dumps(
        {"model": "fake-small", "messages": [{"role": "user", "content": "x"}], "stream": True}))
    resp = conn.getresponse()
    assert time.monotonic() - t0 >= 0.45 and resp.status == 200
    assert chunks_of(resp.read())[1]
    conn.close()


def test_bad_requests(up):
    status, _, body = up.request("POST", "/v1/chat/completions", b'{"model": "fake-small", ')
    assert status == 400 and json.loads(body)["error"]["type"] == "invalid_request_error"
    status, _, body = chat(up, model="gpt-17")
    assert status == 404 and json.loads(body)["error"]["code"] == "model_not_found"
    for bad in ({"model": "fake-small"}, {"model": "fake-small", "messages": []},
                {"messages": [{"role": "user", "content": "x"}]}, [1, 2]):
        status, _, body = up.request("POST", "/v1/chat/completions", bad)
        assert status == 400 and json.loads(body)["error"]["message"], bad
    status, _, _ = chat(up, "#fake {not json")
    assert status == 400
    status, _, _ = chat(up, one_off(mode="nope"))
    assert status == 400
    assert [e["status"] for e in up.log()] == [400, 404, 400, 400, 400, 400, 400, 400]
    assert all(e["finished"] and not e["client_disconnected"] for e in up.log())
    for bad in ({"rate": -1}, {"mode": "explode"}, {"tokens": "5"}, {"typo": 1},
                {"echo": 1}, {"tokens": True}):
        status, doc = up.control("POST", "scenario", bad)
        assert status == 400 and doc["error"]["message"], bad
    assert up.control("POST", "scenario", b"[")[0] == 400
    assert up.control("GET", "scenario")[1]["scenario"]["mode"] == "ok"


def test_api_key():
    with FakeUpstream(api_key="s3cret") as up:
        expected = {"error": {"message": "Invalid API key", "type": "invalid_request_error",
                              "param": None, "code": "invalid_api_key"}}
        for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "s3cret"}):
            status, _, body = chat(up, headers=headers)
            assert status == 401 and json.loads(body) == expected, headers
            assert up.request("GET", "/v1/models", headers=headers)[0] == 401
        good = {"Authorization": "Bearer s3cret"}
        status, _, body = chat(up, headers=good)
        assert status == 200 and chunks_of(body)[1]
        assert up.request("GET", "/v1/models", headers=good)[0] == 200
        assert [e["authorization"] for e in up.log()] == \
            [None, "Bearer nope", "s3cret", "Bearer s3cret"]
        assert [e["status"] for e in up.log()] == [401, 401, 401, 200]


# --- failure modes on the wire ------------------------------------------------

def stream_request(content="hi"):
    body = json.dumps({"model": "fake-small", "stream": True,
                       "messages": [{"role": "user", "content": content}]}).encode()
    return post_bytes("/v1/chat/completions", body)


def test_cut_closes_without_done(up):
    up.set_scenario(mode="cut", cut_after=3, rate=0)
    status, headers, body = split_response(raw(up, stream_request()))
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    pieces, terminated = dechunk(body)
    assert not terminated
    chunks, done = chunks_of(b"".join(pieces))
    assert not done and text_of(chunks) == "Hello from the"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)
    entry = up.wait(1)
    assert entry["tokens_sent"] == 3 and not entry["finished"]
    assert not entry["client_disconnected"]


def test_stall_then_client_disconnect_is_seen_within_2s(up):
    up.set_scenario(mode="stall", stall_after=2, rate=0)
    s = socket.create_connection(("127.0.0.1", up.port), timeout=10)
    s.sendall(stream_request())
    data = b""
    while data.count(b'"content"') < 3:      # the role chunk and two tokens
        data += s.recv(65536)
    time.sleep(0.3)
    entry = up.log()[0]
    assert entry["tokens_sent"] == 2 and not entry["client_disconnected"]
    closed_at = time.time()
    s.close()
    entry = up.wait(1, disconnected=True, timeout=2)
    assert entry is not None, up.log()
    assert entry["client_disconnected"] and not entry["finished"]
    assert 0 <= entry["disconnected_at"] - closed_at < 2


def test_client_disconnect_mid_stream_is_recorded(up):
    up.set_scenario(tokens=1000, rate=50)
    conn = http.client.HTTPConnection("127.0.0.1", up.port, timeout=10)
    conn.request("POST", "/v1/chat/completions", stream_request().split(b"\r\n\r\n", 1)[1],
                 {"Content-Type": "application/json"})
    resp = conn.getresponse()
    resp.read1(100)
    conn.close()
    entry = up.wait(1, disconnected=True, timeout=2)
    assert entry is not None and 0 < entry["tokens_sent"] < 1000
    assert up.wait(1, finished=True, timeout=0.5) is None   # 408: it never finishes


def test_split_mode_reassembles_utf8_byte_exactly(up):
    up.set_scenario(mode="split", text=UTF8_TEXT, rate=0)
    status, headers, body = split_response(raw(up, stream_request().replace(
        b"Host: x\r\n", b"Host: x\r\nConnection: close\r\n")))
    assert status == 200 and headers["transfer-encoding"] == "chunked"
    pieces, terminated = dechunk(body)
    assert terminated and all(1 <= len(p) <= 7 for p in pieces)
    sse = b"".join(pieces)
    # cut inside multi-byte characters and inside CRLF, and CRLF line ends
    assert any(p[-1:] in (b"\xc3", b"\xe2", b"\xf0") for p in pieces)
    assert any(p.endswith(b"\r") for p in pieces)
    assert sse.endswith(b"data: [DONE]\r\n\r\n") and b"\n\n" not in sse
    chunks, done = chunks_of(sse)
    assert done and text_of(chunks) == UTF8_TEXT
    # the same over http.client, and a non-streamed reply in pieces too
    chunks, done = chunks_of(chat(up)[2])
    assert done and text_of(chunks) == UTF8_TEXT
    status, _, body = chat(up, stream=False)
    assert json.loads(body)["choices"][0]["message"]["content"] == UTF8_TEXT


def test_malformed_event(up):
    up.set_scenario(mode="malformed", malformed_after=2, rate=0)
    _, _, body = chat(up)
    events = parse_sse(body)
    assert '{"choices": [ {not json' in events and events[-1] == "[DONE]"
    bad = events.index('{"choices": [ {not json')
    good = [json.loads(e) for e in events[:-1] if e != events[bad]]
    assert text_of(good) == DEFAULT_TEXT
    assert text_of(good[:bad]) == "Hello from"      # the role chunk + two tokens before it
    status, _, body = chat(up, stream=False)
    with pytest.raises(ValueError):
        json.loads(body)


def test_garbage(up):
    up.set_scenario(mode="garbage")
    status, headers, body = chat(up)
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert parse_sse(body) == [] and body.startswith(b"<!DOCTYPE html>")


def test_no_done(up):
    up.set_scenario(mode="no_done", rate=0)
    status, headers, body = split_response(raw(up, stream_request()))
    pieces, terminated = dechunk(body)
    chunks, done = chunks_of(b"".join(pieces))
    assert terminated and not done and text_of(chunks) == DEFAULT_TEXT
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert headers["connection"] == "close"
    assert up.wait(1, finished=True)["finished"]


def test_transfer_close(up):
    up.set_scenario(transfer="close", rate=0)
    status, headers, body = split_response(raw(up, stream_request()))
    assert headers["connection"] == "close" and "transfer-encoding" not in headers
    assert "content-length" not in headers
    chunks, done = chunks_of(body)
    assert done and text_of(chunks) == DEFAULT_TEXT and body.endswith(b"data: [DONE]\n\n")


# --- HTTP/1.1 details -------------------------------------------------------------

def test_keep_alive_chunked_request_and_expect_continue(up):
    body = json.dumps({"model": "fake-small", "stream": True,
                       "messages": [{"role": "user", "content": "chunked"}]}).encode()
    chunked = (b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n"
               + b"".join(b"%x;ext=1\r\n%s\r\n" % (len(body[i:i + 10]), body[i:i + 10])
                          for i in range(0, len(body), 10)) + b"0\r\nX-Trailer: 1\r\n\r\n")
    with socket.create_connection(("127.0.0.1", up.port), timeout=10) as s:
        s.sendall(chunked)
        f = s.makefile("rb")
        # first answer: read it through its terminating chunk on the kept-alive socket
        assert f.readline().startswith(b"HTTP/1.1 200")
        while f.readline() != b"\r\n":
            pass
        sse = b""
        while True:
            size = int(f.readline(), 16)
            if size == 0:
                assert f.readline() == b"\r\n"
                break
            sse += f.read(size + 2)[:-2]
        assert text_of(chunks_of(sse)[0]) == DEFAULT_TEXT
        # second request on the same connection waits for 100 Continue
        body = json.dumps({"model": "fake-small", "messages": [{"role": "user", "content": "x"}]})
        s.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode())
        assert f.readline() == b"HTTP/1.1 100 Continue\r\n" and f.readline() == b"\r\n"
        s.sendall(body.encode())
        status, headers, rest = split_response(f.read())
        assert status == 200 and headers["connection"] == "close"
        assert json.loads(rest)["choices"][0]["message"]["content"] == DEFAULT_TEXT
    assert [e["messages"][0]["content"] for e in up.log()] == ["chunked", "x"]


def test_garbage_http_is_400(up):
    status, _, _ = split_response(raw(up, b"HELLO\r\n\r\n"))
    assert status == 400


# --- control ------------------------------------------------------------------------

def test_reset_and_wait(up):
    up.set_scenario(text="changed")
    chat(up)
    assert len(up.log()) == 1
    up.reset()
    assert up.log() == [] and up.control("GET", "scenario")[1]["scenario"]["text"] == DEFAULT_TEXT
    t0 = time.monotonic()
    assert up.wait(1, timeout=0.3) is None and time.monotonic() - t0 >= 0.25
    threading.Timer(0.3, lambda: chat(up)).start()
    entry = up.wait(1, finished=True, timeout=5)
    assert entry is not None and entry["n"] == 1 and entry["finished"]


def test_200_concurrent_streams(up):
    up.set_scenario(tokens=20, rate=40)
    results = [None] * 200

    def one(i):
        try:
            status, _, body = chat(up, f"stream {i}")
            chunks, done = chunks_of(body)
            results[i] = status == 200 and done and len(chunks) == 22
        except Exception as e:      # recorded, asserted below
            results[i] = repr(e)
    t0 = time.monotonic()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == [True] * 200
    assert time.monotonic() - t0 < 30
    log = up.log()
    assert len(log) == 200 and all(e["finished"] and e["tokens_sent"] == 20 for e in log)
    assert sorted(e["messages"][0]["content"] for e in log) == \
        sorted(f"stream {i}" for i in range(200))
