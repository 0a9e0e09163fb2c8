"""Junk flags: int_identifier_occurrences_unioned compiles the blocklist's regex and
repeated_char rules into its SQL (identifier_blocklist_rules). Its flags must equal the
seed's rules applied one by one, here by Python's `re` on every distinct value, per engine."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

SEED = Path(__file__).resolve().parent.parent / "seeds" / "identifier_blocklist.csv"


def expected_reason(rules: list[dict], identifier_type: str, value: str) -> str | None:
    reasons = []
    for rule in rules:
        if rule["identifier_type"] != identifier_type:
            continue
        kind, pattern = rule["match_type"], rule["pattern"]
        if (kind == "exact" and value == pattern
                or kind == "regex" and re.search(pattern, value)
                or kind == "repeated_char" and value.replace(value[:1], "") == ""):
            reasons.append(rule["reason"])
    return min(reasons) if reasons else None


@pytest.mark.parametrize("target", ["duckdb", "postgres"])
def test_compiled_blocklist_flags_equal_the_seed_rules(built, target):
    rules = list(csv.DictReader(SEED.open()))
    rows = built.query(target, "select distinct identifier_type, identifier_value, is_junk, junk_reason"
                               " from intermediate.int_identifier_occurrences_unioned")
    wrong = [r for r in rows
             if (r[3], r[2]) != (expected_reason(rules, r[0], r[1]),
                                 expected_reason(rules, r[0], r[1]) is not None)]
    assert wrong == []
    # the sample holds junk of every kind of rule, so each path of the CASE is exercised
    kinds = {next(rule["match_type"] for rule in rules
                  if rule["identifier_type"] == r[0] and rule["reason"] == r[3])
             for r in rows if r[2]}
    assert kinds == {"exact", "regex", "repeated_char"}
