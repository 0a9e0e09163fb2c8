"""File drops and ad-platform audience files, on the real file system."""

from __future__ import annotations

import csv
import hashlib
import json

import pyarrow.parquet as pq
import pytest
from sync_helpers import make_sync

from orchestration.activation.destinations import ad_audience
from orchestration.activation.runner import run_sync


@pytest.fixture()
def out(tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_ACTIVATION_DIR", str(tmp_path / "out"))
    return tmp_path / "out"


def file_sync(fmt: str, **kw):
    return make_sync(destination={"type": "file_drop", "path": "drop", "format": fmt},
                     fields={"tier": "loyalty_tier", "city": "city"}, **kw)


def read(path):
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return pq.read_table(path).to_pylist()


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "parquet"])
def test_a_file_drop_writes_each_batch_with_a_manifest(mini, out, fmt):
    for i in range(5):
        mini.customer(f"c{i}", city="杭州")
    run_sync(mini.wh, file_sync(fmt))
    folder = out / "drop" / "test_sync"
    manifests = sorted(folder.glob("*.manifest.json"))
    assert len(manifests) == 2  # batch_size 3
    rows = []
    for m in manifests:
        meta = json.loads(m.read_text())
        data = folder / meta["file"]
        assert meta["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
        content = read(data)
        assert meta["row_count"] == len(content) and meta["format"] == fmt
        rows += content
    assert sorted(r["key"] for r in rows) == [f"c{i}" for i in range(5)]
    assert set(rows[0]) == {"op", "key", "tier", "city"}  # no e-mail, name or mobile: not mapped
    assert rows[0]["city"] == "杭州"
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_a_file_drop_never_leaves_a_half_file(mini, out, monkeypatch):
    from orchestration.activation.destinations.file_drop import FileDropDestination

    for i in range(3):
        mini.customer(f"c{i}")

    def broken(self, path, columns, rows):
        path.write_text("op,key\nadd,")  # half written, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(FileDropDestination, "_write", broken)
    with pytest.raises(OSError, match="No space"):
        run_sync(mini.wh, file_sync("csv"))
    folder = out / "drop" / "test_sync"
    assert list(folder.iterdir()) == []
    assert mini.state("test_sync") == {}


def test_a_file_drop_mirrors_removals(mini, out):
    for i in range(3):
        mini.customer(f"c{i}")
    sync = file_sync("csv")
    run_sync(mini.wh, sync)
    mini.leave("c1")
    run_sync(mini.wh, sync)
    removes = [r for p in (out / "drop" / "test_sync").glob("*.csv") for r in read(p) if r["op"] == "remove"]
    assert [r["key"] for r in removes] == ["c1"]


def test_a_batch_dropped_but_not_recorded_is_not_dropped_twice(mini, out):
    for i in range(3):
        mini.customer(f"c{i}")
    sync = file_sync("csv")
    run_sync(mini.wh, sync)
    folder = out / "drop" / "test_sync"
    before = sorted(p.name for p in folder.iterdir())
    mini.wh.execute("delete from activation.sync_state")  # the process died before recording it
    again = run_sync(mini.wh, sync)
    assert again.added == 3 and len(mini.state("test_sync")) == 3
    assert sorted(p.name for p in folder.iterdir()) == before


# Published normalisation rules, computed here by hand, not by the module under test.
def test_tencent_hashes_follow_its_rules():
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    assert ad_audience.tencent("mobile", "+86 138-0013-8000") == md5("13800138000")
    assert ad_audience.tencent("mobile", "8613800138000") == md5("13800138000")
    assert ad_audience.tencent("mobile", "12345") is None
    assert ad_audience.tencent("idfa", "6d92078a-8246-4ba4-ae5b-76104861e7dc") == md5(
        "6D92078A-8246-4BA4-AE5B-76104861E7DC")
    assert ad_audience.tencent("imei", "490154203237518") == md5("490154203237518")
    assert ad_audience.tencent("oaid", "a1b2c3") == md5("a1b2c3")


def test_meta_and_google_hashes_follow_their_rules():
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    assert ad_audience.meta_or_google("meta", "email", "  Li.Na@Example.COM ") == sha("li.na@example.com")
    assert ad_audience.meta_or_google("google", "email", "Li.Na@Example.com") == sha("li.na@example.com")
    assert ad_audience.meta_or_google("google", "mobile", "138 0013 8000") == sha("+8613800138000")
    assert ad_audience.meta_or_google("meta", "mobile", "138 0013 8000") == sha("8613800138000")
    assert ad_audience.meta_or_google("google", "mobile", "+44 20 7946 0958") == sha("+442079460958")
    assert ad_audience.meta_or_google("meta", "email", "not-an-email") is None


def test_an_ad_audience_gets_add_and_remove_files_with_hashes_only(mini, out):
    sha = lambda s: hashlib.sha256(s.encode()).hexdigest()  # noqa: E731
    mini.customer("c1", email="A@x.cn", mobile="13800000001")
    mini.customer("c2", email="b@x.cn", mobile="13800000002")
    sync = make_sync(destination={"type": "ad_audience", "platform": "google", "path": "ads"},
                     fields={}, identifiers=["email", "mobile"], consent_channel="ads")
    run_sync(mini.wh, sync)
    folder = out / "ads" / "test_sync"
    adds = [r for p in folder.glob("*-add.csv") for r in csv.DictReader(p.open())]
    assert sorted(r["Email"] for r in adds) == sorted([sha("a@x.cn"), sha("b@x.cn")])
    assert all(set(r) == {"Email", "Phone"} for r in adds)
    everything = "".join(p.read_text() for p in folder.iterdir())
    assert "13800000001" not in everything and "a@x.cn" not in everything.lower()
    mini.consent("c2", "ads", False)   # revoked: removed next run
    mini.customer("c1", email="new@x.cn", mobile="13800000001")  # changed: old hash out, new in
    run_sync(mini.wh, sync)
    removes = [r["Email"] for p in folder.glob("*-remove.csv") for r in csv.DictReader(p.open())]
    assert sorted(removes) == sorted([sha("a@x.cn"), sha("b@x.cn")])
    adds = [r["Email"] for p in folder.glob("*-add.csv") for r in csv.DictReader(p.open())]
    assert sha("new@x.cn") in adds


def test_a_tencent_audience_writes_one_file_per_identifier_type(mini, out):
    mini.customer("c1", mobile="13800000001")
    mini.wh.execute("insert into marts.customer_identities values ('c1', 'idfa', 'abc-def'), "
                    "('c1', 'oaid', 'zz9'), ('c1', 'idfa', 'bbb')")
    sync = make_sync(destination={"type": "ad_audience", "platform": "tencent", "path": "ads"},
                     fields={}, identifiers=["mobile", "idfa", "oaid"], consent_channel="ads")
    run_sync(mini.wh, sync)
    folder = out / "ads" / "test_sync"
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    files = {p.name.split("-", 1)[1]: p.read_text().split() for p in folder.glob("*.txt")}
    assert files == {"add-mobile.txt": [md5("13800000001")], "add-idfa.txt": [md5("ABC-DEF")],
                     "add-oaid.txt": [md5("zz9")]}
    manifest = json.loads(next(folder.glob("*.manifest.json")).read_text())
    assert {v["rows"] for v in manifest["files"].values()} == {1}
