"""What `tianwen run` hands back: the summary text plus the exit code of its load."""

from __future__ import annotations

from orchestration.ingest.loader import EXIT_OK, LoadReport


class RunSummary(str):
    """The printed summary; a str, so existing callers keep working, with the exit code."""

    exit_code: int = EXIT_OK

    @classmethod
    def of(cls, text: str, report: LoadReport) -> RunSummary:
        if report.exit_code() != EXIT_OK:
            text += "\n\nlanding files or lines not loaded (raw._load_errors):\n" + report.summary()
        out = cls(text)
        out.exit_code = report.exit_code()
        return out


IDENTIFIER_REJECTIONS_SQL = (
    "select identifier_type, reason, sum(rejected_count) from marts.identifier_rejections"
    " group by identifier_type, reason order by identifier_type, reason")


def identifier_rejection_lines(rows: list[tuple]) -> list[str]:
    """A line per identifier type: how many values were rejected, by reason."""
    by_type: dict[str, list[str]] = {}
    for identifier_type, reason, n in rows:
        by_type.setdefault(identifier_type, []).append(f"{int(n):,} {reason}")
    lines = ["", "identifiers rejected (marts.identifier_rejections):"]
    return lines + ([f"  {t:<16} {', '.join(r)}" for t, r in by_type.items()] or ["  none"])
