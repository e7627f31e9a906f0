"""Chat over real HTTPS: messages as JSON and as SSE, stop, regenerate,
errors of the language model, bad input — against the real server with the
fake OpenAI-compatible upstream (tests/fake_upstream.py) as the LLM."""
import signal
import threading
import time

import pytest

from chat_client import new_conversation, signed_in, stream
from conftest import binary
from server import Server, problem
from upstream import FakeUpstream


@pytest.fixture(scope="module")
def upstream():
    up = FakeUpstream().start()
    yield up
    assert up.stop() == ""


@pytest.fixture(scope="module")
def llm(upstream, tmp_path_factory):
    """The application with the fake upstream as its LLM."""
    inst = tmp_path_factory.mktemp("chat")
    # Titles by the model are off here: they add requests to the upstream's
    # log that these tests read; test_the_llm_names_new_conversations has them on.
    (inst / "config").write_text("registrations_per_hour = 100000\n"
                                 "llm_stall_timeout_s = 3\n"
                                 "llm_titles = false\n")
    srv = Server(binary("chatbot"), inst, env={"CHATBOT_LLM_URL": upstream.url,
                                              "CHATBOT_LLM_MODEL": "fake-small"})
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def up(upstream):
    upstream.reset()
    return upstream


def llm_env(up, titles=False):
    return {"CHATBOT_LLM_URL": up.url, "CHATBOT_LLM_MODEL": "fake-small",
            "CHATBOT_LLM_TITLES": "true" if titles else "false"}


def msgs(srv, h, cid):
    r = srv.get(f"/api/v1/conversations/{cid}/messages", headers=h)
    assert r.status == 200, r
    return r.json()["items"]


def send(srv, h, cid, content, **extra):
    return srv.post(f"/api/v1/conversations/{cid}/messages", {"content": content, **extra},
                    headers=h)


# --- the JSON form ---------------------------------------------------------

