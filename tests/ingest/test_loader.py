import json

import duckdb
import pytest

from orchestration.ingest.loader import DuckDBWarehouse, load_landing
from tests.conftest import copy_landing

HEADER = ("event_id,anonymous_id,member_id,event_type,page_url,referrer,utm_source,utm_medium,"
          "utm_campaign,event_at,received_at")


def _load(landing, db):
    wh = DuckDBWarehouse(db)
    try:
        return load_landing(landing, wh, quiet=True)
    finally:
        wh.close()


def _q(db, sql):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_loads_every_file_with_the_rows_the_generator_wrote(sample, tmp_path):
    db = tmp_path / "wh.duckdb"
    report = _load(sample["landing"], db)
    assert report.count("failed") == 0 and report.count("loaded") == 30
    landed = dict(_q(db, "select source_name, sum(row_count) from raw._load_ledger group by 1"))
    for name, expected in sample["manifest"]["sources"].items():
        assert landed[name] == expected["landed"], name
        assert _q(db, f"select count(*) from raw.{name}")[0][0] == expected["landed"], name
    # every raw row knows its batch and file
    assert _q(db, "select count(*) from raw.web_events where _batch_id is null"
                  " or _file_name is null or _row_number is null")[0][0] == 0


def test_loading_the_same_batches_again_adds_nothing(sample, tmp_path):
    db = tmp_path / "wh.duckdb"
    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    _load(landing, db)
    before = _q(db, "select count(*) from raw.app_events")[0][0]
    again = _load(landing, db)
    assert again.count("loaded") == 0 and again.count("skipped") == 10
    assert _q(db, "select count(*) from raw.app_events")[0][0] == before
    # a new batch is picked up, the old ones are still skipped
    copy_landing(sample["landing"], landing, batches=["2026-11-19"])
    third = _load(landing, db)
    assert third.count("loaded") == 10 and third.count("skipped") == 10
    assert _q(db, "select count(*) from raw._load_ledger")[0][0] == 20


def test_malformed_lines_extra_and_missing_columns_are_kept_and_reported(tmp_path):
    landing = tmp_path / "landing"
    (landing / "web_events").mkdir(parents=True)
    (landing / "web_events" / "b1.csv").write_text(
        HEADER.replace(",referrer", "") + ",tracker_version\n"
        'e1,c1,,page_view,"https://x.cn/a,b",,,,2026-11-01 10:00:00,2026-11-01 10:00:01,v9\n'
        "e2,c2,M1,login,https://x.cn,,,,2026-11-01 10:00:00,2026-11-01 10:00:01,v9,surplus\n"
        "e3\n"
        'e4,c4,,"multi\nline",https://x.cn,,,,2026-11-01 10:00:00,2026-11-01 10:00:01,v9\n')
    (landing / "web_events" / "b2.jsonl").write_text(
        '{"event_id": "j1", "anonymous_id": "c9", "event_type": "page_view",'
        ' "event_at": 1793498400000, "new_col": {"a": 1}}\n'
        '{"event_id": "j2", broken\n'
        '\n'
        '[1, 2]\n')
    db = tmp_path / "wh.duckdb"
    report = _load(landing, db)
    by_file = {f.file: f for f in report.files}
    csv_file, jsonl = by_file["web_events/b1.csv"], by_file["web_events/b2.jsonl"]
    assert (csv_file.rows, csv_file.malformed) == (4, 2)
    assert csv_file.extra_columns == ["tracker_version"] and csv_file.missing_columns == ["referrer"]
    assert (jsonl.rows, jsonl.malformed) == (3, 2)
    assert "new_col" in jsonl.extra_columns
    rows = _q(db, "select event_id, page_url, referrer, event_type, event_at, _extra, _load_error"
                  " from raw.web_events order by _file_name, _row_number")
    assert rows[0][:3] == ("e1", "https://x.cn/a,b", None)
    assert json.loads(rows[0][5]) == {"tracker_version": "v9"}
    assert rows[1][3] == "multi\nline"  # quoted newline stays in its field
    bad = [r for r in rows if r[6]]
    assert len(bad) == 4 and all(r[0] is None for r in bad)
    assert any("line 3" in r[6] for r in bad)
    assert rows[-3][4] == "1793498400000" and json.loads(rows[-3][5]) == {"new_col": '{"a":1}'}
    errors = _q(db, "select file_name, line_number, reason from raw._load_errors order by 1, 2")
    assert len(errors) == 4 and {e[0] for e in errors} == {"web_events/b1.csv", "web_events/b2.jsonl"}


def test_a_broken_file_is_reported_and_the_rest_still_loads(sample, tmp_path):
    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    (landing / "shop_orders" / "2026-11-19.parquet").write_bytes(b"not a parquet file")
    (landing / "shop_orders" / "2026-11-20.csv").write_text("")
    (landing / "ftp_dump").mkdir()
    (landing / "web_events" / "notes.txt").write_text("hello")
    db = tmp_path / "wh.duckdb"
    report = _load(landing, db)
    failed = {f.file: f.error for f in report.files if f.status == "failed"}
    assert set(failed) == {"shop_orders/2026-11-19.parquet", "shop_orders/2026-11-20.csv"}
    assert report.count("loaded") == 10
    reasons = dict(_q(db, "select file_name, reason from raw._load_errors"))
    assert "unknown source" in reasons["ftp_dump/"]
    assert "unsupported type" in reasons["web_events/notes.txt"]
    reasons = list(reasons.values())
    assert sum("file not loaded" in r for r in reasons) == 2
    # a failed file is not in the ledger, so it is tried again once fixed
    assert _q(db, "select count(*) from raw._load_ledger where file_name like 'shop_orders/2026-11-19%'")[0][0] == 0


def test_missing_landing_folder_names_the_fix(tmp_path):
    with pytest.raises(FileNotFoundError, match="CDP_LANDING_DIR"):
        _load(tmp_path / "nope", tmp_path / "wh.duckdb")


def test_a_file_still_being_written_waits_for_the_next_run(tmp_path, monkeypatch):
    import threading
    import time

    monkeypatch.setenv("CDP_LANDING_STABLE_SECONDS", "0.5")
    landing = tmp_path / "landing"
    (landing / "web_events").mkdir(parents=True)
    growing = landing / "web_events" / "b1.csv"
    growing.write_text(HEADER + "\n")

    done, written = threading.Event(), []

    def upload():  # a slow upload: appends until the first load has judged the file
        while not done.is_set():
            time.sleep(0.1)
            with growing.open("a") as fh:
                fh.write(f"e{len(written)},c,,page_view,,,,,,2026-11-01 10:00:00,\n")
            written.append(1)

    uploader = threading.Thread(target=upload)
    uploader.start()
    try:
        first = _load(landing, tmp_path / "wh.duckdb")
    finally:
        done.set()
        uploader.join()
    assert [(f.file, f.status) for f in first.files] == [("web_events/b1.csv", "pending")]
    assert first.exit_code() == 3
    assert _q(tmp_path / "wh.duckdb", "select count(*) from raw._load_ledger")[0][0] == 0
    assert "still being written" in _q(tmp_path / "wh.duckdb",
                                       "select reason from raw._load_errors")[0][0]
    time.sleep(0.6)  # the upload is complete and settled: the next run loads all of it
    second = _load(landing, tmp_path / "wh.duckdb")
    assert [(f.status, f.rows) for f in second.files] == [("loaded", len(written))]
    assert second.exit_code() == 0
