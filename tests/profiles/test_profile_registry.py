"""A wrong tag declaration fails the build early, with a message naming what to fix."""

from __future__ import annotations

import json
import subprocess

import pytest

from orchestration import config
from orchestration.dbt.runner import dbt_args


@pytest.mark.parametrize(("declaration", "message"), [
    ({"name": "x", "kind": "guess", "value_type": "text", "owner": "o", "refresh": "daily",
      "model": "customer_metrics", "column": "order_count", "description": "d"}, "kind guess is not one of"),
    ({"name": "x", "kind": "rule", "value_type": "text", "owner": "o", "refresh": "daily",
      "model": "customer_metrics", "description": "d"}, "give exactly one of column or expression"),
    ({"name": "x", "kind": "rule", "value_type": "text", "refresh": "daily",
      "model": "customer_metrics", "column": "order_count", "description": "d"}, "tag x has no owner"),
    ({"name": "Bad Name", "kind": "rule", "value_type": "text", "owner": "o", "refresh": "daily",
      "model": "customer_metrics", "column": "order_count", "description": "d"}, "not snake_case"),
    ({"name": "x", "kind": "predictive", "value_type": "number", "owner": "o", "refresh": "daily",
      "model": "customer_scores", "source": ["ml", "customer_scores"], "column": "churn_risk_score",
      "description": "d"}, "give exactly one of model or source"),
    ({"name": "x", "kind": "rule", "value_type": "text", "owner": "o", "refresh": "daily",
      "model": "customer_metrics", "column": "order_count", "history": "no", "description": "d"},
     "history must be true or false"),
])
def test_a_wrong_tag_declaration_names_the_fix(declaration, message, worker_duckdb):
    args = dbt_args(["run-operation", "validate_tag_definitions",
                     "--args", json.dumps({"tags": [declaration]})], "duckdb")
    env = {**config.dbt_env(), "CDP_DUCKDB_PATH": str(worker_duckdb)}
    proc = subprocess.run(args, cwd=config.PROJECT_DIR, env=env, text=True, capture_output=True)
    assert proc.returncode != 0
    assert message in proc.stdout + proc.stderr

