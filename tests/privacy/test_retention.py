"""Retention: event data older than the window (CDP_EVENT_RETENTION_DAYS) is purged from raw
before every build, each purge is logged without personal data, the reconciliation still
adds up, and only the event sources are touched."""

from __future__ import annotations

import datetime as dt

import pytest

from orchestration.dbt.project import project_vars
from orchestration.dbt.runner import run_dbt
from tests.conftest import SAMPLE, copy_landing

ENGINES = ["duckdb", "postgres"]
RETAINED = {"web_events": "stg_web__events", "app_events": "stg_app__events",
            "channel_engagements": "stg_channels__engagements"}
WEB = ("event_id,anonymous_id,member_id,event_type,page_url,referrer,utm_source,utm_medium,"
       "utm_campaign,event_at,received_at")


def _log(wh, target) -> list[tuple]:
    return wh.query(target, "select source_name, purged_rows, cutoff_at from privacy.retention_log"
                            " order by purged_at, source_name")


def _reconciliation(wh, target) -> dict[str, tuple]:
    rows = wh.query(target, "select source_name, landed_rows, ledger_rows, file_records, purged_rows,"
                            " is_reconciled from marts.source_reconciliation")
    return {name: rest for name, *rest in rows}


# what the test reads: raw, staging, the retention log, the reconciliation and the identifier
# occurrences (an incremental record model: purged records must leave it; the record models
# after it follow it, tests/test_identity.py)
RETENTION_BUILD = "+source_reconciliation +quarantined_rows +int_identifier_occurrences_unioned"


@pytest.mark.parametrize("target", ENGINES)
def test_expired_events_are_purged_logged_and_reconciled(target, sample, warehouses, tmp_path,
                                                         monkeypatch):
    # a window that ends inside the sample at the run's clock time, and still does when it
    # shrinks by a day below: the sample's days are Shanghai days, so its last one ends at
    # 16:00 UTC, and from the afternoon (UTC) on the window starts a day earlier
    back = 1 if dt.datetime.now(dt.UTC).hour < 14 else 2
    boundary = SAMPLE["end_date"] - dt.timedelta(days=back)
    days = (dt.datetime.now(dt.UTC).date() - boundary).days
    monkeypatch.setenv("CDP_EVENT_RETENTION_DAYS", str(days))
    landing = copy_landing(sample["landing"], tmp_path / "landing")
    warehouses.load(landing, target)
    warehouses.build(target, select=RETENTION_BUILD)

    log = _log(warehouses, target)
    purged = {name: n for name, n, _ in log}
    assert set(purged) <= set(RETAINED) and purged["web_events"] > 0 and purged["app_events"] > 0
    cutoff = log[0][2]
    _assert_none_staged_before(warehouses, target, cutoff)
    # orders are not event data: those before the cutoff stay
    assert warehouses.query(target, "select count(*) from staging.stg_shop__orders"
                                    f" where ordered_at < cast('{cutoff}' as timestamp)")[0][0] > 0
    recon = _reconciliation(warehouses, target)
    assert all(r[-1] for r in recon.values()), recon
    for name, (landed, ledger, records, purged_rows, _) in recon.items():
        assert purged_rows == purged.get(name, 0)
        assert landed + purged_rows == ledger == records

    # a late batch: one event already past the window, one inside it, and one whose
    # placeholder date is a quarantine reason, not an age (it ages by its load time)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    old, new = now - dt.timedelta(days=40), now - dt.timedelta(hours=2)
    (landing / "web_events" / "late.csv").write_text("\n".join([
        WEB, f"LATE-OLD,anon-late-1,,page_view,https://shop.example/,,,,,{old}Z,{old}Z",
        f"LATE-NEW,anon-late-2,,page_view,https://shop.example/,,,,,{new}Z,{new}Z",
        f"LATE-1900,anon-late-3,,page_view,https://shop.example/,,,,,1900-01-01 00:00:00Z,{new}Z"]) + "\n")
    # and the window shrinks by a day: rows the incremental base models already hold expire
    monkeypatch.setenv("CDP_EVENT_RETENTION_DAYS", str(days - 1))
    before = len(_log(warehouses, target))
    warehouses.load(landing, target)
    warehouses.build(target, select=RETENTION_BUILD)
    late = [(name, n, at) for name, n, at in _log(warehouses, target)[before:] if name == "web_events"]
    assert late and late[0][1] >= 1
    _assert_none_staged_before(warehouses, target, late[0][2], some_after=False)
    staged = {e for (e,) in warehouses.query(target, "select event_id from staging.stg_web__events"
                                                     " where event_id like 'LATE-%'")}
    assert staged == {"LATE-NEW"}
    assert not warehouses.query(target, "select count(*) from raw.web_events"
                                        " where event_id = 'LATE-OLD'")[0][0]
    assert warehouses.query(target, "select reason_code from marts.quarantined_rows"
                                    " where record_key = 'LATE-1900'") == [("implausible_date",)]
    assert all(r[-1] for r in _reconciliation(warehouses, target).values())
    _assert_occurrences_follow_staging(warehouses, target)


def _assert_occurrences_follow_staging(warehouses, target) -> None:
    """The incremental occurrences hold exactly the staged records that carry an identifier:
    records purged from staging since they were read have left it."""
    sources = project_vars()["tianwen_sources"]
    for name in RETAINED:
        spec = sources[name]
        if not spec["identifiers"]:
            continue
        with_identifier = " or ".join(f"{column} is not null" for column in spec["identifiers"])
        staged = warehouses.query(target, f"select {spec['key']} from staging.{spec['staged']}"
                                          f" where {with_identifier}")
        read = warehouses.query(target, "select distinct record_key from"
                                        " intermediate.int_identifier_occurrences_unioned"
                                        f" where source_name = '{name}'")
        assert staged and set(read) == set(staged), name


def _assert_none_staged_before(warehouses, target, cutoff, some_after: bool = True) -> None:
    for name, staged in RETAINED.items():
        older, newer = warehouses.query(
            target, f"select sum(case when event_at < cast('{cutoff}' as timestamp) then 1 else 0 end),"
                    f" sum(case when event_at >= cast('{cutoff}' as timestamp) then 1 else 0 end)"
                    f" from staging.{staged}")[0]
        assert not older and (newer or not some_after), (name, older, newer)


@pytest.mark.parametrize("days", ["0", "a year"])
def test_a_wrong_window_fails_the_build_naming_the_setting(days, tmp_path, monkeypatch):
    monkeypatch.setenv("CDP_EVENT_RETENTION_DAYS", days)
    monkeypatch.setenv("CDP_DUCKDB_PATH", str(tmp_path / "w.duckdb"))
    with pytest.raises(RuntimeError, match="CDP_EVENT_RETENTION_DAYS"):
        run_dbt(["run", "--select", "base_web__events"], "duckdb", quiet=True)
