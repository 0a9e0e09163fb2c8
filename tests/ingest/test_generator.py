import hashlib
from datetime import date

import duckdb
import pytest

from orchestration.ingest.contract import load_contract
from orchestration.synthetic.generator import JUNK, generate
from tests.conftest import SAMPLE


def _digests(folder):
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _rows(path):
    fmt = {".csv": "read_csv_auto", ".parquet": "read_parquet", ".jsonl": "read_json_auto"}
    opts = ", all_varchar=true, ignore_errors=true" if path.suffix == ".csv" else (
        ", ignore_errors=true" if path.suffix == ".jsonl" else "")
    return duckdb.sql(f"select * from {fmt[path.suffix]}('{path}'{opts})")


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path, sample):
    generate(tmp_path / "a" / "landing", tmp_path / "a" / "truth", quiet=True, **SAMPLE)
    assert _digests(tmp_path / "a" / "landing") == _digests(sample["landing"])
    assert _digests(tmp_path / "a" / "truth") == _digests(sample["truth"])
    other = {**SAMPLE, "seed": SAMPLE["seed"] + 1}
    generate(tmp_path / "b" / "landing", tmp_path / "b" / "truth", quiet=True, **other)
    assert _digests(tmp_path / "b" / "landing") != _digests(sample["landing"])


def test_writes_every_source_in_every_format_in_daily_batches(sample):
    contract = load_contract()
    formats = set()
    for name in contract:
        files = sorted((sample["landing"] / name).iterdir())
        assert [f.stem for f in files] == ["2026-11-18", "2026-11-19", "2026-11-20"]
        formats |= {f.suffix for f in files}
    assert formats == {".csv", ".parquet", ".jsonl"}
    assert set(sample["manifest"]["sources"]) == set(contract)


def test_files_follow_the_contract_with_drift(sample):
    contract = load_contract()
    extra_seen, missing_seen = set(), set()
    for name, source in contract.items():
        for path in (sample["landing"] / name).iterdir():
            cols = set(_rows(path).columns)
            extra_seen |= {f"{name}.{c}" for c in cols - set(source.columns)}
            missing_seen |= {f"{name}.{c}" for c in set(source.columns) - cols}
    assert "web_events.tracker_version" in extra_seen
    assert "app_events.app_version" in missing_seen


@pytest.mark.parametrize("needle", [
    "+86 1", "-", " ",  # mobile spellings
])
def test_mobile_spellings_present(sample, needle):
    mobiles = duckdb.sql(f"select mobile from read_parquet('{sample['landing']}/crm_members/*.parquet')"
                         " union all select mobile from read_csv_auto("
                         f"'{sample['landing']}/crm_members/*.csv', all_varchar=true,"
                         " ignore_errors=true)").fetchall()
    values = [m[0] for m in mobiles if m[0]]
    assert any(needle in v for v in values)
    assert any(v.startswith("86") and len(v) == 13 for v in values)


def test_noise_classes_present(sample):
    landing = sample["landing"]
    pos = _rows(next((landing / "pos_transactions").glob("*.csv"))).fetchall()
    flat = {str(v) for row in pos for v in row}
    assert JUNK["mobile"] in flat and JUNK["shop_card"] in flat
    app = duckdb.sql(f"select idfa, imei, event_at from read_parquet('{landing}/app_events/*.parquet')")
    values = {v for row in app.fetchall() for v in row if v}
    assert JUNK["idfa"] in values and JUNK["imei"] in values
    assert any(v.isdigit() and len(v) == 13 for v in values)  # epoch milliseconds
    assert any(v.endswith("+08:00") for v in values) and any(v.endswith("Z") for v in values)
    assert any(len(v) == 36 and v.lower() == v and v.count("-") == 4 for v in values)  # lower idfa
    manifest = sample["manifest"]["sources"]
    for reason in ("malformed_line", "missing_key", "impossible_value", "future_timestamp",
                   "unknown_enum", "invalid_value"):
        assert any(reason in s["quarantined"] for s in manifest.values()), reason
    assert manifest["web_events"]["duplicates"] > 0  # at-least-once delivery
    assert manifest["crm_members"]["duplicates"] > 0  # re-sent members


def test_truth_lists_each_persons_identifiers_and_no_junk(sample):
    truth = duckdb.sql(f"select * from read_parquet('{sample['truth']}/identifiers.parquet')")
    per_type = dict(truth.aggregate("identifier_type, count(distinct identifier_value)").fetchall())
    assert set(per_type) == {"member_id", "mobile", "email", "anonymous_id", "device_id",
                             "idfa", "imei", "oaid", "openid", "unionid", "member_card_no"}
    junk = set(JUNK.values())
    assert not duckdb.sql("select 1 from truth where identifier_value in "
                          f"({', '.join(repr(j) for j in junk)})").fetchall()
    # a value belongs to one person only
    assert not duckdb.sql("select identifier_type, identifier_value from truth group by all"
                          " having count(distinct person_id) > 1").fetchall()
    people = duckdb.sql("select count(distinct person_id) from truth").fetchall()[0][0]
    assert 0.8 * SAMPLE["people"] < people <= SAMPLE["people"]


def _records_in_files(folder) -> int:
    """Records as a person counts them in the files, without the generator's bookkeeping."""
    import pyarrow.parquet as pq

    total = 0
    for path in folder.iterdir():
        if path.suffix == ".parquet":
            total += pq.ParquetFile(path).metadata.num_rows
        else:
            lines = [line for line in path.read_text().splitlines() if line.strip()]
            total += len(lines) - (path.suffix == ".csv")  # the header
    return total


def test_manifest_counts_the_records_the_files_hold(sample):
    for name, s in sample["manifest"]["sources"].items():
        assert s["landed"] == _records_in_files(sample["landing"] / name), name


def test_rejects_nonsense_sizes(tmp_path):
    with pytest.raises(ValueError, match="--people"):
        generate(tmp_path / "l", tmp_path / "t", people=0, end_date=date(2026, 1, 1), quiet=True)


def test_refuses_a_folder_it_did_not_write_and_reuses_its_own(tmp_path):
    small = {**SAMPLE, "people": 200, "days": 2}
    landing, truth = tmp_path / "landing", tmp_path / "truth"
    (landing / "crm_members").mkdir(parents=True)
    precious = landing / "crm_members" / "real.csv"
    precious.write_text("member_id\nM1\n")
    with pytest.raises(ValueError, match="not written by the generator"):
        generate(landing, truth, quiet=True, **small)
    assert precious.read_text() == "member_id\nM1\n"
    # an empty folder is fine, and so is one the generator wrote before
    precious.unlink()
    generate(landing, truth, quiet=True, **small)
    generate(landing, truth, quiet=True, **small)
    # a file dropped into a generated folder makes it someone's data again
    (landing / "crm_members" / "added.csv").write_text("member_id\nM2\n")
    with pytest.raises(ValueError, match="added.csv"):
        generate(landing, truth, quiet=True, **small)
    assert (landing / "crm_members" / "added.csv").exists()
