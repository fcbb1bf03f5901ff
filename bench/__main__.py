"""``python -m bench``: run every benchmark, write one JSON per benchmark and ``summary.json``."""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

from bench import agent, ingest, kiosk, load, summary, tickets
from bench.common import BenchResult, Stopwatch, machine_info
from bench.stack import Databases

log = logging.getLogger(__name__)

BENCHMARKS: dict[str, Callable[[Databases, Path, bool], BenchResult | None]] = {
    ingest.NAME: ingest.run,
    agent.NAME: agent.run,
    summary.NAME: summary.run,
    tickets.NAME: tickets.run,
    kiosk.NAME: kiosk.run,
    load.NAME: load.run,
}


def build_parser() -> argparse.ArgumentParser:
    """Command-line options."""
    parser = argparse.ArgumentParser(prog="python -m bench", description="service-hall benchmarks")
    parser.add_argument("--out", default="bench-results", help="directory for the JSON results")
    parser.add_argument("--quick", action="store_true", help="small sizes: proves the harness works")
    parser.add_argument("--only", action="append", choices=sorted(BENCHMARKS), help="run only these")
    parser.add_argument("--work-dir", help="where databases and logs go (default: a temp dir, removed)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen benchmarks; return 1 if any failed to run."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    work = Path(args.work_dir) if args.work_dir else Path(tempfile.mkdtemp(prefix="hall-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    overview: dict[str, object] = {"quick": args.quick, "machine": machine_info(), "benchmarks": {}}
    results: dict[str, object] = {}
    failed = False
    watch = Stopwatch()
    try:
        with Databases(work) as dbs:
            for name in args.only or list(BENCHMARKS):
                try:
                    result = BENCHMARKS[name](dbs, work, args.quick)
                except Exception as err:
                    log.exception("benchmark %s failed", name)
                    results[name] = {"status": "failed", "error": repr(err)}
                    failed = True
                    continue
                if result is None:
                    results[name] = {"status": "skipped", "reason": tickets.SKIP_REASON}
                    continue
                result.write(out)
                results[name] = {
                    "status": "ok",
                    "file": f"{name}.json",
                    "duration_s": result.duration_s,
                    "load_before": result.load_before,
                    "load_after": result.load_after,
                    "targets": [t.__dict__ for t in result.targets],
                }
    finally:
        overview["benchmarks"] = results
        overview["duration_s"] = round(watch.elapsed_s, 1)
        (out / "summary.json").write_text(json.dumps(overview, indent=2, ensure_ascii=False) + "\n")
        if not args.work_dir:
            shutil.rmtree(work, ignore_errors=True)
    log.info("results in %s (%.0f s)", out, watch.elapsed_s)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
