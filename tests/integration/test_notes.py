"""Generated endpoints end to end: tests/fixtures/notes.schema's resources
over real HTTPS against a real SQLite file (see tests/fixtures/)."""
import base64
import json
import sqlite3
import os

import pytest

from server import problem

NOTES = "/api/v1/notes"


def create(srv, **fields):
    body = {"title": "a note"}
    body.update(fields)
    r = srv.post(NOTES, body)
    assert r.status == 201, r
    return r.json()


def count_notes(srv):
    db = sqlite3.connect(os.path.join(srv.instance, "chatbot.db"))
    try:
        return db.execute("SELECT count(*) FROM notes").fetchone()[0]
    finally:
        db.close()


def test_create_returns_the_row_with_defaults(notes):
    r = notes.post(NOTES, {"title": "Buy milk", "priority": 7, "kind": "task",
                           "contact": "  Ana@Example.org ", "extra": {"a": [1, 2]},
                           "due_at": "2026-12-24T18:30:00+01:00"})
    assert r.status == 201, r
    assert r.header("content-type").startswith("application/json")
    n = r.json()
    assert isinstance(n["id"], int) and n["id"] > 0
    assert n["title"] == "Buy milk" and n["priority"] == 7 and n["kind"] == "task"
    assert n["body"] == "" and n["done"] is False
    assert n["contact"] == "Ana@Example.org"
    assert n["extra"] == {"a": [1, 2]}
    assert n["due_at"] == "2026-12-24T17:30:00.000Z"
    assert "secret" not in n                       # hidden field never serialised
    assert n["created_at"].endswith("Z") and len(n["created_at"]) == 24
    assert n["created_at"] == n["updated_at"]


def test_get_update_delete_round_trip(notes):
    n = create(notes, title="first")
    r = notes.get(f"{NOTES}/{n['id']}")
    assert r.status == 200 and r.json() == n
    r = notes.patch(f"{NOTES}/{n['id']}", {"done": True, "contact": None})
    assert r.status == 200, r
    u = r.json()
    assert u["done"] is True and u["title"] == "first" and u["contact"] is None
    assert u["updated_at"] >= n["updated_at"]
    r = notes.patch(f"{NOTES}/{n['id']}", {})
    assert r.status == 200 and r.json()["done"] is True
    r = notes.delete(f"{NOTES}/{n['id']}")
    assert r.status == 204 and r.body == b""
    problem(notes.get(f"{NOTES}/{n['id']}"), 404)
    problem(notes.delete(f"{NOTES}/{n['id']}"), 404)
    problem(notes.patch(f"{NOTES}/{n['id']}", {"done": False}), 404)


@pytest.mark.parametrize("bad_id", ["0", "-1", "abc", "1.5", "99999999999999999999", "1e3", "%20"])
def test_bad_or_missing_ids_are_404(notes, bad_id):
    problem(notes.get(f"{NOTES}/{bad_id}"), 404)


def test_list_paginates_with_cursor_in_sort_order(tmp_path, make_server):
    srv = make_server().start()
    made = [create(srv, title=f"n{i}", priority=i % 3) for i in range(8)]
    seen, cursor, pages = [], None, 0
    while True:
        q = f"{NOTES}?limit=3" + (f"&cursor={cursor}" if cursor else "")
        r = srv.get(q)
        assert r.status == 200, r
        page = r.json()
        assert set(page) == {"items", "next_cursor"}
        assert len(page["items"]) <= 3
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(n["id"] for n in seen) == sorted(n["id"] for n in made)
    # sort priority desc, created_at desc, id desc
    keys = [(n["priority"], n["created_at"], n["id"]) for n in seen]
    assert keys == sorted(keys, reverse=True)
    # the schema's page(3, 10): default 3, above 10 refused
    assert len(srv.get(NOTES).json()["items"]) == 3
    assert len(srv.get(f"{NOTES}?limit=10").json()["items"]) == 8


def test_reverse_lists_walk_the_order_backwards(tmp_path, make_server):
    srv = make_server().start()
    for i in range(8):
        create(srv, title=f"n{i}", priority=i % 3)

    def walk(extra):
        seen, cursor = [], None
        while True:
            r = srv.get(f"{NOTES}?limit=3{extra}" + (f"&cursor={cursor}" if cursor else ""))
            assert r.status == 200, r
            seen += [n["id"] for n in r.json()["items"]]
            if not (cursor := r.json()["next_cursor"]):
                return seen
    forward = walk("")
    assert walk("&reverse=true") == forward[::-1]
    assert walk("&reverse=false") == forward
    # The last page first, then a cursor taken from it continues backwards.
    first = srv.get(f"{NOTES}?limit=3&reverse=true").json()
    assert [n["id"] for n in first["items"]] == forward[::-1][:3]


@pytest.mark.parametrize("query", ["limit=0", "limit=11", "limit=abc", "limit=-1", "limit=",
                                   "reverse=1", "reverse=yes", "reverse=",
                                   "cursor=abc", "cursor=" + base64.urlsafe_b64encode(b'[1,2]').decode().rstrip("="),
                                   "cursor=" + base64.urlsafe_b64encode(b'{"x":1}').decode().rstrip("="),
                                   "bogus=1"])
def test_list_rejects_bad_parameters(notes, query):
    doc = problem(notes.get(f"{NOTES}?{query}"), 400)
    assert doc.get("errors"), doc


def test_validation_reports_every_field(notes):
    before = count_notes(notes)
    r = notes.post(NOTES, {"title": "", "priority": 11, "kind": "poem", "contact": "not-an-email",
                           "done": "yes", "due_at": "yesterday", "id": 5, "secret": "x",
                           "created_at": "2020-01-01T00:00:00Z", "color": "red"})
    doc = problem(r, 400)
    errs = doc["errors"]
    for field in ("title", "priority", "kind", "contact", "done", "due_at", "id", "secret",
                  "created_at", "color"):
        assert field in errs, (field, errs)
    assert count_notes(notes) == before


