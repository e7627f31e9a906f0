"""The HTTP server itself: TLS, health, OpenAPI, headers, errors, static
files, logging, configuration and shutdown."""
import json
import os
import signal
import socket
import ssl
import subprocess
import threading
import time

import pytest

from server import Server, problem

SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "referrer-policy",
                    "x-frame-options", "strict-transport-security")


def test_health(notes):
    r = notes.get("/api/v1/health")
    assert r.status == 200, r
    doc = r.json()
    assert doc["status"] == "ok" and doc["db"] == "ok" and doc["version"]


def test_openapi_document_is_served_and_complete(notes):
    r = notes.get("/api/v1/openapi.json")
    assert r.status == 200 and r.header("content-type").startswith("application/json")
    doc = r.json()
    assert doc["openapi"].startswith("3.1")
    assert "/api/v1/notes" in doc["paths"] and "/api/v1/notes/{id}" in doc["paths"]
    assert set(doc["paths"]["/api/v1/notes/{id}"]) >= {"get", "patch", "delete"}
    assert "/api/v1/notes/{note_id}/tags" in doc["paths"]


def test_app_serves_its_own_openapi(app):
    doc = app.get("/api/v1/openapi.json").json()
    paths = doc["paths"]
    for p in ("/api/v1/conversations", "/api/v1/conversations/{id}",
              "/api/v1/conversations/{conversation_id}/messages", "/api/v1/health",
              "/api/v1/admin/users", "/api/v1/tokens"):
        assert p in paths, p


def test_app_resources_need_a_signed_in_user(app):
    for path in ("/api/v1/conversations", "/api/v1/tokens", "/api/v1/admin/users"):
        problem(app.get(path), 401)
    problem(app.post("/api/v1/conversations", {"title": "x"}), 401)


@pytest.mark.parametrize("method,path", [("GET", "/api/v1/health"), ("GET", "/nope"),
                                         ("GET", "/api/v1/nope"), ("PUT", "/api/v1/health"),
                                         ("GET", "/static/does-not-exist.css")])
def test_security_headers_on_every_response(notes, method, path):
    r = notes.request(method, path)
    for h in SECURITY_HEADERS:
        assert r.header(h), (h, r.status, r.headers)
    csp = r.header("content-security-policy")
    assert "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert r.header("x-content-type-options") == "nosniff"
    assert "max-age=63072000" in r.header("strict-transport-security")


def test_unknown_api_path_is_404_problem(notes):
    problem(notes.get("/api/v1/nope"), 404)
    problem(notes.request("DELETE", "/api/v1/nope/1"), 404)


def test_tls12_and_tls13_accepted_older_refused(notes):
    for version in (ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3):
        ctx = notes.tls_context(minimum=version, maximum=version)
        conn = notes.connection(context=ctx)
        conn.request("GET", "/api/v1/health")
        assert conn.getresponse().status == 200
        assert conn.sock.version() == {"TLSv1_2": "TLSv1.2", "TLSv1_3": "TLSv1.3"}[version.name]
        conn.close()
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = ssl.TLSVersion.TLSv1_1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pytest.skip("this Python's OpenSSL cannot offer TLS 1.1 at all")
    with pytest.raises((ssl.SSLError, ConnectionResetError, OSError)):
        with socket.create_connection(("127.0.0.1", notes.port), timeout=5) as raw:
            with ctx.wrap_socket(raw) as tls:
                tls.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                if not tls.recv(100):
                    raise ConnectionResetError("closed")


def test_certificate_is_self_signed_for_localhost(notes):
    # the client context verifies the chain and hostname 127.0.0.1 against instance/tls/cert.pem
    assert os.path.exists(notes.cert)
    key = os.path.join(notes.instance, "tls", "key.pem")
    assert os.stat(key).st_mode & 0o077 == 0, "private key must not be readable by others"
    with socket.create_connection(("127.0.0.1", notes.port)) as raw:
        ctx = notes.tls_context()
        with ctx.wrap_socket(raw, server_hostname="localhost") as tls:
            cert = tls.getpeercert()
    sans = {v for _, v in cert["subjectAltName"]}
    assert {"localhost", "127.0.0.1"} <= sans


def test_access_log_line_per_request_without_query_or_body(notes):
    notes.get("/api/v1/notes?limit=2")
    notes.get("/api/v1/notes?limit=2&cursor=SECRETCURSOR")
    notes.post("/api/v1/notes", {"title": "TOPSECRETBODY"})
    time.sleep(0.3)
    log = notes.log_text()
    assert "SECRETCURSOR" not in log and "TOPSECRETBODY" not in log
    lines = [l for l in notes.output if "GET /api/v1/notes" in l]
    assert lines, log[-2000:]
    assert any(" 200 " in l and "ms" in l for l in lines), lines


