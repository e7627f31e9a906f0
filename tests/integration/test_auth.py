"""Accounts (issue 3, first part): register, login, logout, me, server-side
sessions, CSRF, generic login errors — over real HTTPS against the real
application binary and its SQLite file."""
import http.cookies
import sqlite3
import os

import pytest

from server import problem

AUTH = "/api/v1/auth"
COOKIE = "__Host-chatbot_session"


def session_cookie(resp):
    raw = resp.header("set-cookie") or ""
    jar = http.cookies.SimpleCookie()
    jar.load(raw)
    return jar[COOKIE].value if COOKIE in jar else None, raw


def register(app, email, password="correct horse battery"):
    return app.post(f"{AUTH}/register", {"email": email, "password": password})


def login(app, email, password="correct horse battery", **extra):
    body = {"email": email, "password": password}
    body.update(extra)
    return app.post(f"{AUTH}/login", body)


def signed_in(app, email):
    assert register(app, email).status == 201
    r = login(app, email)
    assert r.status == 200, r
    cookie, _ = session_cookie(r)
    return cookie, r.json()["csrf_token"]


def with_session(cookie, csrf=None):
    h = {"Cookie": f"{COOKIE}={cookie}"}
    if csrf:
        h["X-CSRF-Token"] = csrf
    return h


def test_register_returns_the_user_without_secrets(app):
    r = register(app, "  Reg@Example.org ")
    assert r.status == 201, r
    assert r.header("cache-control") == "no-store"
    user = r.json()["user"]
    assert set(user) == {"id", "email", "roles", "active", "created_at"}
    assert user["email"] == "Reg@Example.org" and user["roles"] == ["user"] and user["active"]


def test_emails_are_unique_case_insensitively(app):
    assert register(app, "Dup@Example.org").status == 201
    doc = problem(register(app, "dUP@example.ORG"), 400)
    assert "email" in doc["errors"]


@pytest.mark.parametrize("pw,ok", [("1234567", False), ("12345678", True), ("x" * 128, True),
                                   ("x" * 129, False), ("😀" * 8, True), ("😀" * 7, False)])
def test_password_length_in_characters(app, pw, ok):
    import uuid
    r = register(app, f"len-{uuid.uuid4().hex[:8]}@example.org", pw)
    if ok:
        assert r.status == 201, r
    else:
        assert "password" in problem(r, 400)["errors"]


def test_combining_characters_match_precomposed(app):
    assert register(app, "nfkd@example.org", "caf\u00e9-password").status == 201
    assert login(app, "nfkd@example.org", "cafe\u0301-password").status == 200


@pytest.mark.parametrize("body,field", [
    ({"email": "mass@example.org", "password": "correct horse", "roles": ["admin"]}, "roles"),
    ({"email": "mass@example.org", "password": "correct horse", "active": False}, "active"),
    ({"email": "mass@example.org", "password": "correct horse", "id": 1}, "id"),
    ({"email": "not-an-email", "password": "correct horse"}, "email"),
    ({"email": "nul\u0000@example.org", "password": "correct horse"}, "email"),
    ({"email": "nul@example.org", "password": "correct\u0000horse"}, "password"),
    ({"email": 5, "password": "correct horse"}, "email"),
    ({"password": "correct horse"}, "email"),
    ({"email": "nopw@example.org"}, "password"),
])
def test_register_refuses_bad_or_hostile_fields_and_writes_nothing(app, body, field):
    before = count_users(app)
    assert field in problem(app.post(f"{AUTH}/register", body), 400)["errors"]
    assert count_users(app) == before


def test_register_invalid_utf8_is_400(app):
    problem(app.request("POST", f"{AUTH}/register", raw=b'{"email":"a@b.co","password":"\xff\xfe12345678"}',
                        headers={"Content-Type": "application/json"}), 400)


def count_users(app):
    db = sqlite3.connect(os.path.join(app.instance, "chatbot.db"))
    try:
        return db.execute("SELECT count(*) FROM users").fetchone()[0]
    finally:
        db.close()


def test_login_sets_a_hardened_session_cookie_and_returns_csrf(app):
    register(app, "cookie@example.org")
    r = login(app, "cookie@example.org")
    assert r.status == 200 and r.header("cache-control") == "no-store"
    cookie, raw = session_cookie(r)
    assert cookie and len(cookie) == 43
    for attr in ("Secure", "HttpOnly", "SameSite=Lax", "Path=/"):
        assert attr in raw, raw
    assert "Max-Age" not in raw and "Expires" not in raw      # a browser-session cookie
    assert len(r.json()["csrf_token"]) == 43
    r = login(app, "cookie@example.org", remember=True)
    assert "Max-Age=2592000" in session_cookie(r)[1]


def test_login_errors_are_generic(app):
    register(app, "generic@example.org")
    db = sqlite3.connect(os.path.join(app.instance, "chatbot.db"))
    register(app, "inactive@example.org")
    db.execute("UPDATE users SET active = 0 WHERE email = 'inactive@example.org'")
    db.commit()
    db.close()
    answers = [login(app, "nobody@example.org"), login(app, "generic@example.org", "wrong password"),
               login(app, "inactive@example.org")]
    assert {a.status for a in answers} == {401}
    assert len({a.body for a in answers}) == 1


