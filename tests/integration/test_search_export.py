"""GET /api/v1/search and GET /api/v1/conversations/{id}/export: ranking,
character offsets over multi-byte text, title hits, prefix matching, owner
scoping, hostile queries, limits; export shapes, Markdown, download names,
formats and 404s — over real HTTPS against the real binary and SQLite file.

Most messages are written with the sqlite3 module straight into the
server's database (add_message and the 5,000-row test, the only places that
do it): POST /api/v1/conversations/{id}/messages also makes the bot reply,
whose words would join the rankings, and these tests need exact roles,
statuses (stopped, error) and contents. The last test goes through the API
end to end. The server runs in WAL mode, so writing beside it is safe.
"""
import json
import os
import sqlite3
import time
import urllib.parse

import pytest

from server import problem

PW = "correct horse battery"
CONV = "/api/v1/conversations"
SEARCH = "/api/v1/search"


# --- helpers ------------------------------------------------------------------

class User:
    def __init__(self, app, email):
        assert app.post("/api/v1/auth/register", {"email": email, "password": PW}).status == 201
        r = app.post("/api/v1/auth/login", {"email": email, "password": PW})
        assert r.status == 200, r
        self.app = app
        self.headers = {"Cookie": r.header("set-cookie").split(";")[0],
                        "X-CSRF-Token": r.json()["csrf_token"]}
        self.id = r.json()["user"]["id"]

    def conversation(self, title, **extra):
        r = self.app.post(CONV, {"title": title, **extra}, headers=self.headers)
        assert r.status == 201, r
        return r.json()["id"]

    def search(self, q=None, raw=None, **params):
        if raw is None:
            if q is not None:
                params["q"] = q
            raw = urllib.parse.urlencode(params)
        return self.app.get(f"{SEARCH}?{raw}", headers=self.headers)

    def export(self, cid, query=""):
        return self.app.get(f"{CONV}/{cid}/export{query}", headers=self.headers)


_emails = iter(range(1_000_000))


def new_user(app):
    return User(app, f"se{next(_emails)}-{os.getpid()}@example.org")


def add_message(app, user, cid, content, role="user", status="complete", model=""):
    """Writes one message row as the chat service would; returns its id."""
    db = sqlite3.connect(os.path.join(app.instance, "chatbot.db"), timeout=10)
    try:
        cur = db.execute("INSERT INTO messages (conversation_id, user_id, role, content, status, model)"
                         " VALUES (?, ?, ?, ?, ?, ?)", (cid, user.id, role, content, status, model))
        db.commit()
        return cur.lastrowid
    finally:
        db.close()


def items_of(resp):
    assert resp.status == 200, resp
    assert resp.header("content-type") == "application/json"
    doc = resp.json()
    assert set(doc) == {"items"}
    for it in doc["items"]:
        assert set(it) == {"conversation_id", "message_id", "title", "snippet", "highlights",
                           "created_at"}
        assert it["created_at"].endswith("Z")
        for start, end in it["highlights"]:
            assert 0 <= start < end <= len(it["snippet"])
    return doc["items"]


def marked(item):
    """The highlighted substrings, by code-point offsets (Python str indexes)."""
    return [item["snippet"][s:e] for s, e in item["highlights"]]


# --- search ---------------------------------------------------------------------

def test_ranked_by_bm25_with_plain_text_snippets(app):
    u = new_user(app)
    cid = u.conversation("Garden notes")
    weak = add_message(app, u, cid, "The quokka was seen once among many other animals in the park "
                                    "near the river, with birds, lizards, kangaroos and wallabies.")
    strong = add_message(app, u, cid, "quokka quokka quokka")
    add_message(app, u, cid, "nothing relevant here")
    items = items_of(u.search("quokka"))
    assert [it["message_id"] for it in items] == [strong, weak]
    assert all(it["conversation_id"] == cid and it["title"] == "Garden notes" for it in items)
    assert items[0]["snippet"] == "quokka quokka quokka"
    assert items[0]["highlights"] == [[0, 6], [7, 13], [14, 20]]
    assert "\x02" not in items[1]["snippet"] and "<" not in items[1]["snippet"]
    assert marked(items[1]) == ["quokka"]


