"""The offline verifier's command line: python -m voting.verify BUNDLE [--receipt R ...] [--json].

The checks are in voting.checks (verify_bundle), their forked scan in voting.scan, the report's words
in voting.report and voting.outcome."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from .bundle import BundleError, check_bundle_shape, parse_json_file
from .checks import verify_bundle
from .report import render_json, render_text

__all__ = ["main", "verify_bundle"]

PROGRESS_MIN = 10000  # report progress on stderr for bundles at least this large

EXIT_OK, EXIT_FAILED, EXIT_UNUSABLE = 0, 1, 2


def _read(path: str, what: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise BundleError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def _progress_printer(total_hint: int):
    state = {"last": -1}

    def report(done: int, total: int) -> None:
        percent = done * 100 // total
        if percent // 10 != state["last"]:
            state["last"] = percent // 10
            print(f"校验中 / verifying: {done}/{total} ({percent}%)", file=sys.stderr, flush=True)

    return report if total_hint >= PROGRESS_MIN else None


def _unusable(message: str, as_json: bool) -> int:
    if as_json:
        print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    print(f"无法校验 / cannot verify: {message}", file=sys.stderr)
    return EXIT_UNUSABLE


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (0 all checks pass, 1 a check failed, 2 unusable input)."""
    parser = argparse.ArgumentParser(
        prog="python -m voting.verify",
        description="离线校验 linli-vote/1 审计包 / verify a linli-vote/1 bundle offline",
    )
    parser.add_argument("bundle", help="the bundle JSON file")
    parser.add_argument("--receipt", action="append", default=[], metavar="R", help="a receipt JSON file (repeatable)")
    parser.add_argument("--json", action="store_true", help="print a JSON report on stdout")
    parser.add_argument("--workers", type=int, default=None, help="processes for signature checks (default: all cores)")
    args = parser.parse_args(argv)
    try:
        bundle = parse_json_file(_read(args.bundle, "bundle"), "the bundle")
        check_bundle_shape(bundle)
        receipts = [(path, parse_json_file(_read(path, "receipt"), f"receipt {path}")) for path in args.receipt]
    except BundleError as exc:
        return _unusable(str(exc), args.json)
    except MemoryError:
        return _unusable("the file is too large for this machine's memory", args.json)
    progress = _progress_printer(len(bundle["entries"]) + len(bundle["roll"]))
    try:
        report = verify_bundle(bundle, receipts, workers=args.workers, progress=progress)
    except RecursionError:
        return _unusable("the bundle is nested too deeply", args.json)
    if args.json:
        print(json.dumps(render_json(report, args.bundle), ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(render_text(report, args.bundle))
    return EXIT_OK if report.ok else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
