"""Login and registration throttling with the default limits (docs/auth.md):
back-off per account and per address, 429 + Retry-After, a correct password
refused during a lock, malformed requests not counted."""
import time

import pytest

from server import problem

AUTH = "/api/v1/auth"
PW = "correct horse battery"


@pytest.fixture
def fresh_app(make_server):
    return make_server("chatbot").start()


def login(app, email, password=PW):
    return app.post(f"{AUTH}/login", {"email": email, "password": password})


def test_failed_logins_back_off_and_lock_even_the_right_password(fresh_app):
    app = fresh_app
    assert app.post(f"{AUTH}/register", {"email": "victim@example.org", "password": PW}).status == 201
    for _ in range(6):                              # 5 free failures, the 6th locks for 2 s
        problem(login(app, "victim@example.org", "wrong password"), 401)
    r = login(app, "victim@example.org")            # the right password, during the lock
    doc = problem(r, 429)
    wait = int(r.header("retry-after"))
    assert 1 <= wait <= 2 and "try again" in doc["detail"]
    time.sleep(wait + 0.2)
    assert login(app, "victim@example.org").status == 200
    # success clears the account's count: the next failure is free again
    problem(login(app, "victim@example.org", "wrong password"), 401)
    assert login(app, "victim@example.org").status == 200


def test_unknown_accounts_are_throttled_alike(fresh_app):
    for _ in range(6):
        problem(login(fresh_app, "ghost@example.org", "whatever pw"), 401)
    problem(login(fresh_app, "ghost@example.org", "whatever pw"), 429)


def test_malformed_requests_do_not_count(fresh_app):
    app = fresh_app
    assert app.post(f"{AUTH}/register", {"email": "careful@example.org", "password": PW}).status == 201
    for _ in range(10):
        problem(app.post(f"{AUTH}/login", {"email": "careful@example.org"}), 400)
    assert login(app, "careful@example.org").status == 200


def test_registrations_per_address(fresh_app):
    for i in range(10):
        r = fresh_app.post(f"{AUTH}/register", {"email": f"bulk{i}@example.org", "password": PW})
        assert r.status == 201, r
    r = fresh_app.post(f"{AUTH}/register", {"email": "bulk10@example.org", "password": PW})
    problem(r, 429)
    assert 1 <= int(r.header("retry-after")) <= 3600
