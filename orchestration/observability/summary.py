"""The run summary the CLI prints: one section per concern, each a function of the target.

Add a section by appending a function to SECTIONS (it gets the target and returns lines).
Table names come from the dbt project (`relation`), not from literals."""

from __future__ import annotations

from collections.abc import Callable

from orchestration import config
from orchestration.dbt.project import relation
from orchestration.observability import accuracy

# A customer with one of these is a known person; one with only cookies, device ids or a
# card number is an anonymous visitor or device.
KNOWN_TYPES = ("member_id", "mobile", "email", "openid", "unionid")


def plural(n: int, word: str, many: str | None = None) -> str:
    return f"{n:,} {word if n == 1 else many or word + 's'}"


def _query(target: str, sql: str) -> list[tuple]:
    from orchestration import pipeline

    return pipeline.query(target, sql)


def reconciliation(target: str) -> list[str]:
    recon = _query(target, "select source_name, landed_rows, staged_rows, duplicate_rows,"
                           " quarantined_rows, is_reconciled"
                           f" from {relation('source_reconciliation')} order by source_name")
    width = max((len(r[0]) for r in recon), default=10)
    lines = [f"{'source':<{width}}  {'landed':>10} {'staged':>10} {'duplicates':>10}"
             f" {'quarantined':>11}  reconciled"]
    for name, landed, staged, dups, quar, ok in recon:
        lines.append(f"{name:<{width}}  {landed:>10,} {staged:>10,} {dups:>10,} {quar:>11,}"
                     f"  {'yes' if ok else 'NO'}")
    totals = [sum(r[i] for r in recon) for i in range(1, 5)]
    lines.append(f"{'total':<{width}}  {totals[0]:>10,} {totals[1]:>10,} {totals[2]:>10,}"
                 f" {totals[3]:>11,}")
    return lines


def quarantine(target: str) -> list[str]:
    reasons = _query(target, f"select reason_code, count(*) from {relation('quarantined_rows')}"
                             " group by reason_code order by count(*) desc, reason_code")
    return ["quarantined rows by reason:",
            *([f"  {code:<20} {n:>10,}" for code, n in reasons] or ["  none"])]


def identifiers(target: str) -> list[str]:
    ids = _query(target, "select identifier_type, count(*), count(distinct identifier_value),"
                         " sum(case when is_junk then 1 else 0 end)"
                         f" from {relation('int_identifier_occurrences_unioned')}"
                         " group by identifier_type order by identifier_type")
    return ["identifier occurrences (distinct values, junk occurrences):",
            *[f"  {t:<16} {n:>10,} ({d:,} distinct, {j:,} junk)" for t, n, d, j in ids]]


def identifier_rejections(target: str) -> list[str]:
    """A line per identifier type: how many values were rejected, by reason."""
    rows = _query(target, "select identifier_type, reason, sum(rejected_count)"
                          f" from {relation('identifier_rejections')}"
                          " group by identifier_type, reason order by identifier_type, reason")
    by_type: dict[str, list[str]] = {}
    for identifier_type, reason, n in rows:
        by_type.setdefault(identifier_type, []).append(f"{int(n):,} {reason}")
    return [f"identifiers rejected ({relation('identifier_rejections')}):",
            *([f"  {t:<16} {', '.join(r)}" for t, r in by_type.items()] or ["  none"])]


def identity(target: str) -> list[str]:
    stats = _query(target, "select identifiers, edges, customers, singletons, largest_customer,"
                           " largest_component, rounds, recomputed_identifiers, conflicts"
                           f" from {relation('identity_graph_stats')}"
                           " order by computed_at desc limit 1")
    if not stats:
        return []
    (n_identifiers, edges, customers, singletons, largest_customer, largest_component, rounds,
     recomputed, conflicts) = stats[0]
    known_types = ", ".join(f"'{t}'" for t in KNOWN_TYPES)
    known, anonymous = _query(
        target, "select coalesce(sum(is_known), 0), coalesce(sum(1 - is_known), 0) from ("
                f" select customer_id, max(case when identifier_type in ({known_types})"
                " then 1 else 0 end) as is_known"
                f" from {relation('customer_identities')} group by customer_id) as c")[0]
    merges = _query(target, f"select reason, count(*) from {relation('customer_id_merges')}"
                            " group by reason order by reason")
    return ["identity:",
            f"  {plural(customers, 'customer')} from {plural(n_identifiers, 'identifier')}"
            f" and {plural(edges, 'edge')}:",
            f"    {plural(int(known), 'known person', 'known people')}"
            f" (a member id, mobile, e-mail or WeChat id)",
            "    " + plural(int(anonymous), "anonymous visitor or device",
                        "anonymous visitors and devices") + " (cookies, device ids or cards only)",
            f"  {plural(singletons, 'single-identifier customer')},"
            f" largest customer {plural(largest_customer, 'identifier')}",
            f"  connected components: {plural(rounds, 'round')}, largest component"
            f" {plural(largest_component, 'identifier')},"
            f" {plural(recomputed, 'identifier')} recomputed in this build",
            f"  {plural(conflicts, 'identifier')} kept out of merging"
            f" ({relation('identity_conflicts')})",
            "  id changes so far: " + (", ".join(plural(n, r) for r, n in merges) or "none")]


def identity_accuracy(target: str) -> list[str]:
    """Precision and recall against the generator's truth, when CDP_TRUTH_DIR has one."""
    truth = accuracy.read_truth(config.truth_dir())
    if truth is None:
        return []
    occurrences = _query(target, "select source_name, record_key, identifier_type,"
                                 " identifier_value, is_junk"
                                 f" from {relation('int_identifier_occurrences_unioned')}")
    assignments = _query(target, "select customer_id, identifier_type, identifier_value"
                                 f" from {relation('customer_identities')}")
    acc = accuracy.score(occurrences, assignments, truth)
    return [f"identity accuracy against the generator's truth ({config.truth_dir()}):",
            f"  precision {acc.precision:.4f}, recall {acc.recall:.4f} (pairs of"
            f" {plural(acc.identifiers, 'identifier')} seen; the records allow recall up to"
            f" {acc.ceiling_recall:.4f})"]


def profiles(target: str) -> list[str]:
    from orchestration.profiles.summary import profiles_summary

    return profiles_summary(_query, target)[1:]  # its leading blank line is ours to add


def predictive(target: str) -> list[str]:
    """The latest training run's validation metrics (orchestration/ml)."""
    runs = relation("model_runs")
    rows = _query(target, f"select model_name, auc, brier_score from {runs} where model_run_id ="
                          f" (select max(model_run_id) from {runs}) and auc is not null"
                          " order by model_name")
    if not rows:
        return []
    return ["predictive tags (latest training run, validation):",
            *[f"  {name:<24} AUC {auc:.3f}, Brier {brier:.3f}" for name, auc, brier in rows]]


SECTIONS: list[Callable[[str], list[str]]] = [
    reconciliation, quarantine, identifiers, identifier_rejections, identity, identity_accuracy, profiles,
    predictive]


def summary(target: str) -> str:
    lines = ["", f"Tianwen summary ({target})"]
    for section in SECTIONS:
        part = section(target)
        if part:
            lines += ["", *part]
    return "\n".join(lines)