def test_json_reply_from_the_llm_is_stored(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    assert c["model"] == "fake-small"                       # the LLM is the default
    up.set_scenario(text="Paris is the capital of France.")
    r = send(llm, h, c["id"], "What is the capital of France?", stream=False)
    assert r.status == 201, r
    body = r.json()
    assert body["user_message"]["role"] == "user"
    assert body["user_message"]["content"] == "What is the capital of France?"
    assert body["reply"]["role"] == "assistant" and body["reply"]["status"] == "complete"
    assert body["reply"]["content"] == "Paris is the capital of France."
    assert body["reply"]["model"] == "fake-small"
    assert [m["id"] for m in msgs(llm, h, c["id"])] == [body["user_message"]["id"],
                                                        body["reply"]["id"]]


def test_the_llm_names_new_conversations(up, make_server):
    srv = make_server("chatbot", env=llm_env(up, titles=True)).start()
    h = signed_in(srv)
    c = new_conversation(srv, h)
    up.set_scenario(text='"Sourdough Baking at Home."\nMore text')
    send(srv, h, c["id"], "How do I bake sourdough bread?", stream=False)
    deadline = time.time() + 5
    while time.time() < deadline:
        title = srv.get(f"/api/v1/conversations/{c['id']}", headers=h).json()["title"]
        if title == "Sourdough Baking at Home":
            break
        time.sleep(0.05)
    assert title == "Sourdough Baking at Home"
    prompts = [r["messages"] for r in up.log() if r["messages"][0]["content"].startswith("Write a title")]
    assert prompts and prompts[0][1] == {"role": "user", "content": "How do I bake sourdough bread?"}
    # A title the user chose is never overwritten.
    c2 = new_conversation(srv, h, title="Mine")
    send(srv, h, c2["id"], "hello there", stream=False)
    time.sleep(0.5)
    assert srv.get(f"/api/v1/conversations/{c2['id']}", headers=h).json()["title"] == "Mine"


def test_first_message_names_the_conversation(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    assert c["title"] == "New chat"
    send(llm, h, c["id"], "  How do   I bake sourdough bread at home without a scale?\nThanks",
         stream=False)
    title = llm.get(f"/api/v1/conversations/{c['id']}", headers=h).json()["title"]
    assert title.startswith("How do I bake sourdough bread") and len(title) <= 61
    send(llm, h, c["id"], "Another question", stream=False)
    assert llm.get(f"/api/v1/conversations/{c['id']}", headers=h).json()["title"] == title


def test_the_model_sees_the_system_prompt_and_history(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h, system_prompt="You are terse.")
    send(llm, h, c["id"], "first", stream=False)
    up.set_scenario(echo=True)
    send(llm, h, c["id"], "second", stream=False)
    sent = up.log()[-1]["messages"]
    assert sent[0]["role"] == "system" and sent[0]["content"].startswith("You are terse.")
    assert [(m["role"], m["content"]) for m in sent[1:]] == [
        ("user", "first"), ("assistant", "Hello from the fake upstream."), ("user", "second")]


def test_the_model_gets_knowledge_base_passages_with_sources(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    up.set_scenario(echo=True)
    send(llm, h, c["id"], "How do I change my password?", stream=False)
    system = up.log()[-1]["messages"][0]
    assert system["role"] == "system"
    assert "[Source: Account and password" in system["content"]
    assert up.log()[-1]["messages"][-1] == {"role": "user", "content": "How do I change my password?"}


def test_context_budget_drops_old_turns_but_keeps_the_new_message(up, make_server):
    srv = make_server("chatbot", env={**llm_env(up), "CHATBOT_CONTEXT_BUDGET_CHARS": "1000"}).start()
    h = signed_in(srv)
    c = new_conversation(srv, h)
    for i in range(3):
        send(srv, h, c["id"], f"{i} " + "x" * 400, stream=False)
    send(srv, h, c["id"], "y" * 1500, stream=False)
    sent = [m for m in up.log()[-1]["messages"] if m["role"] != "system"]
    assert sent[-1]["content"] == "y" * 1500
    assert len(sent) == 1
    send(srv, h, c["id"], "short", stream=False)
    sent = [m for m in up.log()[-1]["messages"] if m["role"] != "system"]
    assert sent[-1]["content"] == "short" and sum(len(m["content"]) for m in sent) <= 1000 + 5


# --- the SSE form ----------------------------------------------------------

def test_stream_deltas_add_up_to_the_stored_reply(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    text = "Streaming works token by token, with ünïcödé ✓ and emoji 👋 too."
    up.set_scenario(text=text, rate=100)
    s = stream(llm, f"/api/v1/conversations/{c['id']}/messages", {"content": "hi", "stream": True}, h)
    assert s.status == 200 and s.headers["content-type"].startswith("text/event-stream")
    assert s.headers["cache-control"] == "no-store"
    events = s.all()
    s.close()
    names = [e[0] for e in events]
    assert names[0] == "user_message" and names[-1] == "done"
    assert names.count("delta") >= 5
    deltas = "".join(d["content"] for n, d in events if n == "delta")
    done = events[-1][1]["message"]
    assert deltas == done["content"] == text and done["status"] == "complete"
    assert msgs(llm, h, c["id"])[-1] == done


def test_accept_header_asks_for_a_stream_and_the_body_wins(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    s = stream(llm, f"/api/v1/conversations/{c['id']}/messages", {"content": "hi"},
               {**h, "Accept": "text/event-stream"})
    assert [e[0] for e in s.all()][-1] == "done"
    s.close()
    r = send(llm, h, c["id"], "hi", stream=False)
    assert r.status == 201
    r = llm.post(f"/api/v1/conversations/{c['id']}/messages", {"content": "x", "stream": False},
                 headers={**h, "Accept": "text/event-stream"})
    assert r.status == 201 and r.header("content-type").startswith("application/json")


def test_split_stream_from_upstream_is_reassembled(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    text = "héllo wörld ✓ 👋 — split into tiny pieces\r\nacross lines"
    up.set_scenario(text=text, mode="split")
    r = send(llm, h, c["id"], "go", stream=False)
    assert r.status == 201 and r.json()["reply"]["content"] == text


# --- stop, disconnect, one reply at a time -----------------------------------

def start_slow(srv, h, cid, up, **scenario):
    up.set_scenario(**({"tokens": 1000, "rate": 10} | scenario))
    s = stream(srv, f"/api/v1/conversations/{cid}/messages", {"content": "long", "stream": True}, h)
    assert s.next()[0] == "user_message"
    ev = s.next()
    assert ev[0] == "delta", ev
    s.first_delta = ev[1]["content"]
    return s


def test_stop_keeps_the_partial_reply_and_closes_upstream(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    s = start_slow(llm, h, c["id"], up)
    t0 = time.time()
    assert llm.post(f"/api/v1/conversations/{c['id']}/stop", headers=h).status == 204
    rest = s.all()
    s.close()
    assert rest[-1][0] == "done"
    final = rest[-1][1]["message"]
    assert final["status"] == "stopped" and final["content"].startswith("tok0")
    assert up.wait(1, disconnected=True, timeout=2) is not None, up.log()
    assert time.time() - t0 < 2.5
    assert msgs(llm, h, c["id"])[-1]["status"] == "stopped"
    # Free again: the next message is answered.
    up.set_scenario(text="ok")
    assert send(llm, h, c["id"], "again", stream=False).json()["reply"]["content"] == "ok"


def test_client_disconnect_cancels_upstream_within_two_seconds(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    s = start_slow(llm, h, c["id"], up, mode="stall", stall_after=3, rate=0)
    s.close()
    entry = up.wait(1, disconnected=True, timeout=2)
    assert entry is not None, up.log()
    deadline = time.time() + 5
    while msgs(llm, h, c["id"])[-1]["status"] == "streaming" and time.time() < deadline:
        time.sleep(0.05)
    last = msgs(llm, h, c["id"])[-1]
    assert last["status"] == "stopped" and last["content"].startswith("tok0")


def test_partial_reply_is_stored_while_streaming(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    s = start_slow(llm, h, c["id"], up, rate=20)
    time.sleep(2.3)
    during = msgs(llm, h, c["id"])[-1]
    assert during["status"] == "streaming" and during["content"].startswith("tok0 tok1")
    llm.post(f"/api/v1/conversations/{c['id']}/stop", headers=h)
    s.all()
    s.close()


def test_one_reply_at_a_time(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    s = start_slow(llm, h, c["id"], up)
    problem(send(llm, h, c["id"], "second", stream=False), 409)
    problem(llm.post(f"/api/v1/conversations/{c['id']}/regenerate", {}, headers=h), 409)
    other = new_conversation(llm, h)                      # other conversations are free
    up.set_scenario(text="parallel")
    assert send(llm, h, other["id"], "x", stream=False).json()["reply"]["content"] == "parallel"
    llm.post(f"/api/v1/conversations/{c['id']}/stop", headers=h)
    s.all()
    s.close()
    assert len(msgs(llm, h, c["id"])) == 2                # the refused message was not stored


def test_stop_with_nothing_running_is_204(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    assert llm.post(f"/api/v1/conversations/{c['id']}/stop", headers=h).status == 204


# --- regenerate ------------------------------------------------------------------

def test_regenerate_replaces_the_last_reply_in_both_forms(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    up.set_scenario(text="first answer")
    first = send(llm, h, c["id"], "q", stream=False).json()["reply"]
    up.set_scenario(text="second answer")
    r = llm.post(f"/api/v1/conversations/{c['id']}/regenerate", {"stream": False}, headers=h)
    assert r.status == 200, r
    assert r.json()["id"] == first["id"] and r.json()["content"] == "second answer"
    up.set_scenario(text="third answer")
    s = stream(llm, f"/api/v1/conversations/{c['id']}/regenerate", {"stream": True}, h)
    events = s.all()
    s.close()
    assert "user_message" not in [e[0] for e in events]
    assert events[-1][1]["message"]["content"] == "third answer"
    items = msgs(llm, h, c["id"])
    assert [m["content"] for m in items] == ["q", "third answer"]
    assert up.log()[-1]["messages"][-1] == {"role": "user", "content": "q"}


def test_regenerate_without_a_reply_is_409(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    problem(llm.post(f"/api/v1/conversations/{c['id']}/regenerate", {}, headers=h), 409)


# --- failures of the language model ------------------------------------------------

@pytest.mark.parametrize("scenario,words", [
    ({"mode": "status", "status": 401}, "API key"),
    ({"mode": "status", "status": 404}, "model"),
    ({"mode": "status", "status": 429}, "rate"),
    ({"mode": "status", "status": 500}, "500"),
    ({"mode": "malformed", "malformed_after": 2}, "malformed"),
    ({"mode": "cut", "cut_after": 2}, "cut off"),
    ({"mode": "garbage"}, ""),
    ({"mode": "stall", "stall_after": 1}, "stopped responding"),
])
def test_upstream_failures_become_error_events_and_problems(llm, up, scenario, words):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    up.set_scenario(**scenario)
    s = stream(llm, f"/api/v1/conversations/{c['id']}/messages", {"content": "hi", "stream": True}, h)
    events = s.all()
    s.close()
    assert events[0][0] == "user_message" and events[-1][0] == "error", events
    err = events[-1][1]
    assert words in err["detail"] and err["message"]["status"] == "error"
    stored = msgs(llm, h, c["id"])
    assert stored[0]["content"] == "hi" and stored[1]["status"] == "error"
    # The JSON form: 502 problem+json naming the stored objects.
    r = send(llm, h, c["id"], "again", stream=False)
    body = problem(r, 502)
    assert words in body["detail"] and body["reply"]["status"] == "error"
    assert body["user_message"]["content"] == "again"


def test_unreachable_llm_is_an_error_not_a_hang(make_server, up):
    srv = make_server("chatbot", env={"CHATBOT_LLM_URL": "http://127.0.0.1:9/v1",
                                      "CHATBOT_LLM_MODEL": "m"}).start()
    h = signed_in(srv)
    c = new_conversation(srv, h)
    body = problem(send(srv, h, c["id"], "hi", stream=False), 502)
    assert "connect" in body["detail"]


# --- models -------------------------------------------------------------------

def test_models_lists_builtin_and_the_upstream(llm, up):
    h = signed_in(llm)
    problem(llm.get("/api/v1/models"), 401)
    r = llm.get("/api/v1/models", headers=h)
    assert r.status == 200
    items = r.json()["items"]
    assert {"id": "builtin", "name": "Built-in knowledge base", "provider": "builtin"} in items
    assert {i["id"] for i in items if i["provider"] == "openai"} == {"fake-small", "fake-large"}
    assert r.json()["default"] == "fake-small"


def test_conversation_model_must_be_offered(llm, up):
    h = signed_in(llm)
    body = problem(llm.post("/api/v1/conversations", {"model": "gpt-17"}, headers=h), 400)
    assert "model" in body["errors"]
    c = new_conversation(llm, h, model="fake-large")
    assert c["model"] == "fake-large"
    r = llm.patch(f"/api/v1/conversations/{c['id']}", {"model": "nope"}, headers=h)
    assert "model" in problem(r, 400)["errors"]
    r = llm.patch(f"/api/v1/conversations/{c['id']}", {"model": "builtin"}, headers=h)
    assert r.status == 200 and r.json()["model"] == "builtin"


# --- bad input and other users ---------------------------------------------------

@pytest.mark.parametrize("body,field", [
    ({}, "content"), ({"content": ""}, "content"), ({"content": " \n\t "}, "content"),
    ({"content": 5}, "content"), ({"content": None}, "content"), ({"content": ["x"]}, "content"),
    ({"content": "a\u0000b"}, "content"), ({"content": "x" * 100001}, "content"),
    ({"content": "hi", "stream": "yes"}, "stream"), ({"content": "hi", "role": "system"}, "role"),
    ({"content": "hi", "status": "complete"}, "status"), ({"content": "hi", "id": 1}, "id"),
])
def test_bad_messages_are_400_and_store_nothing(llm, up, body, field):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    r = llm.post(f"/api/v1/conversations/{c['id']}/messages", body, headers=h)
    assert field in problem(r, 400)["errors"]
    assert msgs(llm, h, c["id"]) == []


def test_hostile_bodies(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    url = f"/api/v1/conversations/{c['id']}/messages"
    problem(llm.post(url, raw=b"content=hi", headers={**h, "Content-Type": "text/plain"}), 415)
    problem(llm.request("POST", url, raw=b"{not json", headers={**h, "Content-Type": "application/json"}), 400)
    problem(llm.request("POST", url, raw=b'{"content": "\xff"}', headers={**h, "Content-Type": "application/json"}), 400)
    problem(llm.request("POST", url, raw=b'["hi"]', headers={**h, "Content-Type": "application/json"}), 400)
    problem(llm.post(url, {"content": "hi"}, headers={"Cookie": h["Cookie"]}), 403)   # no CSRF
    problem(llm.post(url, {"content": "hi"}), 401)
    assert msgs(llm, h, c["id"]) == []


@pytest.mark.parametrize("cid", ["abc", "0", "-1", "1.5", "99999999", "9" * 40, "%00"])
def test_invalid_conversation_ids_are_404(llm, up, cid):
    h = signed_in(llm)
    for method, path in [("POST", "messages"), ("GET", "messages"), ("POST", "regenerate"),
                         ("POST", "stop")]:
        r = llm.request(method, f"/api/v1/conversations/{cid}/{path}",
                        json_body={"content": "x"} if method == "POST" else None, headers=h)
        problem(r, 404)


def test_another_users_conversation_is_404_everywhere(llm, up):
    alice, bob = signed_in(llm), signed_in(llm)
    c = new_conversation(llm, alice)
    send(llm, alice, c["id"], "secret", stream=False)
    base = f"/api/v1/conversations/{c['id']}"
    problem(llm.post(base + "/messages", {"content": "x"}, headers=bob), 404)
    problem(llm.get(base + "/messages", headers=bob), 404)
    problem(llm.post(base + "/regenerate", {}, headers=bob), 404)
    problem(llm.post(base + "/stop", headers=bob), 404)
    problem(llm.get(base + "/export", headers=bob), 404)
    assert len(msgs(llm, alice, c["id"])) == 2


def test_deleting_a_conversation_deletes_its_messages(llm, up):
    h = signed_in(llm)
    c = new_conversation(llm, h)
    send(llm, h, c["id"], "bye", stream=False)
    assert llm.delete(f"/api/v1/conversations/{c['id']}", headers=h).status == 204
    problem(llm.get(f"/api/v1/conversations/{c['id']}/messages", headers=h), 404)


def test_shutdown_during_a_stream_stores_the_reply(up, make_server):
    srv = make_server("chatbot", env=llm_env(up)).start()
    h = signed_in(srv)
    c = new_conversation(srv, h)
    s = start_slow(srv, h, c["id"], up)
    t0 = time.time()
    assert srv.stop() == 0
    assert time.time() - t0 < 10
    s.close()
    srv.start()
    last = msgs(srv, h, c["id"])[-1]
    assert last["status"] == "stopped" and last["content"].startswith("tok0")


def test_a_crash_loses_at_most_a_second_of_the_reply(up, make_server):
    srv = make_server("chatbot", env=llm_env(up)).start()
    h = signed_in(srv)
    c = new_conversation(srv, h)
    s = start_slow(srv, h, c["id"], up, rate=20)
    received = s.first_delta
    t_end = time.time() + 2.5
    while time.time() < t_end:
        name, data = s.next()
        received += data["content"]
    srv.stop(sig=signal.SIGKILL)
    s.close()
    srv.start()
    items = msgs(srv, h, c["id"])
    assert items[0]["content"] == "long"
    last = items[-1]
    assert last["status"] == "stopped"          # marked at the next start
    # At 20 tokens/s, a second is about 20 tokens: what was stored is a
    # prefix of what the client saw, missing at most ~1 s of it.
    assert received.startswith(last["content"])
    lost = received[len(last["content"]):].split()
    assert len(last["content"].split()) >= 20 and len(lost) <= 25, (len(lost), last)
