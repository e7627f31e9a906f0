"""The knowledge base's REST side: POST/GET/DELETE /api/v1/admin/documents
as anonymous, user and admin; the user guide seeded on a fresh server (and
only once); bad input is a 400 with per-field errors and writes nothing;
limits; delete removes the passages."""
import json

import pytest

from conftest import binary
from server import problem, run_cli

PW = "correct horse battery"
GUIDE = {"Getting started", "Account and password", "API tokens", "Chatting",
         "Connecting an LLM", "Knowledge base", "Administration"}


@pytest.fixture
def site(make_server, tmp_path):
    inst = tmp_path / "kb"
    inst.mkdir()
    (inst / "config").write_text("max_document_bytes = 5000\n")
    run_cli(binary("chatbot"), inst, "db", "upgrade")
    r = run_cli(binary("chatbot"), inst, "users", "create", "root@example.org", "--admin",
                "--password-stdin", input=PW + "\n")
    assert r.returncode == 0, r.stderr
    srv = make_server("chatbot", instance=inst).start()
    assert srv.post("/api/v1/auth/register", {"email": "bob@example.org", "password": PW}).status == 201
    return srv


def session(srv, email):
    r = srv.post("/api/v1/auth/login", {"email": email, "password": PW})
    assert r.status == 200, r
    return {"Cookie": r.header("set-cookie").split(";")[0], "X-CSRF-Token": r.json()["csrf_token"]}


def documents(srv, admin):
    r = srv.get("/api/v1/admin/documents?limit=200", headers=admin)
    assert r.status == 200, r
    return r.json()["items"]


def test_guide_is_seeded_once(site):
    admin = session(site, "root@example.org")
    items = documents(site, admin)
    assert {d["title"] for d in items} == GUIDE
    for d in items:
        assert set(d) == {"id", "title", "bytes", "passages", "created_at"}
        assert d["bytes"] > 500 and d["passages"] >= 3
    # Deleted guide documents stay deleted across restarts.
    tokens = next(d for d in items if d["title"] == "API tokens")
    assert site.delete(f"/api/v1/admin/documents/{tokens['id']}", headers=admin).status == 204
    site.stop()
    site.start()
    admin = session(site, "root@example.org")
    assert {d["title"] for d in documents(site, admin)} == GUIDE - {"API tokens"}
    assert site.log_text().count("seeded 7 user guide documents") == 1


def test_auth_levels(site):
    body = {"title": "T", "content": "x"}
    problem(site.get("/api/v1/admin/documents"), 401)
    problem(site.post("/api/v1/admin/documents", body), 401)
    bob = session(site, "bob@example.org")
    problem(site.get("/api/v1/admin/documents", headers=bob), 403)
    problem(site.post("/api/v1/admin/documents", body, headers=bob), 403)
    admin = session(site, "root@example.org")
    first = documents(site, admin)[0]
    problem(site.get(f"/api/v1/admin/documents/{first['id']}", headers=bob), 403)
    problem(site.delete(f"/api/v1/admin/documents/{first['id']}", headers=bob), 403)
    problem(site.post("/api/v1/admin/documents", body, headers={"Cookie": admin["Cookie"]}), 403)


def test_create_get_list_delete(site):
    admin = session(site, "root@example.org")
    content = ("# Coffee\n\nHow we brew.\n\n## Grinding\n\nMedium fine.\n\n"
               "## Brewing\n\n```\nwater 94 °C\n\nfour minutes\n```\n")
    r = site.post("/api/v1/admin/documents", {"title": "  Coffee guide ☕  ", "content": content},
                  headers=admin)
    assert r.status == 201, r
    doc = r.json()
    assert set(doc) == {"id", "title", "bytes", "passages", "created_at"}
    assert doc["title"] == "Coffee guide ☕"
    assert doc["bytes"] == len(content.encode())
    assert doc["passages"] == 3
    assert doc["created_at"].endswith("Z")
    got = site.get(f"/api/v1/admin/documents/{doc['id']}", headers=admin)
    assert got.status == 200 and got.json() == doc
    assert documents(site, admin)[0] == doc                     # newest first
    assert site.delete(f"/api/v1/admin/documents/{doc['id']}", headers=admin).status == 204
    problem(site.get(f"/api/v1/admin/documents/{doc['id']}", headers=admin), 404)
    problem(site.delete(f"/api/v1/admin/documents/{doc['id']}", headers=admin), 404)
    assert doc["id"] not in {d["id"] for d in documents(site, admin)}


