"""What `tianwen run` hands back: the summary text plus the exit code of its load."""

from __future__ import annotations

from orchestration.ingest.loader import EXIT_OK


class RunSummary(str):
    """The printed summary; a str, so existing callers keep working, with the exit code."""

    exit_code: int = EXIT_OK

    @classmethod
    def of(cls, text: str, exit_code: int, not_loaded: str) -> RunSummary:
        """`not_loaded`: the load report's summary (LoadReport.summary()) of what was rejected."""
        if exit_code != EXIT_OK:
            text += "\n\nlanding files or lines not loaded (raw._load_errors):\n" + not_loaded
        out = cls(text)
        out.exit_code = exit_code
        return out
