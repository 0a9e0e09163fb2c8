"""The pipeline in Dagster: the whole graph on DuckDB, the landing sensor, and a bad batch
stopped by the blocking Great Expectations checks."""

import dagster as dg

from orchestration.quality.gx_runner import gx_root
from tests.conftest import copy_landing
from tests.dagster_helpers import check_results, dagster_env, materialized, run_job


def test_the_whole_graph_materialises_with_metrics(built, sample):
    """The `built` fixture's DuckDB run went through the Dagster job (tianwen run): its events,
    read back from the instance, show every layer materialised and every check passed."""
    from orchestration import config

    run_id = built.summaries["duckdb"].rsplit("Dagster run ", 1)[1].split()[0]
    with dg.DagsterInstance.get() as instance:
        record = instance.get_run_record_by_id(run_id)
        events = [log.dagster_event for log in instance.all_logs(run_id) if log.dagster_event]
    assert record.dagster_run.status == dg.DagsterRunStatus.SUCCESS
    # dbt ran in the project's target/<target>/ folder, not in a new folder per run
    assert not [d for d in config.dbt_target_dir().glob("tianwen_dbt-*")
                if d.stat().st_mtime >= record.start_time]
    done = materialized(events)
    assert {"raw/web_events", "stg_web__events", "customer_identities",
            "customer_id_merges", "identity_graph_stats"} <= done
    checks = check_results(events)
    assert checks and all(checks.values())
    assert checks["raw/crm_members:gx_raw_crm_members"]
    metadata = {}
    for e in events:
        if e.event_type_value == "ASSET_MATERIALIZATION":
            m = e.event_specific_data.materialization
            metadata[m.asset_key.to_user_string()] = {k: v.value for k, v in m.metadata.items()}
    assert metadata["customer_identities"]["customers"] > 0
    assert metadata["identity_graph_stats"]["rounds"] >= 1
    assert metadata["quarantined_rows"]["quarantined_rows"] > 0
    assert metadata["raw/crm_members"]["dagster/row_count"] == \
        sample["manifest"]["sources"]["crm_members"]["landed"]
    assert (gx_root() / "gx" / "uncommitted" / "data_docs" / "local_site" / "index.html").exists()


def _bad_crm_batch(path, rows=30):
    header = ("member_id,mobile,email,member_card_no,full_name,gender,birth_date,province,city,"
              "register_channel,loyalty_tier,registered_at,updated_at")
    lines = [header]
    for i in range(rows):
        mobile = "12345" if i % 3 == 0 else f"1391234{i:04d}"  # a third malformed
        lines.append(f"X{i},{mobile},,,,F,,,,app,gold,2026-11-21 10:00:00,2026-11-21 10:00:00")
    lines += [lines[1], lines[2]]  # a duplicated key
    path.write_text("\n".join(lines) + "\n")


def test_a_bad_batch_fails_the_blocking_checks_and_stops_downstream(sample, tmp_path, webhook):
    url, received = webhook
    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    _bad_crm_batch(landing / "crm_members" / "2026-11-21.csv")
    instance = dg.DagsterInstance.ephemeral()
    with dagster_env(landing, tmp_path / "wh.duckdb", CDP_ALERT_WEBHOOK_URL=url):
        result = run_job(instance=instance)
        # the failed run raises an alert through the run-failure sensor too
        from orchestration.observability.alerts import alert_on_run_failure

        failure = instance.all_logs(result.run_id, of_type=dg.DagsterEventType.RUN_FAILURE)[0]
        context = dg.build_run_status_sensor_context(
            sensor_name="alert_on_run_failure", dagster_event=failure.dagster_event,
            dagster_instance=instance,
            dagster_run=result.dagster_run).for_run_failure()
        alert_on_run_failure(context)
    assert not result.success
    assert any(a["title"].startswith(f"Dagster run {result.run_id}") for a in received)
    checks = check_results(result)
    assert checks["raw/crm_members:gx_raw_crm_members"] is False
    assert checks["raw/web_events:gx_raw_web_events"] is True  # the others were fine
    done = materialized(result)
    assert "raw/crm_members" in done  # landed, so it is accounted for
    assert not done & {"stg_crm__members", "customer_identities", "identity_graph_stats"}
    assert any("gx_raw_crm_members" not in a["title"] and "raw_crm_members" in a["title"]
               for a in received), received
    failed = [d for a in received for d in a["details"]]
    assert any("expect_column_values_to_match_regex" in d and "mobile" in d for d in failed)
    assert any("expect_compound_columns_to_be_unique" in d for d in failed)


def test_sensor_runs_only_what_depends_on_new_files(sample, tmp_path):
    from orchestration import pipeline
    from orchestration.definitions import defs
    from orchestration.runs.jobs import landing_sensor

    landing = copy_landing(sample["landing"], tmp_path / "landing", batches=["2026-11-18"])
    with dagster_env(landing, tmp_path / "wh.duckdb"):
        with dg.build_sensor_context(repository_def=defs.get_repository_def()) as context:
            first = landing_sensor(context)
            cursor = context.cursor
        assert isinstance(first, dg.RunRequest)  # everything is new at first
        assert {"raw/web_events", "customer_identities"} <= {k.to_user_string() for k in first.asset_selection}
        # the warehouse that first run leaves, loaded and built (the `built` fixture runs the job)
        pipeline.load(landing, "duckdb", quiet=True)
        pipeline.build("duckdb", quiet=True)
        with dg.build_sensor_context(cursor=cursor, repository_def=defs.get_repository_def()) as ctx:
            assert isinstance(landing_sensor(ctx), dg.SkipReason)  # nothing new
        copy_landing(sample["landing"], tmp_path / "more", batches=["2026-11-19"])
        (landing / "pos_transactions" / "2026-11-19.parquet").write_bytes(
            (tmp_path / "more" / "pos_transactions" / "2026-11-19.parquet").read_bytes())
        with dg.build_sensor_context(cursor=cursor, repository_def=defs.get_repository_def()) as ctx:
            request = landing_sensor(ctx)
            new_cursor = ctx.cursor
    keys = {k.to_user_string() for k in request.asset_selection}
    assert "raw/pos_transactions" in keys and "stg_pos__transactions" in keys
    assert "customer_identities" in keys  # downstream of the till
    # no other source is loaded; the ledger's final account follows every load
    assert {k for k in keys if k.startswith("raw/")} == {"raw/pos_transactions", "raw/_load_ledger"}
    assert "identity_rules" in keys  # seeds always come along
    assert "stg_web__events" not in keys and "stg_crm__members" not in keys
    assert request.tags["tianwen/sources"] == "pos_transactions"
    assert new_cursor != cursor
    # the run the sensor asks for runs: the touched source and its dependents only
    with dagster_env(landing, tmp_path / "wh.duckdb"):
        result = run_job(selection=list(request.asset_selection))
    assert result.success
    done = materialized(result)
    assert "raw/pos_transactions" in done and "raw/web_events" not in done
