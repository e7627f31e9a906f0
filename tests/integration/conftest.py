"""Integration test harness: real servers on loopback ports, real HTTPS.

Each server runs from the build directory named by CHATBOT_BUILD (default
./build) with a fresh instance directory, so it creates its own self-signed
certificate and SQLite database exactly as on a user's first start. Clients
verify TLS against that certificate (hostname 127.0.0.1 is in its SAN).

Under CHATBOT_SANITIZED=1 (the ASan + UBSan build) a server's stderr is
scanned at shutdown: any sanitizer report fails the test that owned it.
"""
import os
import pytest

from server import Server

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.environ.get("CHATBOT_BUILD", os.path.join(ROOT, "build"))


def binary(name):
    path = os.path.join(BUILD, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build first (scripts/test.sh does)")
    return path


@pytest.fixture(scope="module")
def notes(tmp_path_factory):
    """The fixture server (tests/fixtures/notes.schema), one per test module."""
    srv = Server(binary("chatbot-fixture"), tmp_path_factory.mktemp("notes"))
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The real application binary on its real schema. Functional tests sign
    up many accounts from 127.0.0.1, so this instance raises the per-address
    limits; test_throttle.py checks the defaults on servers of its own."""
    inst = tmp_path_factory.mktemp("app")
    (inst / "config").write_text("registrations_per_hour = 100000\n"
                                 "login_free_failures_address = 10000\n")
    srv = Server(binary("chatbot"), inst)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def make_server(tmp_path):
    """Start servers with custom arguments/config inside one test."""
    started = []

    def make(name="chatbot-fixture", **kw):
        srv = Server(binary(name), kw.pop("instance", None) or tmp_path / f"i{len(started)}", **kw)
        started.append(srv)
        return srv

    yield make
    for srv in started:
        srv.stop()
