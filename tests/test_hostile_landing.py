"""A landing folder with every hostile case at once (names, encodings, partitions, broken
quotes, control bytes, JSON arrays and colliding keys, FIFOs, strays), on both engines:
every line of every file ends in raw or in raw._load_errors, no file is loaded twice, a second
run is a no-op, both engines hold the same rows, and a re-delivered file never sticks the
pipeline."""

import json
import os
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.dbt.runner import run_dbt

HEADER = "member_id,full_name,mobile,updated_at"
T = "2026-11-20 10:00:00"

# file -> records a person counts in it (what must land in raw, good or malformed)
LOADED = {
    "crm_members/2026-11-20.csv": 3,
    "crm_members/2025/11/21.csv": 2,
    "crm_members/gb18030.csv": 2,
    "crm_members/bom.csv": 1,
    "crm_members/a*b.csv": 1,
    "crm_members/q?.csv": 1,
    "crm_members/[x].csv": 1,
    "crm_members/空 格;'\".csv": 1,
    "crm_members/unbalanced.csv": 4,
    "crm_members/nul.csv": 2,
    "crm_members/bad_lines.csv": 3,
    "crm_members/members.json": 3,
    "crm_members/keys.jsonl": 4,
    "crm_members/p.parquet": 2,
    "web_events/2026-11-20.jsonl": 2,
}
MALFORMED = {"crm_members/unbalanced.csv": 3, "crm_members/bad_lines.csv": 2,
             "crm_members/members.json": 1, "crm_members/keys.jsonl": 2}
NOT_LOADED = {
    "crm_members/empty.csv": "header row is missing",
    "crm_members/dup_header.csv": "repeats column(s) member_id",
    "crm_members/latin1.csv": "neither UTF-8 nor GB18030",
    "crm_members/readme.txt": "unsupported type",
    "crm_members/pipe.csv": "not a regular file (a FIFO)",
    "stray.csv": "outside a source folder",
    "ftp_dump/x.csv": "unknown source",
}


def _csv(*rows):
    return "\n".join([HEADER, *rows]) + "\n"


def build_landing(root):
    crm = root / "crm_members"
    (crm / "2025" / "11").mkdir(parents=True)
    (root / "web_events").mkdir()
    (root / "ftp_dump").mkdir()
    w = {
        "2026-11-20.csv": _csv(f"M1,one,13800138001,{T}", f"M2,two,,{T}", f"M3,three,,{T}"),
        "2025/11/21.csv": _csv(f"M4,four,,{T}", f"M5,five,,{T}"),
        "a*b.csv": _csv(f"M6,star,,{T}"),
        "q?.csv": _csv(f"M7,question,,{T}"),
        "[x].csv": _csv(f"M8,bracket,,{T}"),
        "空 格;'\".csv": _csv(f"M9,odd name,,{T}"),
        "unbalanced.csv": _csv(f"M10,ok,,{T}", f'M11,"open,,{T}', f"M12,lost?,,{T}", "",
                               f"M13,lost?,,{T}"),
        "bad_lines.csv": _csv(f"M14,ok,,{T}", f"M15,too,many,fields,{T},x", "M16"),
        "members.json": json.dumps([{"member_id": "M17", "full_name": "arr", "updated_at": T},
                                    {"member_id": "M18", "Full_Name": "A", "full_name": "a"},
                                    "not an object"]),
        "keys.jsonl": (f'{{"member_id": "M19", "full_name": "c\\u0001d", "updated_at": "{T}"}}\n'
                       '{"member_id": "M20", "member_id": "M21"}\n'
                       "\n"
                       '{"member_id": "M22", broken\n'
                       '{"MEMBER_ID": "M23", "extra_field": 1}\n'),
        "dup_header.csv": "member_id,Member_ID\n1,2\n",
        "empty.csv": "",
        "readme.txt": "not data",
        "_SUCCESS": "",
    }
    for name, text in w.items():
        (crm / name).write_text(text)
    (crm / "gb18030.csv").write_bytes(_csv(f"M24,张三,,{T}", f"M25,欧阳·娜娜,,{T}")
                                      .encode("gb18030"))
    (crm / "bom.csv").write_bytes(b"\xef\xbb\xbf" + _csv(f"M26,bom,,{T}").encode())
    (crm / "nul.csv").write_bytes(_csv(f"M27,n\x00ul,,{T}", f"M28,c\x01tl\x7f,,{T}").encode())
    (crm / "latin1.csv").write_bytes(_csv("M29,caf\xe9,,").encode("latin-1") + b"\x81\xff\n")
    pq.write_table(pa.table({"member_id": ["M30", "M31"], "full_name": ["pq1", "pq2"],
                             "updated_at": [T, T]}), crm / "p.parquet")
    os.mkfifo(crm / "pipe.csv")
    (root / "stray.csv").write_text(_csv(f"M99,stray,,{T}"))
    (root / "ftp_dump" / "x.csv").write_text(_csv(f"M98,unknown,,{T}"))
    (root / "web_events" / "2026-11-20.jsonl").write_text(
        '{"event_id": "e1", "anonymous_id": "c1aaaaaaaa", "event_type": "page_view",'
        f' "event_at": "{T}"}}\n'
        '{"event_id": "e2", "anonymous_id": "c2aaaaaaaa", "event_type": "login",'
        f' "event_at": "{T}"}}\n')
    return root