def test_offsets_count_characters_in_multibyte_text(app):
    u = new_user(app)
    cid = u.conversation("Menu")
    text = "Le café ☕ 🎉🎉 est prêt: café crème, Ω zébu 😀 zébu"
    mid = add_message(app, u, cid, text)
    items = items_of(u.search("cafe"))          # diacritics are folded
    assert [it["message_id"] for it in items] == [mid]
    assert items[0]["snippet"] == text
    second = text.index("café", 4)              # code points: 23, though 31 bytes in
    assert items[0]["highlights"] == [[3, 7], [second, second + 4]] == [[3, 7], [23, 27]]
    assert marked(items[0]) == ["café", "café"]
    items = items_of(u.search("zébu"))
    last = text.rindex("zébu")
    assert marked(items[0]) == ["zébu", "zébu"] and items[0]["highlights"][1] == [last, last + 4]


def test_long_messages_get_a_short_snippet_with_ellipsis(app):
    u = new_user(app)
    cid = u.conversation("Long")
    words = [f"w{i}" for i in range(300)]
    words[150] = "needle"
    add_message(app, u, cid, " ".join(words))
    [it] = items_of(u.search("needle"))
    assert it["snippet"].startswith("…") and it["snippet"].endswith("…")
    assert len(it["snippet"].split()) <= 17
    assert marked(it) == ["needle"]


def test_title_hits_have_no_message_and_the_title_as_snippet(app):
    u = new_user(app)
    cid = u.conversation("Zephyr quarterly report — naïve draft")
    [it] = items_of(u.search("zephyr"))
    assert it["message_id"] is None and it["conversation_id"] == cid
    assert it["snippet"] == it["title"] == "Zephyr quarterly report — naïve draft"
    assert it["highlights"] == [[0, 6]]
    [it] = items_of(u.search("naive"))
    assert marked(it) == ["naïve"]
    # A renamed conversation is found by its new title only.
    assert u.app.patch(f"{CONV}/{cid}", {"title": "Mistral notes"}, headers=u.headers).status == 200
    assert items_of(u.search("zephyr")) == []
    assert [it["conversation_id"] for it in items_of(u.search("mistral"))] == [cid]


def test_titles_and_messages_come_back_together(app):
    u = new_user(app)
    cid = u.conversation("Sourdough starter")
    mid = add_message(app, u, cid, "Feed the sourdough starter twice a day.")
    items = items_of(u.search("sourdough"))
    assert sorted((it["message_id"] is None, it["message_id"]) for it in items) == \
        [(False, mid), (True, None)]
    assert all(marked(it) == ["Sourdough" if it["message_id"] is None else "sourdough"]
               for it in items)


def test_last_term_matches_as_a_prefix(app):
    u = new_user(app)
    cid = u.conversation("Accounts")
    mid = add_message(app, u, cid, "How do I reset my password on the router?")
    for q in ("pass", "passw", "reset pass", "router pass"):
        items = items_of(u.search(q))
        assert [it["message_id"] for it in items] == [mid], q
    assert marked(items_of(u.search("pass"))[0]) == ["password"]
    assert items_of(u.search("pass reset")) == []       # only the last term is a prefix
    assert items_of(u.search("pass ")) == []            # a finished word is a whole word
    assert items_of(u.search("pa")) == []               # too short to be a prefix
    assert [it["message_id"] for it in items_of(u.search("on"))] == [mid]   # whole word still


def test_other_users_rows_are_never_found(app):
    alice, bob = new_user(app), new_user(app)
    a_conv = alice.conversation("Platypus facts")
    b_conv = bob.conversation("Platypus secrets")
    a_msg = add_message(app, alice, a_conv, "the platypus lays eggs")
    b_msg = add_message(app, bob, b_conv, "my platypus password is hunter2")
    a_items = items_of(alice.search("platypus"))
    assert {(it["conversation_id"], it["message_id"]) for it in a_items} == \
        {(a_conv, a_msg), (a_conv, None)}
    b_items = items_of(bob.search("platypus"))
    assert {(it["conversation_id"], it["message_id"]) for it in b_items} == \
        {(b_conv, b_msg), (b_conv, None)}
    assert items_of(alice.search("hunter2")) == []
    assert items_of(alice.search("secrets")) == []


def test_a_deleted_conversation_is_not_found(app):
    u = new_user(app)
    cid = u.conversation("Ephemeral wombat")
    add_message(app, u, cid, "wombat droppings are cubic")
    assert len(items_of(u.search("wombat"))) == 2
    assert u.app.delete(f"{CONV}/{cid}", headers=u.headers).status == 204
    assert items_of(u.search("wombat")) == []
    assert items_of(u.search("cubic")) == []