def test_me_logout_and_replay(app):
    cookie, csrf = signed_in(app, "me@example.org")
    r = app.get(f"{AUTH}/me", headers=with_session(cookie))
    assert r.status == 200 and r.json()["user"]["email"] == "me@example.org"
    assert r.json()["csrf_token"] == csrf and r.header("cache-control") == "no-store"
    again = login(app, "me@example.org").json()["user"]
    assert r.json()["user"] == again                 # /me and login show the same user
    problem(app.post(f"{AUTH}/logout", headers=with_session(cookie)), 403)     # no CSRF token
    r = app.post(f"{AUTH}/logout", headers=with_session(cookie, csrf))
    assert r.status == 204 and r.header("clear-site-data") == '"cookies"'
    problem(app.get(f"{AUTH}/me", headers=with_session(cookie)), 401)           # replay
    problem(app.get(f"{AUTH}/me"), 401)


def test_a_new_session_id_at_every_login(app):
    first, _ = signed_in(app, "fixation@example.org")
    r = app.post(f"{AUTH}/login", {"email": "fixation@example.org", "password": "correct horse battery"},
                 headers=with_session(first))
    second, _ = session_cookie(r)
    assert second and second != first
    problem(app.get(f"{AUTH}/me", headers=with_session(first)), 401)            # the old one ended
    assert app.get(f"{AUTH}/me", headers=with_session(second)).status == 200


def test_csrf_required_on_unsafe_cookie_requests(app):
    cookie, csrf = signed_in(app, "csrf@example.org")
    _, other_csrf = signed_in(app, "csrf2@example.org")
    url = "/api/v1/conversations"
    problem(app.post(url, {"title": "x"}, headers=with_session(cookie)), 403)
    problem(app.post(url, {"title": "x"}, headers=with_session(cookie, "wrong")), 403)
    problem(app.post(url, {"title": "x"}, headers=with_session(cookie, other_csrf)), 403)
    r = app.post(url, {"title": "x"}, headers=with_session(cookie, csrf))
    assert r.status == 201, r
    assert app.get(url, headers=with_session(cookie)).status == 200             # safe: no token needed
    h = with_session(cookie, csrf)
    h["Origin"] = "https://evil.example"
    problem(app.post(url, {"title": "x"}, headers=h), 403)


def test_conversations_are_owner_scoped(app):
    a, a_csrf = signed_in(app, "owner-a@example.org")
    b, _ = signed_in(app, "owner-b@example.org")
    r = app.post("/api/v1/conversations", {"title": "mine"}, headers=with_session(a, a_csrf))
    cid = r.json()["id"]
    assert app.get(f"/api/v1/conversations/{cid}", headers=with_session(a)).status == 200
    problem(app.get(f"/api/v1/conversations/{cid}", headers=with_session(b)), 404)
    assert app.get("/api/v1/conversations", headers=with_session(b)).json()["items"] == []


def test_admin_endpoints(app):
    problem(app.get("/api/v1/admin/users"), 401)
    cookie, _ = signed_in(app, "plain@example.org")
    problem(app.get("/api/v1/admin/users", headers=with_session(cookie)), 403)


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_api_tokens_shown_once_used_as_bearer_and_revoked(app):
    cookie, csrf = signed_in(app, "tokens@example.org")
    r = app.post("/api/v1/tokens", {"name": "laptop", "expires_in_days": 30},
                 headers=with_session(cookie, csrf))
    assert r.status == 201, r
    tok = r.json()
    assert tok["token"].startswith("cbt_") and len(tok["token"]) == 47
    assert set(tok) == {"id", "name", "token", "created_at", "expires_at", "last_used_at"}
    listed = app.get("/api/v1/tokens", headers=with_session(cookie)).json()["items"]
    assert [t["name"] for t in listed] == ["laptop"] and "token" not in listed[0]
    # bearer requests need no CSRF token, may manage tokens, and never use the query string
    me = app.get(f"{AUTH}/me", headers=bearer(tok["token"]))
    assert me.status == 200 and me.json()["user"]["email"] == "tokens@example.org"
    r = app.post("/api/v1/conversations", {"title": "by token"}, headers=bearer(tok["token"]))
    assert r.status == 201, r
    problem(app.get(f"/api/v1/conversations?access_token={tok['token']}"), 401)
    problem(app.get(f"{AUTH}/me", headers=bearer(tok["token"][:-1] + "x")), 401)
    assert app.get("/api/v1/tokens", headers=bearer(tok["token"])).json()["items"][0]["last_used_at"]
    assert app.delete(f"/api/v1/tokens/{tok['id']}", headers=with_session(cookie, csrf)).status == 204
    problem(app.get(f"{AUTH}/me", headers=bearer(tok["token"])), 401)


