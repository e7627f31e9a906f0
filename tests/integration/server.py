"""A chatbot server process under test, and an HTTPS client for it."""
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

SANITIZED = os.environ.get("CHATBOT_SANITIZED") == "1"
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers          # lower-cased names
        self.body = body

    def json(self):
        return json.loads(self.body)

    def header(self, name):
        return self.headers.get(name.lower())

    def __repr__(self):
        return f"<Response {self.status} {self.body[:200]!r}>"


class Server:
    def __init__(self, binary, instance, args=(), env=None, http=False):
        self.binary = binary
        self.instance = str(instance)
        self.args = list(args)
        self.env = dict(os.environ)
        self.env.pop("CHATBOT_INSTANCE", None)
        self.env.update(env or {})
        self.http = http
        self.port = free_port()
        self.proc = None
        self.output = []                # stdout+stderr lines
        self._reader = None

    # --- process -------------------------------------------------------
    def command(self, *extra):
        cmd = [self.binary, "--instance", self.instance, "serve",
               "--bind", "127.0.0.1", "--port", str(self.port)]
        if self.http:
            cmd.append("--http")
        return cmd + self.args + list(extra)

    def start(self, timeout=20):
        os.makedirs(self.instance, exist_ok=True)
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, env=self.env,
                                     cwd=os.path.dirname(os.path.dirname(os.path.dirname(
                                         os.path.abspath(__file__)))))
        ready = threading.Event()

        def read():
            for line in self.proc.stdout:
                self.output.append(line.rstrip("\n"))
                if "chatbot: serving" in line:
                    ready.set()
        self._reader = threading.Thread(target=read, daemon=True)
        self._reader.start()
        deadline = time.time() + timeout
        while time.time() < deadline:
            if ready.wait(0.05):
                return self
            if self.proc.poll() is not None:
                break
        self._reader.join(2)
        raise RuntimeError("server did not start:\n" + "\n".join(self.output))

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        if self._reader:
            self._reader.join(5)
        self.proc = None
        if SANITIZED:
            reports = [l for l in self.output if any(m in l for m in SANITIZER_MARKERS)]
            assert not reports, "sanitizer report:\n" + "\n".join(self.output[-80:])
        return rc

    def log_text(self):
        return "\n".join(self.output)

    # --- client --------------------------------------------------------
    @property
    def cert(self):
        return os.path.join(self.instance, "tls", "cert.pem")

    def tls_context(self, minimum=None, maximum=None):
        ctx = ssl.create_default_context(cafile=self.cert)
        if minimum:
            ctx.minimum_version = minimum
        if maximum:
            ctx.maximum_version = maximum
        return ctx

    def connection(self, timeout=30, context=None):
        if self.http:
            return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        return http.client.HTTPSConnection("127.0.0.1", self.port, timeout=timeout,
                                           context=context or self.tls_context())

    def request(self, method, path, body=None, headers=None, json_body=None, raw=None):
        """One request on a new connection. json_body is encoded as JSON;
        raw is sent as bytes untouched; body (str) is sent as UTF-8."""
        hdrs = dict(headers or {})
        data = None
        if json_body is not None:
            data = json.dumps(json_body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif raw is not None:
            data = raw
        elif body is not None:
            data = body.encode()
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=hdrs)
            resp = conn.getresponse()
            payload = resp.read()
            headers_lc = {k.lower(): v for k, v in resp.getheaders()}
            return Response(resp.status, headers_lc, payload)
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, obj=None, **kw):
        return self.request("POST", path, json_body=obj, **kw)

    def patch(self, path, obj=None, **kw):
        return self.request("PATCH", path, json_body=obj, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def problem(resp, status):
    """Asserts resp is a problem+json answer with that status; returns it."""
    assert resp.status == status, resp
    assert resp.header("content-type").startswith("application/problem+json"), resp.headers
    doc = resp.json()
    assert doc["status"] == status
    assert doc["title"] and "type" in doc
    return doc


def run_cli(binary, instance, *args, input=None, env=None, timeout=60):
    e = dict(os.environ)
    e.pop("CHATBOT_INSTANCE", None)
    e.update(env or {})
    return subprocess.run([binary, "--instance", str(instance), *args], capture_output=True,
                          text=True, input=input, env=e, timeout=timeout)


