"""In Dagster, a rejected landing file marks the ingestion asset's check with a warning (the
run still succeeds) and raises an alert."""

import dagster as dg

from orchestration.ingest.assets import CHECK, ingestion_assets
from tests.dagster_helpers import dagster_env

HEADER = "member_id,full_name\n"


def _materialize_crm(landing, db, url):
    asset = next(a for a in ingestion_assets if a.key == dg.AssetKey(["raw", "crm_members"]))
    with dagster_env(landing, db, CDP_ALERT_WEBHOOK_URL=url):
        return dg.materialize([asset], raise_on_error=False)


def _check(result):
    (evaluation,) = [e.event_specific_data for e in result.all_events
                     if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    return evaluation


def test_a_rejected_file_warns_and_alerts_while_the_good_files_load(tmp_path, webhook):
    url, received = webhook
    landing = tmp_path / "landing"
    (landing / "crm_members").mkdir(parents=True)
    (landing / "crm_members" / "good.csv").write_text(HEADER + "M1,a\n")
    (landing / "crm_members" / "bad.csv").write_bytes(HEADER.encode() + b"M2,\xff\xfe\x81\n")
    result = _materialize_crm(landing, tmp_path / "wh.duckdb", url)
    assert result.success  # the good file's rows flow on
    evaluation = _check(result)
    assert evaluation.check_name == CHECK and not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.WARN
    assert "crm_members/bad.csv" in evaluation.metadata["problems"].value
    assert len(received) == 1 and "crm_members" in received[0]["title"]
    assert any("bad.csv" in d for d in received[0]["details"])
    # once the file is fixed, the check passes and nothing is alerted
    (landing / "crm_members" / "bad.csv").write_text(HEADER + "M2,b\n")
    result = _materialize_crm(landing, tmp_path / "wh.duckdb", url)
    assert _check(result).passed and len(received) == 1