def test_limit_default_and_maximum(app):
    u = new_user(app)
    cid = u.conversation("Many")
    for i in range(60):
        add_message(app, u, cid, f"kiwifruit number {i}")
    assert len(items_of(u.search("kiwifruit"))) == 20
    assert len(items_of(u.search("kiwifruit", limit=1))) == 1
    assert len(items_of(u.search("kiwifruit", limit=50))) == 50


@pytest.mark.parametrize("limit", ["0", "51", "-1", "+5", "abc", "", "1.5", "007", "1e1",
                                   "99999999999999999999"])
def test_invalid_limit_is_400(app, limit):
    u = new_user(app)
    doc = problem(u.search(raw=urllib.parse.urlencode({"q": "x", "limit": limit})), 400)
    assert set(doc["errors"]) == {"limit"}


@pytest.mark.parametrize("raw,message", [("", "is required"), ("limit=5", "is required"),
                                         ("q=", "must not be empty"),
                                         ("q=%20%20%09", "must not be empty"),
                                         ("q=" + "a" * 501, "must be at most 500 characters"),
                                         ("q=" + "é" * 501, "must be at most 500 characters")])
def test_missing_blank_or_long_q_is_400(app, raw, message):
    u = new_user(app)
    raw = raw.replace("é", "%C3%A9")
    doc = problem(u.search(raw=raw), 400)
    assert doc["errors"] == {"q": message}


def test_500_characters_are_fine_and_unknown_parameters_are_not(app):
    u = new_user(app)
    assert items_of(u.search("é" * 500)) == []
    assert items_of(u.search(" ".join(["ab"] * 167))) == []     # 500 characters
    doc = problem(u.search(raw="q=x&page=2"), 400)
    assert doc["errors"] == {"page": "unknown query parameter"}


HOSTILE = ['"', '"unbalanced', 'unbalanced"', 'NEAR(a b)', 'NEAR(a b, 1)', '*', 'a*', '*a', 'a OR',
           'OR', 'AND', 'NOT', 'a NOT b', '(', ')', '()', 'body:x', 'content:x', '{content}: x',
           '^x', '-x', '+x', 'x:', ':', '""', '"a" "b"', "a'b", '\\', 'a -- b', '%', '_',
           'ñ*', '🎉', '\u3000', 'a\u200bb', '\x01\x02\x03', 'a\x02b\x03c',
           'SELECT * FROM messages', "'; DROP TABLE messages; --"]


@pytest.mark.parametrize("q", HOSTILE)
def test_hostile_queries_are_just_words(app, q):
    u = new_user(app)
    cid = u.conversation("Hostile")
    mid = add_message(app, u, cid, "body x NEAR a b OR and unbalanced words")
    items = items_of(u.search(q))
    assert all(it["conversation_id"] == cid for it in items)
    # Query syntax is never interpreted: these words are all in the message.
    if q in ('"unbalanced', 'unbalanced"', 'body:x', 'NEAR(a b)', 'a OR', '^x', '-x', '+x'):
        assert mid in [it["message_id"] for it in items], q


def test_ten_kilobyte_query_is_a_precise_400(app):
    u = new_user(app)
    doc = problem(u.search("x" * 10240), 400)
    assert doc["errors"] == {"q": "must be at most 500 characters"}
    doc = problem(u.search(("NEAR( " * 2000)), 400)
    assert set(doc["errors"]) == {"q"}


def test_nul_and_invalid_utf8_in_the_query(app):
    u = new_user(app)
    # The HTTP layer would cut q at the NUL or drop it: refused instead, by name.
    for raw in ("q=abc%00def", "q=%00", "q=abc&limit=1%00"):
        doc = problem(u.search(raw=raw), 400)
        key = "limit" if "limit" in raw else "q"
        assert doc["errors"] == {key: "must not contain NUL characters"}, raw
    for raw in ("q=%FF", "q=abc%FFdef", "q=%C3", "q=%ED%A0%80", "q=%C0%AF", "q=ok&q=%FE"):
        doc = problem(u.search(raw=raw), 400)
        assert doc["errors"] == {"q": "must be valid UTF-8"}, raw
    doc = problem(u.search(raw="q%00x=abc"), 400)
    assert doc["errors"] == {"q": "must not contain NUL characters"}


def test_search_needs_a_signed_in_user(app):
    problem(app.get(f"{SEARCH}?q=x"), 401)
    problem(app.get(f"{SEARCH}?q=x", headers={"Authorization": "Bearer nope"}), 401)


