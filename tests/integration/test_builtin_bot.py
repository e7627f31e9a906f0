"""The built-in offline bot: answers from the knowledge base (the user
guide is loaded on a fresh install), quotes its sources, admits when it
knows nothing — through the real chat endpoints, no LLM configured."""
import pytest

from chat_client import new_conversation, signed_in, stream
from server import problem


def ask(app, h, question, **extra):
    c = new_conversation(app, h)
    r = app.post(f"/api/v1/conversations/{c['id']}/messages",
                 {"content": question, "stream": False, **extra}, headers=h)
    assert r.status == 201, r
    return r.json()["reply"]


def test_new_conversations_use_the_builtin_bot_without_an_llm(app):
    h = signed_in(app)
    assert new_conversation(app, h)["model"] == "builtin"
    r = app.get("/api/v1/models", headers=h).json()
    assert r["items"] == [{"id": "builtin", "name": "Built-in knowledge base",
                           "provider": "builtin"}]
    assert r["default"] == "builtin"
    body = problem(app.post("/api/v1/conversations", {"model": "llama3"}, headers=h), 400)
    assert "model" in body["errors"]


@pytest.mark.parametrize("question,source,words", [
    ("How do I change my password?", "Account and password", ["password"]),
    ("how do I connect Ollama?", "Connecting an LLM", ["11434"]),
    ("How can I create an API token?", "API tokens", ["token"]),
])
def test_answers_from_the_user_guide_with_sources(app, question, source, words):
    reply = ask(app, signed_in(app), question)
    assert reply["status"] == "complete" and reply["model"] == "builtin"
    assert source in reply["content"], reply["content"]
    for w in words:
        assert w in reply["content"].lower()


@pytest.mark.parametrize("question", ["xylophone quasar zebrafish",
                                      "How do I reverse a list in Python?"])
def test_says_plainly_when_it_knows_nothing(app, question):
    reply = ask(app, signed_in(app), question)
    text = reply["content"].lower()
    assert "don't know" in text or "do not know" in text or "nothing" in text, reply["content"]


def test_stream_deltas_add_up_and_answers_are_deterministic(app):
    h = signed_in(app)
    c = new_conversation(app, h)
    s = stream(app, f"/api/v1/conversations/{c['id']}/messages",
               {"content": "How do I change my password?", "stream": True}, h)
    events = s.all()
    s.close()
    deltas = [d["content"] for n, d in events if n == "delta"]
    assert events[0][0] == "user_message" and events[-1][0] == "done"
    assert "".join(deltas) == events[-1][1]["message"]["content"]
    assert ask(app, h, "How do I change my password?")["content"] == events[-1][1]["message"]["content"]


@pytest.mark.parametrize("hostile", ['"', '"unbalanced', "NEAR(a b)", "*", "a OR", "(", ")",
                                     "body:x", "^x", "-x", "' OR 1=1 --", "🦄" * 50, "x" * 5000])
def test_hostile_questions_get_an_answer_not_an_error(app, hostile):
    reply = ask(app, signed_in(app), hostile)
    assert reply["status"] == "complete" and reply["content"]


def test_an_admins_document_is_used_for_answers(app, tmp_path):
    # Documents are added by administrators (test_documents.py covers the
    # endpoint); here the bot must find a fresh one.
    from conftest import binary
    from server import run_cli
    run_cli(binary("chatbot"), app.instance, "users", "create", "kb-admin@example.org", "--admin",
            "--password-stdin", input="correct horse battery\n")
    r = app.post("/api/v1/auth/login", {"email": "kb-admin@example.org",
                                        "password": "correct horse battery"})
    admin = {"Cookie": r.header("set-cookie").split(";")[0], "X-CSRF-Token": r.json()["csrf_token"]}
    r = app.post("/api/v1/admin/documents", {"title": "Office plants",
                                             "content": "# Watering\n\nThe ficus in room 4 is "
                                                        "watered every Tuesday by Marguerite."},
                 headers=admin)
    assert r.status == 201, r
    reply = ask(app, signed_in(app), "Who waters the ficus?")
    assert "Marguerite" in reply["content"] and "Office plants" in reply["content"]