def hostile_copy(src, wh):
    """The hostile folder as a copy this test may change (the fixture is shared)."""
    dst = wh.tmp / "redelivered"
    shutil.copytree(src, dst, symlinks=True, ignore=lambda d, names: [
        n for n in names if n == "pipe.csv"])
    return dst


def _state(wh, target):
    counts = [wh.query(target, f"select count(*) from raw.{t}")[0][0]
              for t in ("crm_members", "web_events", "_load_ledger", "_load_errors")]
    return counts


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    return build_landing(tmp_path_factory.mktemp("hostile"))


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_every_line_is_accounted_for_once_and_a_second_run_is_a_no_op(hostile, warehouses,
                                                                      target, tmp_path):
    warehouses.tmp = tmp_path
    summary = warehouses.run(hostile, target)
    assert summary.exit_code == 3  # completed, with rejected files and lines
    ledger = {r[0]: r[1:] for r in warehouses.query(
        target, "select file_path, file_records, row_count, malformed_rows"
                " from raw._load_ledger")}
    assert set(ledger) == set(LOADED)  # each file once
    for name, records in LOADED.items():
        quoted = "'" + name.replace("'", "''") + "'"
        raw = warehouses.query(target, "select count(*), count(_load_error) from"
                                       f" raw.{name.split('/')[0]} where _file_name = {quoted}")[0]
        assert ledger[name] == (records, records, MALFORMED.get(name, 0)), name
        assert raw == (records, MALFORMED.get(name, 0)), name
    lines = dict(warehouses.query(target, "select file_name, count(*) from raw._load_errors"
                                          " where line_number is not null group by 1"))
    assert lines == MALFORMED  # every malformed line listed with its number
    whole = dict(warehouses.query(target, "select file_name, reason from raw._load_errors"
                                          " where line_number is null"))
    assert set(whole) == set(NOT_LOADED)
    for name, reason in NOT_LOADED.items():
        assert reason in whole[name], (name, whole[name])
    # the rows are right, the same on both engines
    got = dict(warehouses.query(target, "select member_id, full_name from raw.crm_members"
                                        " where member_id is not null"))
    assert got["M24"] == "张三" and got["M25"] == "欧阳·娜娜" and got["M26"] == "bom"
    assert got["M27"] == "nul" and got["M28"] == "ctl" and got["M19"] == "cd"
    assert got["M18"] == "a" and got["M6"] == "star" and got["M9"] == "odd name"
    assert "M12" not in got and "M99" not in got and "M98" not in got
    # the build used every row: staged + duplicates + quarantined = raw = file records
    recon = warehouses.query(target, "select source_name, file_records, landed_rows,"
                                     " is_reconciled from marts.source_reconciliation")
    assert all(ok for *_, ok in recon), recon
    assert {r[0]: r[1] for r in recon}["crm_members"] == sum(
        v for k, v in LOADED.items() if k.startswith("crm_members/"))
    # a second run changes nothing
    before = _state(warehouses, target)
    again = warehouses.load(hostile, target)
    assert again.count("loaded") == 0 and again.count("skipped") == len(LOADED)
    assert _state(warehouses, target) == before
    # a re-delivered file (an upstream re-export, or a half-written upload completed later)
    # is the next version: its rows supersede the old ones and the build still passes
    redelivered = hostile_copy(hostile, warehouses)
    path = redelivered / "crm_members" / "2026-11-20.csv"
    path.write_text(_csv(f"M1,one again,,{T}", f"M2,two,,{T}", f"M3,three,,{T}", f"M40,new,,{T}"))
    assert warehouses.load(redelivered, target).count("loaded") == 1
    with warehouses.active():  # staging and reconciliation with their tests: enough here
        run_dbt(["build", "--select", "+source_reconciliation"], target, quiet=True)
    staged = dict(warehouses.query(target, "select member_id, full_name"
                                           " from staging.stg_crm__members"))
    assert staged["M1"] == "one again" and staged["M40"] == "new" and staged["M24"] == "张三"
    assert warehouses.query(target, "select file_name, file_version from raw._load_ledger"
                                    " where file_path = 'crm_members/2026-11-20.csv'"
                                    " order by file_version") == [
        ("crm_members/2026-11-20.csv", 1), ("crm_members/2026-11-20.csv@2", 2)]


def test_both_engines_hold_the_same_raw_rows(hostile, warehouses):
    cols = ("member_id, full_name, mobile, updated_at, _extra, _load_error, _batch_id,"
            " _file_name, _row_number")
    rows = {}
    for target in ("duckdb", "postgres"):
        warehouses.load(hostile, target)
        rows[target] = sorted(warehouses.query(target, f"select {cols} from raw.crm_members"),
                              key=repr)
    assert rows["duckdb"] == rows["postgres"] and len(rows["duckdb"]) > 20