# --- export ---------------------------------------------------------------------

def disposition_filename(resp):
    cd = resp.header("content-disposition")
    assert cd.startswith('attachment; filename="'), cd
    return cd.split('filename="', 1)[1].split('"', 1)[0]


def test_export_json_has_the_generic_shapes(app):
    u = new_user(app)
    cid = u.conversation("Trip planning: Oslo & Bergen!", system_prompt="Be brief.")
    m1 = add_message(app, u, cid, "Which train?\nThe \"fast\" one?")
    m2 = add_message(app, u, cid, "Take the Bergen line.", role="assistant", model="builtin")
    r = u.export(cid)
    assert r.status == 200, r
    assert r.header("content-type") == "application/json"
    assert r.header("cache-control") == "no-store"
    assert r.header("content-disposition") == \
        f'attachment; filename="trip-planning-oslo-bergen-{cid}.json"'
    doc = r.json()
    assert set(doc) == {"conversation", "messages"}
    conv = u.app.get(f"{CONV}/{cid}", headers=u.headers).json()
    assert doc["conversation"] == conv
    assert set(conv) == {"id", "title", "system_prompt", "model", "pinned", "created_at",
                         "updated_at"}
    listed = u.app.get(f"{CONV}/{cid}/messages", headers=u.headers).json()["items"]
    assert doc["messages"] == listed
    assert [m["id"] for m in doc["messages"]] == [m1, m2]
    assert {"id", "conversation_id", "role", "content", "status", "created_at"} <= \
        set(doc["messages"][0])
    assert "user_id" not in doc["messages"][0] and "user_id" not in doc["conversation"]
    assert doc["messages"][0]["content"] == "Which train?\nThe \"fast\" one?"
    assert u.export(cid, "?format=json").body == r.body


def test_export_markdown(app):
    u = new_user(app)
    cid = u.conversation("Fix the *build*", system_prompt="You are terse.\nAnswer in English.")
    add_message(app, u, cid, "Why does `make` fail?\n\n```\nerror: x\n```")
    add_message(app, u, cid, "Because of", role="assistant", status="stopped")
    add_message(app, u, cid, "again?")
    add_message(app, u, cid, "upstream down", role="assistant", status="error")
    add_message(app, u, cid, "All good.\n", role="assistant")
    r = u.export(cid, "?format=md")
    assert r.status == 200, r
    assert r.header("content-type") == "text/markdown; charset=utf-8"
    assert r.header("cache-control") == "no-store"
    assert disposition_filename(r) == f"fix-the-build-{cid}.md"
    text = r.body.decode("utf-8")
    conv = u.app.get(f"{CONV}/{cid}", headers=u.headers).json()
    assert text == (
        "# Fix the *build*\n\n"
        f"Model: {conv['model'] or 'default'} · Created: {conv['created_at']}\n\n"
        "> **System prompt**\n>\n> You are terse.\n> Answer in English.\n"
        "\n## You\n\nWhy does `make` fail?\n\n```\nerror: x\n```\n"
        "\n## Assistant (stopped)\n\nBecause of\n"
        "\n## You\n\nagain?\n"
        "\n## Assistant (error)\n\nupstream down\n"
        "\n## Assistant\n\nAll good.\n")


def test_markdown_of_an_empty_conversation_without_prompt(app):
    u = new_user(app)
    cid = u.conversation("Line one\nline two")
    conv = u.app.get(f"{CONV}/{cid}", headers=u.headers).json()
    text = u.export(cid, "?format=md").body.decode()
    assert text.startswith("# Line one line two\n\nModel: %s · Created: %s\n"
                           % (conv["model"] or "default", conv["created_at"]))
    assert "System prompt" not in text and "##" not in text


@pytest.mark.parametrize("title,expect", [
    ("Hello World", "hello-world"),
    ("  --Hello,,,   World--  ", "hello-world"),
    ("Café – Über naïve", "cafe-uber-naive"),
    ("!!!", "conversation"),
    ("日本語のタイトル", "conversation"),
    ("a" * 60, "a" * 50),
    ("ab " * 30, "-".join(["ab"] * 17)),
    ('quote" and\\ back;slash', "quote-and-back-slash"),
])
def test_download_names(app, title, expect):
    u = new_user(app)
    cid = u.conversation(title)
    for fmt in ("json", "md"):
        name = disposition_filename(u.export(cid, f"?format={fmt}"))
        assert name == f"{expect}-{cid}.{fmt}"
        assert len(expect) <= 50


