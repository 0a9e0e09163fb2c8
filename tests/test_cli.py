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
