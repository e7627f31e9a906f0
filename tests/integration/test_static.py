"""Static files sent gzipped from their precompressed .gz siblings
(scripts/assets.sh makes them): to a client that accepts gzip only, with
Vary and an ETag of their own, 304 on either validator, and never a .gz
that no longer holds its file (a stale one is ignored) or one that leads
out of the static folder."""
import gzip
import os

import pytest

JS = b"export const greeting = 'hello';\n" * 100


@pytest.fixture
def static_srv(make_server, tmp_path):
    static = tmp_path / "static"
    (static / "js").mkdir(parents=True)
    (static / "js" / "app.js").write_bytes(JS)
    (static / "js" / "app.js.gz").write_bytes(gzip.compress(JS, 9, mtime=0))
    (static / "js" / "plain.js").write_bytes(JS)            # no sibling
    (static / "js" / "stale.js").write_bytes(JS + b"// edited\n")
    (static / "js" / "stale.js.gz").write_bytes(gzip.compress(JS, 9, mtime=0))
    (static / "js" / "junk.js").write_bytes(JS)
    (static / "js" / "junk.js.gz").write_bytes(b"not gzip at all, just bytes\n")
    (tmp_path / "outside.js").write_bytes(JS)
    (tmp_path / "outside.js.gz").write_bytes(gzip.compress(JS, 9, mtime=0))
    os.symlink(tmp_path / "outside.js.gz", static / "js" / "escape.js.gz")
    (static / "js" / "escape.js").write_bytes(JS)
    (static / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    (static / "logo.png.gz").write_bytes(gzip.compress(b"\x89PNG\r\n\x1a\n" + b"\0" * 64))
    return make_server(env={"CHATBOT_STATIC_DIR": str(static)}).start()


def test_gzip_to_a_client_that_accepts_it(static_srv):
    r = static_srv.get("/static/js/app.js?v=abc", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert r.status == 200
    assert r.header("content-encoding") == "gzip"
    assert r.header("vary") == "Accept-Encoding"
    assert r.header("content-type").startswith("text/javascript")
    assert "immutable" in r.header("cache-control")
    assert gzip.decompress(r.body) == JS
    assert len(r.body) < len(JS) / 4


def test_identity_otherwise(static_srv):
    for ae in (None, "identity", "br", "gzip;q=0", "GZIP;q=0.0, *;q=1", "deflate, *;q=0"):
        headers = {"Accept-Encoding": ae} if ae else {"Accept-Encoding": "identity"}
        r = static_srv.get("/static/js/app.js", headers=headers)
        assert r.status == 200, ae
        assert r.header("content-encoding") is None, ae
        assert r.header("vary") == "Accept-Encoding", ae
        assert r.body == JS, ae
    for ae in ("*", "x-gzip", "GZIP;q=0.5"):
        r = static_srv.get("/static/js/app.js", headers={"Accept-Encoding": ae})
        assert r.header("content-encoding") == "gzip", ae


def test_each_representation_has_its_etag_and_304(static_srv):
    gz = static_srv.get("/static/js/app.js", headers={"Accept-Encoding": "gzip"})
    plain = static_srv.get("/static/js/app.js", headers={"Accept-Encoding": "identity"})
    assert gz.header("etag") and plain.header("etag")
    assert gz.header("etag") != plain.header("etag")
    r = static_srv.get("/static/js/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": gz.header("etag")})
    assert r.status == 304 and r.body == b""
    assert r.header("etag") == gz.header("etag")
    r = static_srv.get("/static/js/app.js", headers={"Accept-Encoding": "identity", "If-None-Match": plain.header("etag")})
    assert r.status == 304
    # The other representation's validator does not match: a full answer.
    r = static_srv.get("/static/js/app.js", headers={"Accept-Encoding": "identity", "If-None-Match": gz.header("etag")})
    assert r.status == 200 and r.body == JS
    r = static_srv.get("/static/js/app.js", headers={"Accept-Encoding": "gzip", "If-None-Match": plain.header("etag")})
    assert r.status == 200 and gzip.decompress(r.body) == JS


def test_no_sibling_stale_or_broken_sibling_sends_the_file(static_srv):
    for name, body in (("plain.js", JS), ("stale.js", JS + b"// edited\n"), ("junk.js", JS)):
        r = static_srv.get(f"/static/js/{name}", headers={"Accept-Encoding": "gzip"})
        assert r.status == 200, name
        assert r.header("content-encoding") is None, name
        assert r.body == body, name


def test_a_sibling_outside_the_folder_or_of_a_binary_is_not_used(static_srv):
    r = static_srv.get("/static/js/escape.js", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.header("content-encoding") is None and r.body == JS
    r = static_srv.get("/static/logo.png", headers={"Accept-Encoding": "gzip"})
    assert r.status == 200 and r.header("content-encoding") is None
    assert r.header("content-type") == "image/png" and r.header("vary") is None
    for evil in ("/static/js/../../outside.js", "/static/%2e%2e/outside.js.gz"):
        assert static_srv.get(evil, headers={"Accept-Encoding": "gzip"}).status == 404


def test_the_real_assets_have_current_gzip_siblings(app):
    """The repository's own static/: the big text assets go out gzipped."""
    srv = app
    for path in ("/static/js/chat.js", "/static/css/app.css", "/static/vendor/highlight.js", "/static/icons.svg"):
        plain = srv.get(path, headers={"Accept-Encoding": "identity"})
        gz = srv.get(path, headers={"Accept-Encoding": "gzip"})
        assert gz.header("content-encoding") == "gzip", path
        assert gzip.decompress(gz.body) == plain.body, path


def test_the_pages_import_map_is_versioned_and_allowed_by_its_hash(app):
    """Every module URL maps to its ?v= URL (the one the preloads use), and
    the page's CSP allows exactly that inline script, nothing inline else."""
    import base64
    import hashlib
    import json
    import re
    srv = app
    for path in ("/login", "/register"):
        r = srv.get(path)
        html = r.body.decode()
        m = re.search(r'<script type="importmap">(.*?)</script>', html, re.S)
        assert m, (path, r.status, html[:600])
        imports = json.loads(m.group(1))["imports"]
        for name in ("/static/js/api.js", "/static/js/ui.js", "/static/js/markdown.js",
                     "/static/vendor/marked.js", "/static/vendor/purify.js", "/static/vendor/highlight.js"):
            assert re.fullmatch(re.escape(name) + r"\?v=[0-9a-f]{12}", imports[name]), (name, imports)
        for pre in re.findall(r'<link rel="modulepreload" href="([^"]+)">', html):
            assert pre in imports.values(), pre
        digest = base64.b64encode(hashlib.sha256(m.group(1).encode()).digest()).decode()
        csp = r.header("content-security-policy")
        assert f"script-src 'self' 'sha256-{digest}';" in csp, csp
        assert "unsafe-inline" not in csp
    # Other answers keep the plain policy.
    assert "sha256-" not in srv.get("/api/v1/health").header("content-security-policy")