def test_bearer_token_admin(site):
    admin = session(site, "root@example.org")
    tok = site.post("/api/v1/tokens", {"name": "kb"}, headers=admin).json()["token"]
    r = site.post("/api/v1/admin/documents", {"title": "Plain", "content": "one\n\ntwo"},
                  headers={"Authorization": "Bearer " + tok})
    assert r.status == 201 and r.json()["passages"] == 1


BAD = [
    ({}, {"title", "content"}),
    ({"title": "T"}, {"content"}),
    ({"content": "x"}, {"title"}),
    ({"title": "", "content": "x"}, {"title"}),
    ({"title": "   ", "content": "x"}, {"title"}),
    ({"title": "x" * 201, "content": "x"}, {"title"}),
    ({"title": "a\nb", "content": "x"}, {"title"}),
    ({"title": "T", "content": ""}, {"content"}),
    ({"title": "T", "content": " \n\n\t"}, {"content"}),
    ({"title": "T", "content": "# Just a heading"}, {"content"}),
    ({"title": "T", "content": "x" * 5001}, {"content"}),
    ({"title": "T", "content": "a\u0000b"}, {"content"}),
    ({"title": "a\u0000b", "content": "x"}, {"title"}),
    ({"title": "T", "content": "bell\u0007"}, {"content"}),
    ({"title": 5, "content": "x"}, {"title"}),
    ({"title": "T", "content": ["x"]}, {"content"}),
    ({"title": None, "content": None}, {"title", "content"}),
    ({"title": "T", "content": "x", "passages": 9}, {"passages"}),
    ({"title": "T", "content": "x", "id": 1, "created_by": 1}, {"id", "created_by"}),
]


@pytest.mark.parametrize("body,fields", BAD)
def test_bad_input_writes_nothing(site, body, fields):
    admin = session(site, "root@example.org")
    before = documents(site, admin)
    doc = problem(site.post("/api/v1/admin/documents", body, headers=admin), 400)
    assert set(doc["errors"]) == fields, doc
    assert documents(site, admin) == before


def test_malformed_bodies(site):
    admin = session(site, "root@example.org")
    before = documents(site, admin)
    problem(site.request("POST", "/api/v1/admin/documents", raw=b"{\"title\": ",
                         headers={**admin, "Content-Type": "application/json"}), 400)
    problem(site.request("POST", "/api/v1/admin/documents", raw=b"[1]",
                         headers={**admin, "Content-Type": "application/json"}), 400)
    problem(site.request("POST", "/api/v1/admin/documents", raw=b"\xff\xfe",
                         headers={**admin, "Content-Type": "application/json"}), 400)
    problem(site.request("POST", "/api/v1/admin/documents", body="title=x",
                         headers={**admin, "Content-Type": "application/x-www-form-urlencoded"}), 415)
    big = json.dumps({"title": "T", "content": "x" * (1 << 20)}).encode()
    problem(site.request("POST", "/api/v1/admin/documents", raw=big,
                         headers={**admin, "Content-Type": "application/json"}), 413)
    assert documents(site, admin) == before


def test_size_limit_edges_and_passages(site):
    admin = session(site, "root@example.org")
    para = ("word " * 79 + "end.\n\n")              # 401 characters
    content = "# Big\n\n" + para * 12               # 4,819 bytes: under 5,000
    r = site.post("/api/v1/admin/documents", {"title": "Big", "content": content}, headers=admin)
    assert r.status == 201, r
    assert r.json()["bytes"] == len(content) and r.json()["passages"] == 4
    # Multi-byte characters count as bytes against max_document_bytes.
    problem(site.post("/api/v1/admin/documents", {"title": "T", "content": "é" * 2501},
                      headers=admin), 400)
    r = site.post("/api/v1/admin/documents", {"title": "T", "content": "é" * 2500}, headers=admin)
    assert r.status == 201 and r.json()["bytes"] == 5000 and r.json()["passages"] == 2

