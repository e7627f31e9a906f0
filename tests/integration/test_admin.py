"""PATCH /api/v1/admin/users/{id}: activate, deactivate, roles — as
anonymous, user and admin; mass assignment and self-lockout refused."""
import pytest

from conftest import binary
from server import problem, run_cli

PW = "correct horse battery"


@pytest.fixture
def site(make_server, tmp_path):
    inst = tmp_path / "admin"
    inst.mkdir()
    run_cli(binary("chatbot"), inst, "db", "upgrade")
    run_cli(binary("chatbot"), inst, "users", "create", "root@example.org", "--admin",
            "--password-stdin", input=PW + "\n")
    srv = make_server("chatbot", instance=inst).start()
    assert srv.post("/api/v1/auth/register", {"email": "bob@example.org", "password": PW}).status == 201
    return srv


def session(srv, email):
    r = srv.post("/api/v1/auth/login", {"email": email, "password": PW})
    assert r.status == 200, r
    return {"Cookie": r.header("set-cookie").split(";")[0], "X-CSRF-Token": r.json()["csrf_token"]}


def user_id(srv, admin, email):
    items = srv.get("/api/v1/admin/users", headers=admin).json()["items"]
    return next(u["id"] for u in items if u["email"] == email)


def test_patch_as_anonymous_user_and_admin(site):
    admin = session(site, "root@example.org")
    bob = session(site, "bob@example.org")
    bid = user_id(site, admin, "bob@example.org")
    url = f"/api/v1/admin/users/{bid}"
    problem(site.patch(url, {"active": False}), 401)
    problem(site.patch(url, {"active": False}, headers=bob), 403)
    problem(site.patch(url, {"roles": ["admin"]}, headers={"Cookie": admin["Cookie"]}), 403)  # no CSRF
    r = site.patch(url, {"roles": ["admin", "user"]}, headers=admin)
    assert r.status == 200 and sorted(r.json()["roles"]) == ["admin", "user"]
    assert site.get("/api/v1/admin/users", headers=bob).status == 200     # the very next request
    r = site.patch(url, {"active": False}, headers=admin)
    assert r.status == 200 and r.json()["active"] is False
    problem(site.get("/api/v1/auth/me", headers=bob), 401)               # sessions ended at once
    problem(site.post("/api/v1/auth/login", {"email": "bob@example.org", "password": PW}), 401)
    assert site.patch(url, {"active": True}, headers=admin).json()["active"] is True
    assert site.post("/api/v1/auth/login", {"email": "bob@example.org", "password": PW}).status == 200


@pytest.mark.parametrize("body,field", [({"email": "x@example.org"}, "email"), ({"id": 5}, "id"),
                                        ({"password_hash": "x"}, "password_hash"),
                                        ({"active": "no"}, "active"), ({"roles": "admin"}, "roles"),
                                        ({"roles": ["root"]}, "roles")])
def test_patch_refuses_other_fields(site, body, field):
    admin = session(site, "root@example.org")
    bid = user_id(site, admin, "bob@example.org")
    assert field in problem(site.patch(f"/api/v1/admin/users/{bid}", body, headers=admin), 400)["errors"]


def test_admins_cannot_lock_themselves_out(site):
    admin = session(site, "root@example.org")
    me = user_id(site, admin, "root@example.org")
    problem(site.patch(f"/api/v1/admin/users/{me}", {"active": False}, headers=admin), 400)
    problem(site.patch(f"/api/v1/admin/users/{me}", {"roles": ["user"]}, headers=admin), 400)
    problem(site.patch("/api/v1/admin/users/999999", {"active": True}, headers=admin), 404)
    problem(site.patch("/api/v1/admin/users/abc", {"active": True}, headers=admin), 404)


def test_list_and_get_show_roles_and_no_secrets(site):
    admin = session(site, "root@example.org")
    items = site.get("/api/v1/admin/users", headers=admin).json()["items"]
    by_email = {u["email"]: u for u in items}
    assert sorted(by_email["root@example.org"]["roles"]) == ["admin", "user"]
    assert by_email["bob@example.org"]["roles"] == ["user"]
    bob = by_email["bob@example.org"]
    assert set(bob) == {"id", "email", "roles", "active", "created_at", "updated_at"}
    one = site.get(f"/api/v1/admin/users/{bob['id']}", headers=admin)
    assert one.status == 200 and one.json() == bob
    site.patch(f"/api/v1/admin/users/{bob['id']}", {"roles": ["admin", "user"]}, headers=admin)
    again = site.get(f"/api/v1/admin/users/{bob['id']}", headers=admin).json()
    assert sorted(again["roles"]) == ["admin", "user"]
