"""Identity accuracy against the synthetic generator's truth: pairwise precision and recall.

A pair of identifiers is predicted together when they share a customer_id, truly together
when they share a person_id. Only identifiers the warehouse saw as usable (normalised, not
junk) count: what no record says cannot be stitched. The tests and the demo summary both
score with these functions."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path


def _pairs(clusters: dict) -> int:
    return sum(n * (n - 1) // 2 for n in clusters.values())


def pair_scores(assign: dict, truth: dict) -> tuple[float, float]:
    """Pairwise precision and recall of `assign` (identifier -> cluster) against `truth`
    (identifier -> person). An identifier missing from `assign` is a cluster of its own."""
    both, pred, true = defaultdict(int), defaultdict(int), defaultdict(int)
    for ident, person in truth.items():
        cluster = assign.get(ident, ("alone", ident))
        both[(cluster, person)] += 1
        pred[cluster] += 1
        true[person] += 1
    tp = _pairs(both)
    return tp / max(_pairs(pred), 1), tp / max(_pairs(true), 1)


def ceiling(records: dict, truth: dict) -> dict:
    """Perfect deterministic stitching: link identifiers that share a record and a person."""
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for idents in records.values():
        by_person = defaultdict(list)
        for ident in idents:
            if ident in truth:
                by_person[truth[ident]].append(ident)
        for group in by_person.values():
            for other in group[1:]:
                parent[find(other)] = find(group[0])
    return {ident: find(ident) for ident in truth}


def read_truth(truth_dir: Path) -> dict | None:
    """identifier (type, value) -> person_id from the generator's truth, or None without one."""
    path = Path(truth_dir) / "identifiers.parquet"
    if not path.exists():
        return None
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute("select identifier_type, identifier_value, person_id"
                           " from read_parquet(?)", [str(path)]).fetchall()
    finally:
        con.close()
    return {(t, v): p for t, v, p in rows}


@dataclass
class Accuracy:
    precision: float
    recall: float
    ceiling_recall: float
    identifiers: int


def score(occurrences: list[tuple], assignments: list[tuple], truth: dict) -> Accuracy:
    """occurrences: (source, record_key, type, value, is_junk); assignments: (customer_id,
    type, value)."""
    records = defaultdict(list)
    for source, key, t, v, junk in occurrences:
        if not junk:
            records[(source, key)].append((t, v))
    seen = {ident for idents in records.values() for ident in idents}
    truth = {k: p for k, p in truth.items() if k in seen}
    assign = {(t, v): c for c, t, v in assignments}
    precision, recall = pair_scores(assign, truth)
    return Accuracy(precision, recall, pair_scores(ceiling(records, truth), truth)[1], len(truth))
