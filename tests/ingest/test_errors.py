"""Errors a person can act on: one line naming cause and fix, exit code 2, no traceback;
exit code 3 when the run completed but files or lines were rejected."""

import errno
import socket

import duckdb
import psycopg
import pytest

from orchestration.cli import main
from orchestration.ingest.errors import explain, is_infrastructure

HEADER = "member_id,full_name\n"


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    return err


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_env(monkeypatch, pg_server, **overrides):
    params = psycopg.conninfo.conninfo_to_dict(pg_server)
    env = {"CDP_PG_HOST": params.get("host", "127.0.0.1"),
           "CDP_PG_PORT": str(params.get("port", 5432)),
           "CDP_PG_USER": params.get("user", "postgres"),
           "CDP_PG_PASSWORD": params.get("password", ""),
           "CDP_PG_DATABASE": params.get("dbname", "postgres"), **overrides}
    for k, v in env.items():
        monkeypatch.setenv(k, v)


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"CDP_PG_PORT": "free"}, "no PostgreSQL server answers"),
    ({"CDP_PG_DATABASE": "no_such_db"}, "database does not exist"),
    ({"CDP_PG_USER": "no_such_user"}, "does not know the user"),
])
def test_postgres_problems_are_one_clear_line(pg_server, tmp_path, monkeypatch, capsys,
                                              overrides, expected):
    if overrides.get("CDP_PG_PORT") == "free":
        overrides = {**overrides, "CDP_PG_PORT": str(_free_port())}
    _pg_env(monkeypatch, pg_server, **overrides)
    (tmp_path / "crm_members").mkdir()
    assert main(["load", "--target", "postgres", "--landing", str(tmp_path)]) == 2
    assert expected in _one_line(capsys)


def test_an_unwritable_warehouse_path_is_one_clear_line(tmp_path, monkeypatch, capsys):
    # the tests run as root, which ignores file modes: /proc takes no new folders
    monkeypatch.setenv("CDP_DUCKDB_PATH", "/proc/tianwen/wh.duckdb")
    (tmp_path / "l").mkdir()
    assert main(["load", "--target", "duckdb", "--landing", str(tmp_path / "l")]) == 2
    line = _one_line(capsys)
    assert "CDP_DUCKDB_PATH" in line


def test_disk_full_and_locks_are_named_not_rolled_back_into_nonsense():
    assert "disk is full" in explain(OSError(errno.ENOSPC, "No space left on device"))
    assert "disk is full" in explain(duckdb.IOException(
        'Could not write file "/w/tianwen.duckdb.wal": No space left on device'))
    assert "in use by another process" in explain(duckdb.IOException(
        'Could not set lock on file "/w/tianwen.duckdb": Conflicting lock is held'))
    assert "read-only" in explain(OSError(errno.EROFS, "Read-only file system"))
    assert explain(ValueError("something else")) is None
    # a disk failure stops the load; a parse error quoting such words fails only its file
    assert is_infrastructure(duckdb.IOException("Could not write: No space left on device"))
    assert not is_infrastructure(duckdb.InvalidInputException(
        "CSV Error on Line 3: original line: 'No space left on device'"))


def test_exit_code_3_when_files_or_lines_are_rejected_and_0_when_all_loaded(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "wh.duckdb"))
    landing = tmp_path / "landing"
    (landing / "crm_members").mkdir(parents=True)
    (landing / "crm_members" / "a.csv").write_text(HEADER + "M1,a\n")
    assert main(["load", "--target", "duckdb", "--landing", str(landing)]) == 0
    assert main(["load", "--target", "duckdb", "--landing", str(landing)]) == 0  # nothing new
    (landing / "crm_members" / "b.csv").write_text(HEADER + "M2,b,surplus,fields\n")
    assert main(["load", "--target", "duckdb", "--landing", str(landing)]) == 3  # a bad line
    (landing / "notes.txt").write_text("hello")
    assert main(["load", "--target", "duckdb", "--landing", str(landing)]) == 3  # a stray
    (landing / "notes.txt").unlink()
    assert main(["load", "--target", "duckdb", "--landing", str(landing)]) == 0