def test_static_files(make_server, tmp_path):
    static = tmp_path / "static"
    (static / "css").mkdir(parents=True)
    (static / "css" / "app.css").write_text("body{color:red}\n")
    (static / "app.js").write_text("export const x = 1;\n")
    (static / "icons.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>\n")
    (tmp_path / "secret.txt").write_text("do not serve\n")
    os.symlink(tmp_path / "secret.txt", static / "link.txt")
    srv = make_server(env={"CHATBOT_STATIC_DIR": str(static)}).start()
    r = srv.get("/static/css/app.css")
    assert r.status == 200 and r.body == b"body{color:red}\n"
    assert r.header("content-type").startswith("text/css")
    etag = r.header("etag")
    assert etag and r.header("cache-control")
    assert srv.get("/static/css/app.css", headers={"If-None-Match": etag}).status == 304
    assert srv.get("/static/app.js").header("content-type").startswith("text/javascript")
    assert srv.get("/static/icons.svg").header("content-type").startswith("image/svg+xml")
    assert "immutable" in srv.get("/static/app.js?v=abc123").header("cache-control")
    for evil in ("/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
                 "/static/css/../../secret.txt", "/static/link.txt", "/static//etc/passwd",
                 "/static/%00x", "/static/..\\secret.txt", "/static/"):
        r = srv.get(evil)
        assert r.status == 404, (evil, r)
        assert b"do not serve" not in r.body


def test_plain_http_mode_has_no_hsts(make_server):
    srv = make_server(http=True).start()
    r = srv.get("/api/v1/health")
    assert r.status == 200 and r.header("strict-transport-security") is None
    assert r.header("content-security-policy")


def test_graceful_shutdown_finishes_requests_in_flight(make_server):
    srv = make_server().start()
    # a slow client: send the headers and half the body, then finish after SIGTERM
    body = json.dumps({"title": "in flight"}).encode()
    conn = srv.connection()
    conn.putrequest("POST", "/api/v1/notes")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(len(body)))
    conn.endheaders()
    conn.send(body[:5])
    time.sleep(0.3)
    srv.proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)
    conn.send(body[5:])
    resp = conn.getresponse()
    assert resp.status == 201, resp.read()
    assert srv.stop() == 0


def test_sigint_also_stops_cleanly(make_server):
    srv = make_server().start()
    assert srv.get("/api/v1/health").status == 200
    assert srv.stop(signal.SIGINT) == 0


def run_serve(binary, instance, *args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([binary, "--instance", str(instance), "serve", "--port", "1", *args],
                          capture_output=True, text=True, env=e, timeout=30)


@pytest.mark.parametrize("line,needle", [("colour = blue", "unknown configuration key 'colour'"),
                                          ("port = abc", "port"), ("port = 70000", "port"),
                                          ("http = maybe", "http")])
def test_bad_config_file_is_a_clear_error(tmp_path, line, needle):
    from conftest import binary
    inst = tmp_path / "inst"
    inst.mkdir()
    (inst / "config").write_text("# comment\n\n" + line + "\n")
    r = run_serve(binary("chatbot-fixture"), inst)
    assert r.returncode == 2, r
    assert needle in r.stderr and "config:3" in r.stderr, r.stderr


def test_bad_environment_value_names_the_variable(tmp_path):
    from conftest import binary
    r = run_serve(binary("chatbot-fixture"), tmp_path, env={"CHATBOT_PORT": "eighty"})
    assert r.returncode == 2 and "CHATBOT_PORT" in r.stderr, r


def test_config_layers_env_over_file(make_server, tmp_path):
    inst = tmp_path / "layered"
    inst.mkdir()
    (inst / "config").write_text("max_body_bytes = 1024\n")
    srv = make_server(instance=inst).start()
    problem(srv.post("/api/v1/notes", {"title": "x", "body": "y" * 1100}), 413)
    srv.stop()
    srv2 = make_server(instance=inst, env={"CHATBOT_MAX_BODY_BYTES": "100000"}).start()
    assert srv2.post("/api/v1/notes", {"title": "x", "body": "y" * 1100}).status == 201


def test_many_concurrent_requests(notes):
    errors = []

    def worker():
        try:
            for _ in range(10):
                assert notes.get("/api/v1/health").status == 200
        except Exception as e:          # noqa: BLE001 - collected for the assertion
            errors.append(e)
    threads = [threading.Thread(target=worker) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[:3]
