"""`chatbot users ...`: create (first administrator), list, set-roles,
deactivate — and their effect on a running server."""
import pytest

from conftest import binary
from server import problem, run_cli

PW = "correct horse battery"


@pytest.fixture
def app_server(make_server, tmp_path):
    inst = tmp_path / "users"
    inst.mkdir()
    assert run_cli(binary("chatbot"), inst, "db", "upgrade").returncode == 0
    return inst, make_server("chatbot", instance=inst)


def users(inst, *args, stdin=None):
    return run_cli(binary("chatbot"), inst, "users", *args, input=stdin)


def cookie_of(resp):
    return resp.header("set-cookie").split(";")[0]


def test_create_admin_then_list_and_use_the_admin_api(app_server):
    inst, srv = app_server
    r = users(inst, "create", "Boss@Example.org", "--admin", "--password-stdin", stdin=PW + "\n")
    assert r.returncode == 0, r
    r = users(inst, "create", "worker@example.org", "--password-stdin", stdin=PW + "\n")
    assert r.returncode == 0, r
    listing = users(inst, "list")
    assert listing.returncode == 0
    assert "Boss@Example.org" in listing.stdout and "admin,user" in listing.stdout
    assert "worker@example.org" in listing.stdout
    srv.start()
    admin = srv.post("/api/v1/auth/login", {"email": "boss@example.org", "password": PW})
    assert admin.status == 200 and "admin" in admin.json()["user"]["roles"]
    r = srv.get("/api/v1/admin/users", headers={"Cookie": cookie_of(admin)})
    assert r.status == 200 and len(r.json()["items"]) == 2
    worker = srv.post("/api/v1/auth/login", {"email": "worker@example.org", "password": PW})
    problem(srv.get("/api/v1/admin/users", headers={"Cookie": cookie_of(worker)}), 403)
    # roles change on the very next request
    assert users(inst, "set-roles", "worker@example.org", "admin", "user").returncode == 0
    assert srv.get("/api/v1/admin/users", headers={"Cookie": cookie_of(worker)}).status == 200
    # deactivation ends sessions at once
    assert users(inst, "deactivate", "worker@example.org").returncode == 0
    problem(srv.get("/api/v1/auth/me", headers={"Cookie": cookie_of(worker)}), 401)
    problem(srv.post("/api/v1/auth/login", {"email": "worker@example.org", "password": PW}), 401)


@pytest.mark.parametrize("args,stdin", [
    (["create"], None),
    (["create", "not-an-email", "--password-stdin"], PW + "\n"),
    (["create", "a@example.org", "--bogus"], None),
    (["set-roles", "a@example.org"], None),
    (["set-roles", "a@example.org", "superuser"], None),
    (["deactivate"], None),
    (["frobnicate"], None),
    (["list", "extra"], None),
])
def test_bad_users_arguments_exit_2(app_server, args, stdin):
    inst, _ = app_server
    r = users(inst, *args, stdin=stdin)
    assert r.returncode == 2 and r.stderr.strip(), r


def test_short_password_and_duplicate_email_are_refused(app_server):
    inst, _ = app_server
    r = users(inst, "create", "short@example.org", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "password" in r.stderr
    assert users(inst, "create", "dup@example.org", "--password-stdin", stdin=PW + "\n").returncode == 0
    r = users(inst, "create", "DUP@example.org", "--password-stdin", stdin=PW + "\n")
    assert r.returncode == 1 and "already" in r.stderr
    r = users(inst, "deactivate", "nobody@example.org")
    assert r.returncode == 1 and "no account" in r.stderr


def test_users_command_is_not_in_the_fixture(tmp_path):
    r = run_cli(binary("chatbot-fixture"), tmp_path, "users", "list")
    assert r.returncode == 2 and "unknown command" in r.stderr
