"""Assertions against the generator's truth that several engines' tests share."""

from __future__ import annotations

RECONCILIATION_SQL = ("select source_name, landed_rows, staged_rows, duplicate_rows, quarantined_rows,"
                      " is_reconciled, ledger_rows from marts.source_reconciliation")


def assert_reconciled(rows: list[tuple], manifest: dict) -> None:
    """Rows of RECONCILIATION_SQL: each source's counts are what the generator planted, and
    every landed row is accounted for."""
    recon = {r[0]: r[1:] for r in rows}
    for name, expected in manifest["sources"].items():
        landed, staged, dups, quarantined, ok, ledger = recon[name]
        assert (landed, staged, dups, quarantined) == (
            expected["landed"], expected["staged"], expected["duplicates"],
            sum(expected["quarantined"].values())), name
        assert ok and ledger == landed, name