@pytest.mark.parametrize("body,field", [({}, "name"), ({"name": ""}, "name"), ({"name": "x" * 101}, "name"),
                                        ({"name": 5}, "name"), ({"name": "a", "expires_in_days": 0}, "expires_in_days"),
                                        ({"name": "a", "expires_in_days": "7"}, "expires_in_days"),
                                        ({"name": "a", "user_id": 1}, "user_id")])
def test_token_creation_refuses_bad_fields(app, body, field):
    cookie, csrf = signed_in(app, f"tokbad-{field}-{len(str(body))}@example.org")
    assert field in problem(app.post("/api/v1/tokens", body, headers=with_session(cookie, csrf)), 400)["errors"]


def test_another_users_token_is_404(app):
    a, a_csrf = signed_in(app, "tok-a@example.org")
    b, b_csrf = signed_in(app, "tok-b@example.org")
    tid = app.post("/api/v1/tokens", {"name": "a's"}, headers=with_session(a, a_csrf)).json()["id"]
    problem(app.delete(f"/api/v1/tokens/{tid}", headers=with_session(b, b_csrf)), 404)


def test_password_change_ends_other_sessions_and_tokens(app):
    email = "change@example.org"
    here, csrf = signed_in(app, email)
    elsewhere = session_cookie(login(app, email))[0]
    token = app.post("/api/v1/tokens", {"name": "t"}, headers=with_session(here, csrf)).json()["token"]
    url = f"{AUTH}/password"
    doc = problem(app.post(url, {"current_password": "wrong password", "new_password": "brand new secret"},
                           headers=with_session(here, csrf)), 400)
    assert "current_password" in doc["errors"]
    doc = problem(app.post(url, {"current_password": "correct horse battery",
                                 "new_password": "correct horse battery"}, headers=with_session(here, csrf)), 400)
    assert "new_password" in doc["errors"]
    problem(app.post(url, {"current_password": "correct horse battery", "new_password": "short"},
                     headers=with_session(here, csrf)), 400)
    r = app.post(url, {"current_password": "correct horse battery", "new_password": "brand new secret"},
                 headers=with_session(here, csrf))
    assert r.status == 204, r
    assert app.get(f"{AUTH}/me", headers=with_session(here)).status == 200        # this session stays
    problem(app.get(f"{AUTH}/me", headers=with_session(elsewhere)), 401)
    problem(app.get(f"{AUTH}/me", headers=bearer(token)), 401)
    problem(login(app, email), 401)
    assert login(app, email, "brand new secret").status == 200


@pytest.mark.parametrize("path,raw", [
    (f"{AUTH}/login", b'{"email":"a@b.co","password":"\xff\xfe12345678"}'),
    (f"{AUTH}/login", b'{"email":"a\\u0000@b.co","password":"12345678"}'),
    (f"{AUTH}/login", b'{"email":["a@b.co"],"password":"12345678"}'),
    (f"{AUTH}/login", b'{"email":"a@b.co","password":12345678}'),
    (f"{AUTH}/login", b'{"email":"a@b.co","password":"12345678","remember":"yes"}'),
    (f"{AUTH}/login", b'{"email":"a@b.co","password":"12345678","admin":true}'),
    (f"{AUTH}/login", b'[]'),
    (f"{AUTH}/register", b'{"email":"a@b.co","password":"12345678","email":"c@d.co"}'),
])
def test_login_and_register_hostile_bodies_are_400(app, path, raw):
    problem(app.request("POST", path, raw=raw, headers={"Content-Type": "application/json"}), 400)


@pytest.mark.parametrize("body,field", [
    ({"current_password": "correct horse battery", "new_password": "new\u0000password"}, "new_password"),
    ({"current_password": "correct horse battery", "new_password": 12345678}, "new_password"),
    ({"new_password": "brand new secret"}, "current_password"),
    ({"current_password": "correct horse battery", "new_password": "brand new secret", "user_id": 1}, "user_id"),
])
def test_password_change_hostile_bodies_are_400(app, body, field):
    cookie, csrf = signed_in(app, f"pwbad-{field}-{len(str(body))}@example.org")
    doc = problem(app.post(f"{AUTH}/password", body, headers=with_session(cookie, csrf)), 400)
    assert field in doc["errors"]
    assert login(app, f"pwbad-{field}-{len(str(body))}@example.org").status == 200   # unchanged


def test_the_pepper_is_made_on_first_start_and_guarded(make_server, tmp_path):
    import stat
    inst = tmp_path / "pepper"
    srv = make_server("chatbot", instance=inst).start()
    pepper = inst / "secrets" / "pepper"
    assert pepper.stat().st_size == 32 and stat.S_IMODE(pepper.stat().st_mode) == 0o600
    assert srv.stop() == 0
    pepper.write_bytes(b"short")                    # damaged: refuse to start, never replace it
    from conftest import binary
    from server import run_cli
    r = run_cli(binary("chatbot"), inst, "serve", "--port", "1")
    assert r.returncode == 1 and "pepper" in r.stderr and pepper.read_bytes() == b"short"
