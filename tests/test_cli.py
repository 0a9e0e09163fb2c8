import pytest

from orchestration.cli import main


def test_unknown_target_fails_early_and_names_the_fix(monkeypatch, capsys):
    monkeypatch.setenv("CDP_TARGET", "snowflake")
    assert main(["summary"]) == 2
    assert "CDP_TARGET='snowflake'" in capsys.readouterr().err


def test_postgres_target_without_settings_names_the_variables(monkeypatch, capsys):
    for var in ("CDP_PG_HOST", "CDP_PG_USER", "CDP_PG_DATABASE"):
        monkeypatch.delenv(var, raising=False)
    assert main(["load", "--target", "postgres", "--landing", "."]) == 2
    err = capsys.readouterr().err
    assert "CDP_PG_HOST" in err and "CDP_PG_DATABASE" in err


def test_missing_landing_folder_names_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "wh.duckdb"))
    assert main(["run", "--landing", str(tmp_path / "nowhere")]) == 2
    assert "CDP_LANDING_DIR" in capsys.readouterr().err


def test_generate_writes_a_landing_folder(tmp_path, capsys):
    code = main(["generate", "--people", "200", "--days", "2", "--end-date", "2026-11-20",
                 "--landing", str(tmp_path / "l"), "--truth", str(tmp_path / "t")])
    assert code == 0
    assert len([p for p in (tmp_path / "l").rglob("*.*") if not p.name.startswith(".")]) == 20
    assert (tmp_path / "t" / "manifest.json").exists()
    assert "200 people" in capsys.readouterr().out


def test_a_wrong_memory_limit_fails_early_and_names_the_fix(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CDP_DUCKDB_MEMORY_LIMIT", "lots")
    assert main(["run", "--landing", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "CDP_DUCKDB_MEMORY_LIMIT='lots'" in err and "4GB" in err


@pytest.mark.parametrize("spill", [None, "deep/er/spill"])
def test_duckdb_spills_wherever_its_file_is(tmp_path, monkeypatch, spill):
    """The spill folder defaults to `tmp` beside the database file, and a folder whose parents
    do not exist yet is made (DuckDB makes only the last level)."""
    import duckdb

    from orchestration import config

    (tmp_path / "db").mkdir()
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "db" / "wh.duckdb"))
    if spill:
        monkeypatch.setenv("CDP_DUCKDB_TEMP_DIR", str(tmp_path / spill))
    else:
        monkeypatch.delenv("CDP_DUCKDB_TEMP_DIR", raising=False)
    expected = tmp_path / (spill or "db/tmp")
    assert config.duckdb_temp_dir() == expected
    settings = {**config.duckdb_config(), "memory_limit": "100MB", "threads": 1}  # small: it must spill
    con = duckdb.connect(str(config.duckdb_path()), config=settings)
    con.execute("create table t as select md5(cast(i as varchar)) as h from range(4000000) as r(i) order by h")
    assert con.execute("select count(*) from t").fetchone()[0] == 4_000_000
    assert expected.is_dir()  # it spilled there
    con.close()


@pytest.mark.slow
def test_duckdb_settings_reach_dbt_and_every_connection(tmp_path, monkeypatch):
    """profiles.yml and config.duckdb_config() read the same variables: dbt's DuckDB runs
    under the cap with the threads asked for."""
    import json
    import subprocess

    from orchestration import config
    from orchestration.dbt.runner import dbt_args

    monkeypatch.setenv("CDP_DUCKDB_MEMORY_LIMIT", "1GB")
    monkeypatch.setenv("CDP_DUCKDB_THREADS", "1")
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("CDP_DUCKDB_TEMP_DIR", str(tmp_path / "spill"))
    sql = ("select current_setting('memory_limit') as m, current_setting('threads') as t,"
           " current_setting('temp_directory') as d")
    proc = subprocess.run(dbt_args(["show", "--inline", sql, "--output", "json", "--log-format",
                                    "json"], "duckdb"), cwd=config.PROJECT_DIR,
                          env=config.dbt_env(), text=True, capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:]
    shown = next(json.loads(line)["data"]["preview"] for line in proc.stdout.splitlines()
                 if '"preview"' in line)
    row = json.loads(shown)[0]
    assert row["m"] in ("953.6 MiB", "1.0 GiB", "1000.0 MB", "1.0 GB"), row
    assert str(row["t"]) == "1" and row["d"] == str(tmp_path / "spill")
    import duckdb

    con = duckdb.connect(str(tmp_path / "other.duckdb"), config=config.duckdb_config())
    assert con.execute("select current_setting('memory_limit')").fetchall()[0][0] == row["m"]
    con.close()


@pytest.mark.slow
def test_a_run_stopped_by_a_blocking_check_exits_2_naming_the_check(sample, tmp_path, monkeypatch,
                                                                    capsys):
    """`tianwen run` goes through Dagster: a bad batch fails its blocking Great Expectations
    check, and the command says which, instead of printing a summary."""
    from tests.conftest import copy_landing
    from tests.runs.test_jobs import _bad_crm_batch

    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    _bad_crm_batch(landing / "crm_members" / "2026-11-21.csv")
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "wh.duckdb"))
    monkeypatch.delenv("CDP_ALERT_WEBHOOK_URL", raising=False)
    assert main(["run", "--landing", str(landing)]) == 2
    captured = capsys.readouterr()
    assert "check raw/crm_members:gx_raw_crm_members failed" in captured.err
    assert "Tianwen summary" not in captured.out