def test_non_ascii_titles_add_a_percent_encoded_filename_star(app):
    u = new_user(app)
    cid = u.conversation("Café 日本 🎉")
    cd = u.export(cid).header("content-disposition")
    assert cd == (f'attachment; filename="cafe-{cid}.json"; '
                  f"filename*=UTF-8''caf%C3%A9-%E6%97%A5%E6%9C%AC-{cid}.json")
    assert all(32 <= ord(c) < 127 for c in cd)
    cid = u.conversation("Plain title")
    assert "filename*" not in u.export(cid).header("content-disposition")


@pytest.mark.parametrize("query,error", [
    ("?format=xml", 'must be "json" or "md"'), ("?format=", 'must be "json" or "md"'),
    ("?format=JSON", 'must be "json" or "md"'), ("?format=md%20", 'must be "json" or "md"'),
    ("?format=json,md", 'must be "json" or "md"'),
    ("?format=md%00", "must not contain NUL characters"),
    ("?format=md%FF", "must be valid UTF-8")])
def test_bad_format_is_400(app, query, error):
    u = new_user(app)
    cid = u.conversation("Formats")
    assert problem(u.export(cid, query), 400)["errors"] == {"format": error}


def test_unknown_parameter_is_400(app):
    u = new_user(app)
    cid = u.conversation("Params")
    assert problem(u.export(cid, "?download=1"), 400)["errors"] == \
        {"download": "unknown query parameter"}


def test_other_users_and_bad_ids_are_the_same_404(app):
    alice, bob = new_user(app), new_user(app)
    cid = alice.conversation("Private")
    add_message(app, alice, cid, "secret")
    missing = problem(bob.export(999999999), 404)
    other = problem(bob.export(cid), 404)
    assert other == missing
    assert problem(bob.export(cid, "?format=md"), 404) == missing
    for bad in ("abc", "0", "-1", "01", "1.0", "%20" + str(cid), str(cid) + "x", str(cid) + "%00",
                str(cid) + "%00x", "%2F" + str(cid),
                "99999999999999999999", "9223372036854775808", "1e3"):
        assert problem(alice.export(bad), 404) == missing, bad


def test_export_needs_a_signed_in_user(app):
    u = new_user(app)
    cid = u.conversation("Mine")
    problem(app.get(f"{CONV}/{cid}/export"), 401)
    problem(app.get(f"{CONV}/{cid}/export?format=md"), 401)


def test_five_thousand_messages_export_in_order(app):
    u = new_user(app)
    cid = u.conversation("Marathon")
    db = sqlite3.connect(os.path.join(app.instance, "chatbot.db"), timeout=10)
    db.executemany("INSERT INTO messages (conversation_id, user_id, role, content) VALUES (?, ?, ?, ?)",
                   [(cid, u.id, "user" if i % 2 == 0 else "assistant", f"message {i} " + "x" * 200)
                    for i in range(5000)])
    db.commit()
    db.close()
    started = time.monotonic()
    r = u.export(cid)
    elapsed = time.monotonic() - started
    assert r.status == 200, r
    msgs = r.json()["messages"]
    assert len(msgs) == 5000
    assert [m["content"].split()[1] for m in msgs] == [str(i) for i in range(5000)]
    assert [m["id"] for m in msgs] == sorted(m["id"] for m in msgs)
    assert elapsed < 10
    text = u.export(cid, "?format=md").body.decode()
    assert text.count("\n## You\n") == 2500 and text.count("\n## Assistant\n") == 2500


def test_messages_posted_through_the_api_are_searched_and_exported(app):
    u = new_user(app)
    cid = u.conversation("Through the API")
    r = u.app.post(f"{CONV}/{cid}/messages", {"content": "Where do axolotls live?", "stream": False},
                   headers=u.headers)
    assert r.status == 201, r
    sent, reply = r.json()["user_message"], r.json()["reply"]
    items = items_of(u.search("axolotl"))
    assert sent["id"] in [it["message_id"] for it in items]
    assert all(it["conversation_id"] == cid for it in items)
    doc = u.export(cid).json()
    assert doc["messages"][:2] == [sent, reply]
    text = u.export(cid, "?format=md").body.decode()
    assert "\n## You\n\nWhere do axolotls live?\n" in text
    assert text.index("## You") < text.index("## Assistant")
