"""`tianwen` command line: generate sample data, load, build, summarise, or all at once.

Exit codes: 0 every landing file loaded and every line parsed; 3 the command completed but
files or lines were rejected (listed in raw._load_errors); 2 failure (one line says why)."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from orchestration import config


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="tianwen", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("generate", help="write a synthetic landing folder and its truth")
    g.add_argument("--people", type=int, default=10_000)
    g.add_argument("--days", type=int, default=3, help="daily batches per source")
    g.add_argument("--seed", type=int, default=42)
    g.add_argument("--end-date", type=date.fromisoformat, default=None,
                   help="date of the last batch, YYYY-MM-DD (default: yesterday, UTC)")
    g.add_argument("--landing", type=Path, default=None, help="default: CDP_LANDING_DIR")
    g.add_argument("--truth", type=Path, default=None, help="default: CDP_TRUTH_DIR")

    for name, text in (("load", "load new landing files into the raw schema"),
                       ("build", "dbt build: staging, identity, marts, tests"),
                       ("summary", "print rows per layer and quarantine reasons"),
                       ("run", "load + build + summary: the whole pipeline"),
                       ("demo", "generate a sample, then run the whole pipeline on DuckDB"),
                       ("publish", "publish the serving copy the data service reads (tianwen run does it too)"),
                       ("serve", "the data service (HTTP API) on 127.0.0.1:CDP_API_PORT (default 8000)")):
        s = sub.add_parser(name, help=text)
        s.add_argument("--target", choices=config.TARGETS, default=None,
                       help="default: CDP_TARGET or duckdb")
        if name == "build":
            s.add_argument("--full-refresh", action="store_true",
                           help="rebuild the incremental models (base and record models, identity"
                                " components) from scratch")
        if name in ("load", "run", "demo"):
            s.add_argument("--landing", type=Path, default=None, help="default: CDP_LANDING_DIR")
        if name == "demo":
            s.add_argument("--people", type=int, default=10_000)
    x = sub.add_parser("export-subject", help="write everything held about one person as JSON")
    x.add_argument("--identifier", required=True, help="<type>:<value>, e.g. mobile:13800138000")
    x.add_argument("--target", choices=config.TARGETS, default=None,
                   help="default: CDP_TARGET or duckdb")
    x.add_argument("--out", type=Path, default=None,
                   help="default: CDP_EXPORTS_DIR/subject-<customer_id>.json")
    e = sub.add_parser("erase", help="carry out pending erasure requests everywhere, then rebuild")
    e.add_argument("--target", choices=config.TARGETS, default=None,
                   help="default: CDP_TARGET or duckdb")
    from orchestration.activation import cli as activation_cli

    activation_cli.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from orchestration import pipeline
    from orchestration.ingest.errors import explain
    from orchestration.synthetic.generator import generate

    code = 0
    try:
        target = getattr(args, "target", None) or config.target()
        landing = getattr(args, "landing", None) or config.landing_dir()
        if args.command == "generate":
            manifest = generate(landing, args.truth or config.truth_dir(), people=args.people,
                                days=args.days, end_date=args.end_date, seed=args.seed)
            rows = sum(s["landed"] for s in manifest["sources"].values())
            print(f"wrote {rows:,} rows for {args.people:,} people to {landing}")
        elif args.command == "load":
            report = pipeline.load(landing, target)
            print(report.summary())
            code = report.exit_code()
        elif args.command == "build":
            pipeline.build(target, full_refresh=args.full_refresh)
        elif args.command == "summary":
            print(pipeline.summary(target))
        elif args.command == "run":
            text = pipeline.run(landing, target)
            print(text)
            code = getattr(text, "exit_code", 0)
        elif args.command == "export-subject":
            from orchestration.privacy.subject_access import export_subject

            path, counts = export_subject(args.identifier, target, args.out)
            # counts only: the file holds the personal data, the terminal does not
            print(f"wrote {path}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
        elif args.command == "erase":
            from orchestration.privacy.erasure import erase

            print(erase(target).line())  # counts and request ids only
        elif args.command == "sync":
            from orchestration.activation import cli as activation_cli

            code = activation_cli.run(args)
        elif args.command in ("publish", "serve"):
            from orchestration.service.cli import run_service_command

            run_service_command(args.command, target)
        elif args.command == "demo":
            generate(landing, config.truth_dir(), people=args.people)
            print(pipeline.run(landing, target))
            # the sample holds malformed lines on purpose: rejecting them is the demo working
    except (ValueError, FileNotFoundError, RuntimeError) as exc:
        print(f"tianwen {args.command}: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        reason = explain(exc)
        if reason is None:
            raise
        print(f"tianwen {args.command}: {reason}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
