"""Formats, encodings and names: exact paths, GB18030, BOM, JSON arrays, case-colliding and
repeated keys, control bytes, an unbalanced quote, a huge field, a re-delivered file."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

HEADER = "member_id,full_name,mobile,updated_at"
TARGETS = ("duckdb", "postgres")


def _rows(wh, target, file_name, cols="member_id, full_name"):
    return wh.query(target, f"select {cols} from raw.crm_members where _file_name = "
                            f"'{file_name.replace(chr(39), chr(39) * 2)}' order by _row_number")


@pytest.mark.parametrize("target", TARGETS)
def test_names_are_exact_paths_never_patterns(warehouses, tmp_path, target):
    folder = tmp_path / "landing" / "crm_members"
    folder.mkdir(parents=True)
    names = ["a*.csv", "a?.csv", "[ab].csv", "a.csv", "b.csv", "空 格;'\"名.csv"]
    for i, name in enumerate(names):
        (folder / name).write_text(f"{HEADER}\nM{i},n{i},,\n")
    report = warehouses.load(tmp_path / "landing", target)
    assert report.count("loaded") == len(names) and report.exit_code() == 0
    for i, name in enumerate(names):
        assert _rows(warehouses, target, f"crm_members/{name}") == [(f"M{i}", f"n{i}")], name


@pytest.mark.parametrize("target", TARGETS)
def test_gb18030_bom_and_nested_folders_decode_the_same(warehouses, tmp_path, target):
    folder = tmp_path / "landing" / "crm_members" / "2025" / "11"
    folder.mkdir(parents=True)
    text = f"{HEADER}\nM1,张三,,\nM2,李四·王,,\n"
    (folder / "gb.csv").write_bytes(text.encode("gb18030"))
    (folder / "gbk.jsonl").write_bytes(
        json.dumps({"member_id": "M3", "full_name": "赵钱孙"}, ensure_ascii=False)
        .encode("gbk") + b"\n")
    (folder / "bom.csv").write_bytes(b"\xef\xbb\xbf" + text.replace("M1", "M9").encode())
    report = warehouses.load(tmp_path / "landing", target)
    assert report.exit_code() == 0
    assert _rows(warehouses, target, "crm_members/2025/11/gb.csv") == [
        ("M1", "张三"), ("M2", "李四·王")]
    assert _rows(warehouses, target, "crm_members/2025/11/gbk.jsonl") == [("M3", "赵钱孙")]
    assert _rows(warehouses, target, "crm_members/2025/11/bom.csv")[0] == ("M9", "张三")
    assert dict(warehouses.query(target, "select file_path, encoding from raw._load_ledger")) == {
        "crm_members/2025/11/gb.csv": "gb18030", "crm_members/2025/11/gbk.jsonl": "gb18030",
        "crm_members/2025/11/bom.csv": "utf-8"}


@pytest.mark.parametrize("target", TARGETS)
def test_control_bytes_are_stripped_and_counted_on_both_engines(warehouses, tmp_path, target):
    folder = tmp_path / "landing" / "crm_members"
    folder.mkdir(parents=True)
    (folder / "nul.csv").write_bytes(f"{HEADER}\nM1,a\x00b,,\nM2,c\x01d\x7f,,\nM3,ok,,\n".encode())
    (folder / "ctl.jsonl").write_bytes(b'{"member_id": "M4", "full_name": "e\x01f\x00"}\n'
                                       b'{"member_id": "M5", "full_name": "g\\u0000h"}\n')
    report = warehouses.load(tmp_path / "landing", target)
    assert report.count("loaded") == 2 and report.malformed == 0
    assert _rows(warehouses, target, "crm_members/nul.csv") == [
        ("M1", "ab"), ("M2", "cd"), ("M3", "ok")]
    assert _rows(warehouses, target, "crm_members/ctl.jsonl") == [("M4", "ef"), ("M5", "gh")]
    assert dict(warehouses.query(target, "select file_path, control_char_rows"
                                         " from raw._load_ledger")) == {
        "crm_members/nul.csv": 2, "crm_members/ctl.jsonl": 2}


@pytest.mark.parametrize("target", TARGETS)
def test_json_arrays_and_keys_that_collide(warehouses, tmp_path, target):
    folder = tmp_path / "landing" / "crm_members"
    folder.mkdir(parents=True)
    (folder / "arr.json").write_text(json.dumps([
        {"member_id": "M1", "full_name": "x"},
        {"member_id": "M2", "Full_Name": "upper", "full_name": "lower"},
        [1, 2],
    ]))
    (folder / "dup.jsonl").write_text('{"member_id": "M3", "member_id": "M4"}\n'
                                      '{"MEMBER_ID": "M5", "amount": 12.30}\n')
    report = warehouses.load(tmp_path / "landing", target)
    by_file = {f.file: f for f in report.files}
    arr, dup = by_file["crm_members/arr.json"], by_file["crm_members/dup.jsonl"]
    assert (arr.records, arr.rows, arr.malformed) == (3, 3, 1)
    assert (dup.records, dup.rows, dup.malformed) == (2, 2, 1)
    assert any("only in case" in w and "Full_Name" in w for w in arr.warnings)
    rows = _rows(warehouses, target, "crm_members/arr.json", "member_id, full_name, _extra,"
                                                             " _load_error")
    assert rows[0][:2] == ("M1", "x")
    assert rows[1][:2] == ("M2", "lower") and json.loads(rows[1][2]) == {"Full_Name": "upper"}
    assert rows[2][3].startswith("element 3: not a JSON object")
    rows = _rows(warehouses, target, "crm_members/dup.jsonl", "member_id, _extra, _load_error")
    assert rows[0][0] is None and "'member_id' appear more than once" in rows[0][2]
    assert rows[1][0] == "M5" and json.loads(rows[1][1]) == {"amount": "12.30"}
    errors = warehouses.query(target, "select file_name, line_number, reason from"
                                      " raw._load_errors order by 1, 2")
    assert [(f, n) for f, n, _ in errors] == [("crm_members/arr.json", 3),
                                              ("crm_members/dup.jsonl", 1)]


def test_an_unbalanced_quote_swallows_nothing(warehouses, tmp_path):
    folder = tmp_path / "landing" / "crm_members"
    folder.mkdir(parents=True)
    lines = [HEADER, "M1,a,,", "M2,\"b,,", "M3,c,,", "", "M4,d,,"]
    (folder / "q.csv").write_text("\n".join(lines) + "\n")
    report = warehouses.load(tmp_path / "landing", "duckdb")
    f = report.files[0]
    # every non-blank line after the header is a record: one good row, three cut-off lines
    assert (f.records, f.rows, f.malformed) == (4, 4, 3)
    errors = warehouses.query("duckdb", "select line_number, reason from raw._load_errors"
                                        " order by 1")
    assert [e[1].split(":")[0] for e in errors] == ["line 3", "line 4", "line 6"]
    assert all("unterminated quoted field opened at line 3" in e[1] for e in errors)


def test_a_huge_field_loads_and_parse_errors_keep_the_whole_message(warehouses, tmp_path):
    folder = tmp_path / "landing" / "crm_members"
    folder.mkdir(parents=True)
    big = "x" * 3_000_000
    (folder / "big.csv").write_text(f"{HEADER}\nM1,{big},,\nM2,short,,\n")
    (folder / "dup_header.csv").write_text("member_id,MEMBER_ID\n1,2\n")
    (folder / "neither.csv").write_bytes(HEADER.encode() + b"\n\xff\xfe\x80\x81,x,,\n")
    report = warehouses.load(tmp_path / "landing", "duckdb")
    by_file = {f.file: f for f in report.files}
    assert by_file["crm_members/big.csv"].status == "loaded"
    assert warehouses.query("duckdb", "select length(full_name) from raw.crm_members"
                                      " order by _row_number") == [(3_000_000,), (5,)]
    assert "repeats column(s) member_id" in by_file["crm_members/dup_header.csv"].error
    assert "neither UTF-8 nor GB18030" in by_file["crm_members/neither.csv"].error
    assert "declare the source's `encoding:`" in by_file["crm_members/neither.csv"].error
    assert report.exit_code() == 3


@pytest.mark.parametrize("target", TARGETS)
def test_parquet_records_come_from_the_footer(warehouses, tmp_path, target):
    folder = tmp_path / "landing" / "crm_members"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"member_id": ["M1", "M2"], "full_name": ["a\x00", "b"]}),
                   folder / "p[1].parquet")
    report = warehouses.load(tmp_path / "landing", target)
    assert (report.files[0].records, report.files[0].rows) == (2, 2)
    assert _rows(warehouses, target, "crm_members/p[1].parquet") == [("M1", "a"), ("M2", "b")]


@pytest.mark.parametrize("target", TARGETS)
def test_a_changed_file_is_loaded_as_a_new_version(warehouses, tmp_path, target):
    folder = tmp_path / "landing" / "crm_members"
    folder.mkdir(parents=True)
    path = folder / "2026-11-20.csv"
    path.write_text(f"{HEADER}\nM1,first,,2026-11-20 10:00:00\n")
    assert warehouses.load(tmp_path / "landing", target).count("loaded") == 1
    path.write_text(f"{HEADER}\nM1,second,,2026-11-20 11:00:00\nM2,new,,2026-11-20 11:00:00\n")
    second = warehouses.load(tmp_path / "landing", target)
    assert [(f.file, f.status, f.version) for f in second.files] == [
        ("crm_members/2026-11-20.csv@2", "loaded", 2)]
    again = warehouses.load(tmp_path / "landing", target)
    assert [f.status for f in again.files] == ["skipped"]
    # back to the first content: that is the latest now, so it loads as version 3
    path.write_text(f"{HEADER}\nM1,first,,2026-11-20 10:00:00\n")
    third = warehouses.load(tmp_path / "landing", target)
    assert [(f.file, f.version) for f in third.files] == [("crm_members/2026-11-20.csv@3", 3)]
    ledger = warehouses.query(target, "select file_name, file_path, file_version, batch_id"
                                      " from raw._load_ledger order by file_version")
    assert ledger == [
        ("crm_members/2026-11-20.csv", "crm_members/2026-11-20.csv", 1, "2026-11-20"),
        ("crm_members/2026-11-20.csv@2", "crm_members/2026-11-20.csv", 2, "2026-11-20@2"),
        ("crm_members/2026-11-20.csv@3", "crm_members/2026-11-20.csv", 3, "2026-11-20@3")]
    assert warehouses.query(target, "select count(*), count(distinct _file_name || '#' ||"
                                    " _row_number) from raw.crm_members") == [(4, 4)]


def test_an_encoding_declared_in_the_contract_is_used_and_checked(tmp_path):
    import dataclasses

    import duckdb

    from orchestration.ingest.contract import load_contract
    from orchestration.ingest.readers import READERS
    from orchestration.ingest.readers.common import Batch

    path = tmp_path / "big5.csv"
    # detection would read Big5 bytes as GB18030 (mojibake): such a source declares its encoding
    path.write_bytes(f"{HEADER}\nM1,陳大文,,\n".encode("big5"))
    source = dataclasses.replace(load_contract()["crm_members"], encoding="big5")
    con = duckdb.connect()
    (tmp_path / "t1").mkdir()
    read = READERS["csv"](con, source, path, Batch("b", "f", "2026-11-20 00:00:00"),
                          tmp_path / "t1")
    assert read.encoding == "big5"
    assert con.execute("select member_id, full_name from _batch").fetchall() == [("M1", "陳大文")]
    wrong = dataclasses.replace(source, encoding="utf-8")
    (tmp_path / "t2").mkdir()
    with pytest.raises(ValueError, match="not valid utf-8 as declared"):
        READERS["csv"](con, wrong, path, Batch("b", "f", "2026-11-20 00:00:00"), tmp_path / "t2")