@pytest.mark.parametrize("body,field", [
    ({}, "title"),
    ({"title": None}, "title"),
    ({"title": 5}, "title"),
    ({"title": "x" * 101}, "title"),
    ({"title": "ok", "priority": 1.5}, "priority"),
    ({"title": "ok", "priority": True}, "priority"),
    ({"title": "ok", "priority": -1}, "priority"),
    ({"title": "ok", "priority": "5"}, "priority"),
    ({"title": "ok", "priority": None}, "priority"),
    ({"title": "ok", "done": 1}, "done"),
    ({"title": "ok", "kind": "IDEA"}, "kind"),
    ({"title": "ok", "contact": "a@b"}, "contact"),
    ({"title": "ok", "contact": "a b@c.de"}, "contact"),
    ({"title": "ok", "due_at": "2026-02-30T00:00:00Z"}, "due_at"),
    ({"title": "bad\u0000nul"}, "title"),
    ({"title": "ok", "body": "b" * 2001}, "body"),
])
def test_each_bad_field_is_a_400_naming_it(notes, body, field):
    before = count_notes(notes)
    doc = problem(notes.post(NOTES, body), 400)
    assert field in doc["errors"], doc
    assert count_notes(notes) == before


def test_lengths_count_characters_not_bytes(notes):
    title = "é" * 100                    # 200 bytes, 100 characters
    assert create(notes, title=title)["title"] == title
    problem(notes.post(NOTES, {"title": "😀" * 101}), 400)


@pytest.mark.parametrize("raw", [b'{"title": "x"', b'{"title": "x",}', b"[1,2]", b'"just a string"',
                                 b"42", b"null", b'{"title": "\xff\xfe"}', b'{"title":"a","title":"b"}',
                                 b'{"title":"x","priority":99999999999999999999}'])
def test_malformed_or_non_object_json_is_400(notes, raw):
    before = count_notes(notes)
    problem(notes.request("POST", NOTES, raw=raw, headers={"Content-Type": "application/json"}), 400)
    assert count_notes(notes) == before


MULTIPART = (b'--xyz\r\nContent-Disposition: form-data; name="title"\r\n\r\nx\r\n--xyz--\r\n')


@pytest.mark.parametrize("ctype,raw", [("text/plain", b'{"title":"x"}'),
                                       ("application/x-www-form-urlencoded", b"title=x"),
                                       ("multipart/form-data; boundary=xyz", MULTIPART),
                                       (None, b'{"title":"x"}')])
def test_wrong_content_type_is_415(notes, ctype, raw):
    # (A multipart body that does not parse is refused by libmicrohttpd's form
    # parser, which closes the connection before any handler runs.)
    before = count_notes(notes)
    headers = {"Content-Type": ctype} if ctype else {}
    problem(notes.request("POST", NOTES, raw=raw, headers=headers), 415)
    assert count_notes(notes) == before


def test_charset_parameter_is_accepted(notes):
    r = notes.request("POST", NOTES, raw=b'{"title":"x"}',
                      headers={"Content-Type": "application/json; charset=utf-8"})
    assert r.status == 201, r


def test_oversized_body_is_413_and_writes_nothing(notes):
    before = count_notes(notes)
    big = json.dumps({"title": "x", "body": "y" * (1024 * 1024)}).encode()
    problem(notes.request("POST", NOTES, raw=big, headers={"Content-Type": "application/json"}), 413)
    assert count_notes(notes) == before


def test_hook_refusal_writes_nothing(notes):
    before = count_notes(notes)
    doc = problem(notes.post(NOTES, {"title": "   "}), 400)
    assert doc["errors"] == {"title": "must not be blank"}
    assert count_notes(notes) == before


def test_child_resource_is_scoped_to_its_parent(notes):
    n = create(notes, title="with tags")
    other = create(notes, title="other")
    r = notes.post(f"{NOTES}/{n['id']}/tags", {"label": "red"})
    assert r.status == 201, r
    tag = r.json()
    assert tag["note_id"] == n["id"] and tag["label"] == "red"
    problem(notes.post(f"{NOTES}/{n['id']}/tags", {"label": "red"}), 409)   # unique (note_id, label)
    problem(notes.post(f"{NOTES}/{n['id']}/tags", {"label": "x", "note_id": other["id"]}), 400)
    items = notes.get(f"{NOTES}/{n['id']}/tags").json()["items"]
    assert [t["label"] for t in items] == ["red"]
    assert notes.get(f"{NOTES}/{other['id']}/tags").json()["items"] == []
    problem(notes.get(f"{NOTES}/999999/tags"), 404)
    problem(notes.post(f"{NOTES}/999999/tags", {"label": "x"}), 404)
    problem(notes.delete(f"{NOTES}/{other['id']}/tags/{tag['id']}"), 404)  # not under that parent
    # deleting the note cascades to its tags
    assert notes.delete(f"{NOTES}/{n['id']}").status == 204
    problem(notes.get(f"{NOTES}/{n['id']}/tags"), 404)


def test_wrong_method_on_known_path_is_405_with_allow(notes):
    r = notes.request("PUT", NOTES, json_body={"title": "x"})
    problem(r, 405)
    allow = {m.strip() for m in r.header("allow").split(",")}
    assert allow >= {"GET", "POST"} and "PUT" not in allow
    r = notes.request("POST", f"{NOTES}/1")
    problem(r, 405)
    assert {"GET", "PATCH", "DELETE"} <= {m.strip() for m in r.header("allow").split(",")}
