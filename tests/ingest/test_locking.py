"""One loader at a time per warehouse: two loads at once load every file exactly once, on
both engines; a held DuckDB file gives one clear line and exit code 2."""

import subprocess
import sys
import threading

import pytest

from orchestration.cli import main
from tests.conftest import copy_landing


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_two_loads_at_once_load_every_file_once(sample, warehouses, tmp_path, target):
    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    reports, errors = [], []

    def load():
        try:
            reports.append(warehouses.load(landing, target))
        except Exception as exc:  # noqa: BLE001 - the test reports it below
            errors.append(exc)

    with warehouses.active():  # both threads see the same warehouse settings
        threads = [threading.Thread(target=load) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    loaded = sorted(f.file for r in reports for f in r.files if f.status == "loaded")
    skipped = sorted(f.file for r in reports for f in r.files if f.status == "skipped")
    assert len(loaded) == 10 and loaded == skipped  # one loaded each file, the other skipped it
    ledger = warehouses.query(target, "select count(*), count(distinct file_name)"
                                      " from raw._load_ledger")
    assert ledger == [(10, 10)]
    total = 0
    for name in sample["manifest"]["sources"]:
        rows = warehouses.query(target, f"select count(*), count(distinct _file_name || '#' ||"
                                        f" _row_number) from raw.{name}")[0]
        ledger_rows = warehouses.query(target, "select coalesce(sum(row_count), 0)"
                                               f" from raw._load_ledger where source_name = '{name}'")[0][0]
        assert rows[0] == rows[1] == ledger_rows, name  # a batch may hold no row of a rare source
        total += rows[0]
    assert total > 0


def test_a_warehouse_held_by_another_process_gives_one_clear_line(tmp_path, monkeypatch,
                                                                   capsys):
    db = tmp_path / "wh.duckdb"
    (tmp_path / "landing" / "crm_members").mkdir(parents=True)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; con = duckdb.connect(sys.argv[1]);"
         " print('held', flush=True); time.sleep(60)", str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        monkeypatch.setenv("CDP_DUCKDB_PATH", str(db))
        monkeypatch.setenv("CDP_LOCK_TIMEOUT_SECONDS", "0.5")
        code = main(["load", "--target", "duckdb", "--landing", str(tmp_path / "landing")])
    finally:
        holder.kill()
        holder.wait()
    err = capsys.readouterr().err
    assert code == 2
    assert "in use by another process" in err and "CDP_LOCK_TIMEOUT_SECONDS" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_a_second_run_waits_for_the_first_then_stops_cleanly(warehouses, tmp_path, target,
                                                             monkeypatch):
    from orchestration import pipeline
    from orchestration.ingest.errors import IngestError

    (tmp_path / "landing" / "crm_members").mkdir(parents=True)
    monkeypatch.setenv("CDP_LOCK_TIMEOUT_SECONDS", "0.5")
    # a first run, still going, holds the lock
    with warehouses.active(), pipeline.run_lock(target), \
            pytest.raises(IngestError, match="another tianwen run .* is in progress"):
        pipeline.run(tmp_path / "landing", target, quiet=True)
