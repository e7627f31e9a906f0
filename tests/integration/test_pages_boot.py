"""The chat page's first data (src/web/pages.c, data-boot on <body>): the
first page of the caller's conversations and the model list, exactly as the
API answers them, escaped like every template value, never another user's,
and never waiting on the LLM server."""
import html
import json
import re

from chat_client import new_conversation, signed_in
from conftest import binary
from server import Server
from upstream import FakeUpstream

HOSTILE = '</body><script>alert(1)</script>"&\' <img src=x onerror=alert(2)>'


def boot_of(srv, headers):
    r = srv.get("/", headers={"Cookie": headers["Cookie"]})
    assert r.status == 200, r
    page = r.body.decode()
    m = re.search(r'<body [^>]*data-boot="([^"]*)"', page)
    assert m, page[:800]
    return page, json.loads(html.unescape(m.group(1)))


def test_the_chat_page_carries_the_first_conversations_and_the_models(app):
    mine = signed_in(app)
    other = signed_in(app)
    theirs = new_conversation(app, other, title="not yours")
    new_conversation(app, mine, title="first")
    new_conversation(app, mine, title=HOSTILE)
    page, boot = boot_of(app, mine)
    # What the API answers, byte for byte the same JSON values.
    assert boot["conversations"] == app.get("/api/v1/conversations?limit=50", headers=mine).json()
    assert boot["models"] == app.get("/api/v1/models", headers=mine).json()
    assert [c["title"] for c in boot["conversations"]["items"]] == [HOSTILE, "first"]
    assert theirs["id"] not in [c["id"] for c in boot["conversations"]["items"]]
    # The title reaches the page only escaped: no markup of it is live.
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;/body&gt;&lt;script&gt;" in page


def test_a_new_account_gets_an_empty_first_page(app):
    h = signed_in(app)
    _, boot = boot_of(app, h)
    assert boot["conversations"] == {"items": [], "next_cursor": None}


def test_the_first_page_has_fifty_and_the_cursor_of_the_next(app):
    h = signed_in(app)
    for i in range(51):
        new_conversation(app, h, title=f"c{i}")
    _, boot = boot_of(app, h)
    assert len(boot["conversations"]["items"]) == 50
    assert boot["conversations"]["next_cursor"]
    assert boot["conversations"] == app.get("/api/v1/conversations?limit=50", headers=h).json()


def test_other_pages_carry_no_boot_data(app):
    h = signed_in(app)
    for path in ("/settings", "/login"):
        r = app.get(path, headers={"Cookie": h["Cookie"]} if path != "/login" else {})
        assert r.status == 200, (path, r)
        assert "data-boot" not in r.body.decode(), path


def test_the_model_list_waits_for_no_llm_server(tmp_path):
    """With an LLM configured, the page leaves the model list out (null:
    chat.js asks) until the server has the LLM server's list cached; then
    it carries it like the API answers it."""
    up = FakeUpstream().start()
    srv = Server(binary("chatbot"), tmp_path / "inst",
                 env={"CHATBOT_LLM_URL": up.url, "CHATBOT_LLM_MODEL": "fake-small",
                      "CHATBOT_LLM_TITLES": "false"})
    srv.start()
    try:
        h = signed_in(srv)
        _, boot = boot_of(srv, h)
        assert boot["models"] is None
        assert boot["conversations"] == {"items": [], "next_cursor": None}
        models = srv.get("/api/v1/models", headers=h).json()
        assert any(m["provider"] == "openai" for m in models["items"]), models
        _, boot = boot_of(srv, h)
        assert boot["models"] == models
    finally:
        srv.stop()
        assert up.stop() == ""
