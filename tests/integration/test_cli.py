"""The command line: db migrations commands, version, argument errors."""
import sqlite3

import pytest

from conftest import binary
from server import run_cli


@pytest.fixture(params=["chatbot", "chatbot-fixture"])
def exe(request):
    return binary(request.param)


def tables(db_path):
    db = sqlite3.connect(db_path)
    try:
        return {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    finally:
        db.close()


def test_db_upgrade_current_history_check_downgrade(exe, tmp_path):
    r = run_cli(exe, tmp_path, "db", "current")
    assert r.returncode == 0 and r.stdout.strip().startswith("0"), r
    r = run_cli(exe, tmp_path, "db", "check")
    assert r.returncode == 1 and "pending" in (r.stdout + r.stderr).lower(), r
    r = run_cli(exe, tmp_path, "db", "upgrade")
    assert r.returncode == 0, r
    r = run_cli(exe, tmp_path, "db", "current")
    latest = int(r.stdout.split()[0])
    assert latest >= 1
    assert run_cli(exe, tmp_path, "db", "check").returncode == 0
    r = run_cli(exe, tmp_path, "db", "history")
    assert r.returncode == 0 and "0001" in r.stdout and "initial" in r.stdout, r
    assert "schema_migrations" in tables(tmp_path / "chatbot.db")
    r = run_cli(exe, tmp_path, "db", "downgrade", "0")
    assert r.returncode == 0, r
    assert tables(tmp_path / "chatbot.db") - {"schema_migrations"} == set()
    assert run_cli(exe, tmp_path, "db", "upgrade").returncode == 0
    assert int(run_cli(exe, tmp_path, "db", "current").stdout.split()[0]) == latest


def test_serve_no_migrate_refuses_a_database_behind(exe, tmp_path):
    r = run_cli(exe, tmp_path, "serve", "--no-migrate", "--port", "1")
    assert r.returncode == 1 and "migrat" in r.stderr.lower(), r


def test_app_schema_tables_exist_after_upgrade(tmp_path):
    assert run_cli(binary("chatbot"), tmp_path, "db", "upgrade").returncode == 0
    t = tables(tmp_path / "chatbot.db")
    for name in ("users", "roles", "user_roles", "sessions", "api_tokens", "conversations",
                 "messages", "messages_fts", "documents", "passages", "passages_fts"):
        assert name in t, (name, t)


@pytest.mark.parametrize("args", [["frobnicate"], ["db"], ["db", "sideways"], ["db", "upgrade", "x"],
                                  ["serve", "--port"], ["serve", "--port", "abc"],
                                  ["serve", "--bogus"], ["db", "downgrade", "-3"]])
def test_bad_arguments_exit_2_with_a_message(exe, tmp_path, args):
    r = run_cli(exe, tmp_path, *args)
    assert r.returncode == 2, r
    assert r.stderr.strip(), r


def test_upgrade_to_unknown_version_is_an_error(exe, tmp_path):
    r = run_cli(exe, tmp_path, "db", "upgrade", "999")
    assert r.returncode != 0 and r.stderr.strip()


def test_version_names_dependencies(exe, tmp_path):
    r = run_cli(exe, tmp_path, "version")
    assert r.returncode == 0
    for dep in ("ulfius", "microhttpd", "gnutls", "sqlite", "jansson"):
        assert dep in r.stdout.lower(), r.stdout
