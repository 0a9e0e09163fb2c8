"""Logs, alerts and Dagster metadata never carry raw PII: after the pipeline has run on both
engines (with Great Expectations), the Dagster instance's storage (run and event logs, asset
metadata, check results), dbt's logs and Great Expectations' results and data docs are
scanned for every staged mobile and e-mail."""

import os
import re
from pathlib import Path

from orchestration import config
from orchestration.quality.gx_runner import gx_root

TOKENS = re.compile(r"1[3-9][0-9]{9}|[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[a-z]{2,}")


def _scanned_files() -> list[Path]:
    roots = [Path(os.environ["DAGSTER_HOME"]), config.PROJECT_DIR / "logs", gx_root()]
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_no_mobile_or_email_in_logs_metadata_or_check_results(built):
    personal = {v for (v,) in built.query(
        "duckdb", "select identifier_value from marts.customer_identities"
                  " where identifier_type in ('mobile', 'email')")}
    assert len(personal) > 100
    files = _scanned_files()
    texts = {p: p.read_bytes().decode("utf-8", "ignore") for p in files}
    # the scan reads what the runs wrote: asset names are there, in Dagster's storage and dbt's log
    assert any("customer_identities" in t for p, t in texts.items()
               if str(p).startswith(os.environ["DAGSTER_HOME"]))
    assert any("customer_identities" in t for p, t in texts.items() if "logs" in p.parts)
    leaks = {str(p): len(set(TOKENS.findall(t)) & personal) for p, t in texts.items()}
    assert not {p: n for p, n in leaks.items() if n}, "personal data found in these files"
