"""The Great Expectations suites that guard the profile and tag marts pass on a good build
on both engines, and fail on planted bad rows."""

from __future__ import annotations

import pytest

from orchestration.quality.checks import load_registry, rows_sql

SUITES = ("customer_profiles", "customer_metrics", "customer_tags", "tag_catalog")


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_profile_and_tag_suites_pass_a_good_build_and_catch_bad_rows(built, target):
    from orchestration.quality.gx_runner import validate

    checks = {c["suite"]: c for c in load_registry()}
    assert set(SUITES) <= set(checks)
    with built.active():
        for suite in SUITES:
            result = validate(suite, rows_sql(checks[suite]["rows"]), target, build_docs=False)
            assert result.success and result.evaluated >= 3, (suite, result.failed)
        # a duplicated customer with an impossible score and a negative lifetime value
        bad_rows = (rows_sql(checks["customer_metrics"]["rows"]) + " union all select customer_id, -1,"
                    " order_count, days_since_last_purchase, 7, rfm_frequency_score,"
                    " rfm_monetary_score, 'zombie' from marts.customer_metrics where order_count > 0")
        bad = validate("customer_metrics", bad_rows, target, build_docs=False)
    assert not bad.success
    failed = " ".join(bad.failed)
    for word in ("unique", "lifetime_value", "rfm_recency_score", "lifecycle_stage"):
        assert word in failed, (word, bad.failed)
