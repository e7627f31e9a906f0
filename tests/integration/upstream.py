"""FakeUpstream: tests/fake_upstream.py as a subprocess, and its control API.

    with FakeUpstream(api_key="k") as up:       # or up = FakeUpstream().start()
        env = {"CHATBOT_LLM_URL": up.url, "CHATBOT_LLM_API_KEY": "k"}
        up.set_scenario(mode="stall", stall_after=2)
        ...                                     # drive the chatbot server
        entry = up.wait(1, disconnected=True, timeout=2)
        assert entry is not None, up.log()

See docs/testing.md for the scenario fields.
"""
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "fake_upstream.py")


class FakeUpstream:
    def __init__(self, api_key=None):
        self.api_key = api_key
        self.port = None
        self.proc = None
        self.dir = None
        self.banner = None              # the "listening on PORT" line

    def start(self, timeout=10):
        self.dir = tempfile.TemporaryDirectory(prefix="fake-upstream-")
        port_file = os.path.join(self.dir.name, "port")
        cmd = [sys.executable, SCRIPT, "--port", "0", "--port-file", port_file]
        if self.api_key is not None:
            cmd += ["--api-key", self.api_key]
        self.stderr = open(os.path.join(self.dir.name, "stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        deadline = time.time() + timeout
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                self.stop()
                raise RuntimeError("fake upstream did not start")
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        self.banner = self.proc.stdout.readline().strip()
        return self

    def stop(self):
        """Stops the process; returns what it wrote to stderr (empty when all went well)."""
        errors = ""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc = None
            self.stderr.seek(0)
            errors = self.stderr.read()
            self.stderr.close()
        if self.dir is not None:
            self.dir.cleanup()
            self.dir = None
        return errors

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self):
        """The base URL a client is configured with (CHATBOT_LLM_URL)."""
        return self.base + "/v1"

    # --- plain requests ----------------------------------------------------
    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a new connection → (status, lower-cased headers, body bytes).
        body: bytes, or any JSON-able object."""
        if body is not None and not isinstance(body, bytes):
            body = json.dumps(body).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=dict(headers or {}))
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def control(self, method, path, body=None, timeout=30):
        status, _, data = self.request(method, "/_control/" + path, body, timeout=timeout)
        return status, json.loads(data)

    # --- control API -------------------------------------------------------
    def set_scenario(self, scenario=None, **fields):
        """Replaces the scenario for every following completion request."""
        status, doc = self.control("POST", "scenario", {**(scenario or {}), **fields})
        assert status == 200, doc
        return doc["scenario"]

    def reset(self):
        """The default scenario again, an empty log, numbering from 1."""
        status, doc = self.control("POST", "reset", {})
        assert status == 200, doc

    def log(self):
        return self.control("GET", "log")[1]["requests"]

    def wait(self, n, disconnected=False, finished=False, timeout=5):
        """Request n's log entry once it arrived (and, if asked, once the
        client disconnected / it finished), or None after timeout seconds."""
        q = f"wait?n={n}&timeout={timeout}"
        q += "&disconnected=1" if disconnected else ""
        q += "&finished=1" if finished else ""
        status, doc = self.control("GET", q, timeout=timeout + 10)
        return doc if status == 200 else None


def one_off(**scenario):
    """A user message content that gives one request its own scenario."""
    return "#fake " + json.dumps(scenario)


def parse_sse(data):
    """bytes of an SSE body → list of the `data` payloads (str) of its events,
    accepting LF, CRLF and CR line ends as the SSE specification does."""
    text = data.decode("utf-8")
    events, lines = [], []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        if line == "":
            if lines:
                events.append("\n".join(lines))
                lines = []
        elif line.startswith("data:"):
            value = line[5:]
            lines.append(value[1:] if value.startswith(" ") else value)
    return events
