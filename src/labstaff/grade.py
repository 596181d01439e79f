"""raft-grade: grade a student's raft.py; build and try a Gradescope autograder.

    raft-grade path/to/raft.py
    raft-grade path/to/submission/ --parts 2A,2B --runs 3
    raft-grade raft.py --out /autograder/results/results.json
    raft-grade raft.py --parts-from starter/   # the parts that starter tree assigns
    raft-grade raft.py --timeline pages/       # failing tests' timeline pages, named in the results
    raft-grade raft.py --weights weights.json --visibility after_due_date
    raft-grade raft.py --parts 2A --sim-seeds 20   # each test under seeds 1..20
    raft-grade raft.py --no-monitors        # the Go lab's verdicts: no rule monitors
    raft-grade bundle autograder.zip --parts 2A,2B [--leaderboard]  (labstaff.bundle)
    raft-grade try-bundle autograder.zip path/to/submission

Grading is the default: argv whose first word is not a subcommand (bundle,
try-bundle) grades. The submission is a raft.py, or a folder holding one
(directly, in raft/, or in src/raft/); labstaff.grading runs its tests and
judges them. Prints a line as each test ends, writes Gradescope's
results.json (labstaff.results) and prints a table. `bundle` bakes the
same options into an autograder zip; `try-bundle` runs one as Gradescope
would. docs/grading.md shows them at work.

The old spellings `raft-grade --bundle OUT.zip ...` and `raft-grade
--try-bundle ZIP SUBMISSION` still work, with a warning naming the new one.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from labstaff import bundle, grading, results
from labstaff import isolation as isolating
from labstaff.isolation import Isolation
from labstaff.parts import read_record
from labstaff.results import WeightsError
from labtools.parts import PARTS, PartsError, add_parts_option, named_parts

PROG = "raft-grade"
# What a grading or a bundle grades: parts, the tests' names, points per part or test.
Selection = Tuple[List[str], List[str], Optional[Dict[str, float]]]


# --- the parsers ------------------------------------------------------------------------


def _add_selection_options(parser: argparse.ArgumentParser, deprecated_part: bool) -> None:
    """What to grade and how: options a grading and a bundle share."""
    add_parts_option(parser, "the parts to grade: 2A,2B, ... (repeatable; default 2A)",
                     deprecated_part=deprecated_part)
    parser.add_argument("--parts-from", type=Path, metavar="TREE",
                        help="grade the parts a student's tree assigns (raft-starter records "
                        "them in its setup.cfg); --parts overrides")
    parser.add_argument("--test", action="append", default=[],
                        help="grade only this test (repeatable)")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs a test must pass to earn its point (default 1)")
    parser.add_argument("--test-timeout", type=float, default=120.0,
                        help="seconds a test may take (default 120)")
    parser.add_argument("--total-timeout", type=float, default=600.0,
                        help="seconds the whole grading may take (default 600)")
    parser.add_argument("--weights", type=Path,
                        help='points per part or test, a JSON object: {"2A": 20, "2B": 30}')
    parser.add_argument("--visibility", choices=results.VISIBILITIES, default="visible",
                        help="when students see each test's result (default visible)")
    parser.add_argument("--sim-seeds", type=int, default=0, metavar="N",
                        help="run each test under the simulation with seeds 1..N "
                             "(a regrade gives the same score)")


def _add_leaderboard_options(parser: argparse.ArgumentParser, shown: bool = True) -> None:
    parser.add_argument("--leaderboard", action="store_true",
                        help="rank RPCs and bytes against the reference Raft"
                        if shown else argparse.SUPPRESS)
    parser.add_argument("--reference", type=Path, metavar="RESULTS.json",
                        help="with --leaderboard: the reference's figures from this grading "
                        "of it, instead of measuring them now" if shown else argparse.SUPPRESS)


def grade_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Grade a student's raft.py with this package's harness and tests.",
        epilog=f"subcommands (each with its own --help):\n"
               f"  {PROG} bundle OUT.zip [options]   write a Gradescope autograder zip\n"
               f"  {PROG} try-bundle ZIP SUBMISSION  run one as Gradescope does",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("submission", type=Path, nargs="?",
                        help="a raft.py, or a folder holding one")
    _add_selection_options(parser, deprecated_part=True)
    parser.add_argument("--timeline", type=Path, metavar="DIR",
                        help="write each failing test's timeline page (labtools.timeline) "
                             "into DIR, and name it in the results")
    parser.add_argument("--no-monitors", action="store_true",
                        help="do not check Raft's rules on every RPC: the Go lab's verdicts")
    parser.add_argument("--out", type=Path, default=Path("results.json"),
                        help="where to write Gradescope's results.json (default ./results.json)")
    parser.add_argument("--sandbox-user",
                        help="as root, the user the tests run as (default: "
                             f"{isolating.DEFAULT_USER} or the next free one of a pool, "
                             "created if missing)")
    # The spellings before the subcommands, kept working (with a warning) for a release.
    parser.add_argument("--bundle", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--try-bundle", type=Path, help=argparse.SUPPRESS)
    _add_leaderboard_options(parser, shown=False)
    return parser


def bundle_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} bundle",
        description="Write a Gradescope autograder zip that grades with these options "
                    "(labstaff.bundle).",
    )
    parser.add_argument("bundle", type=Path, metavar="OUT.zip", help="the zip to write")
    _add_selection_options(parser, deprecated_part=False)
    _add_leaderboard_options(parser)
    return parser


def try_bundle_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=f"{PROG} try-bundle",
        description="Run an autograder zip on a submission as Gradescope does, in a "
                    "temporary root, and print the results.",
    )
    parser.add_argument("try_bundle", type=Path, metavar="ZIP", help="the autograder zip")
    parser.add_argument("submission", type=Path, help="a raft.py, or a folder holding one")
    return parser


# --- checking what was asked ------------------------------------------------------------


def _check_numbers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    if args.sim_seeds < 0:
        parser.error(f"--sim-seeds must be >= 0, got {args.sim_seeds}")
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if not (grading.TESTS / grading.RAFT_TESTS).is_file():
        parser.error(f"the grader needs this package's tests, not found at {grading.TESTS}")


def _parts(parser: argparse.ArgumentParser, args: argparse.Namespace) -> List[str]:
    """--parts, else --parts-from's record, else every part for --test, else 2A."""
    if args.parts:
        try:
            return named_parts(args.parts)
        except PartsError as err:
            parser.error(f"--parts: {err}")
    if args.parts_from is not None:
        try:
            return read_record(args.parts_from)
        except PartsError as err:
            parser.error(f"--parts-from: {err}")
    return list(PARTS) if args.test else ["2A"]


def selection(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Selection:
    """The parts, tests and weights the options choose; a usage error if unsound."""
    _check_numbers(parser, args)
    parts = _parts(parser, args)
    unknown = [name for name in args.test if name not in grading.tests_of(PARTS)]
    if unknown:
        parser.error(f"no such test: {', '.join(unknown)}")
    names = [n for n in grading.tests_of(parts) if not args.test or n in args.test]
    try:
        weights = results.load_weights(args.weights, names) if args.weights else None
    except WeightsError as err:
        parser.error(str(err))
    return parts, names, weights


def _check_submission(parser: argparse.ArgumentParser, submission: Optional[Path]) -> None:
    if submission is None:
        parser.error("give a submission to grade (a raft.py, or a folder holding one)")
    try:
        grading.find_submission(submission)
    except FileNotFoundError as err:
        parser.error(str(err))


def _warn_deprecated(old: str, new: str) -> None:
    print(f"{PROG}: warning: {old} is deprecated and will go away; use: {new}",
          file=sys.stderr)


# --- the jobs ---------------------------------------------------------------------------


def _stage_timelines(isolation: Isolation) -> Path:
    """A folder the test processes write their timeline pages into.

    Their own, not DIR (the sandbox user may not reach DIR), inherited as an
    absolute path; the grader moves the pages to DIR after the last test.
    """
    staging = Path(tempfile.mkdtemp(prefix="raft-timeline-"))
    if isolation.user is not None:
        os.chown(staging, isolation.user.uid, isolation.user.gid)
    os.environ["RAFT_TIMELINE"] = str(staging)
    return staging


def _collect_timelines(staging: Path, folder: Path, graded: grading.Grading,
                       since: float) -> None:
    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    for page in staging.glob("*.html"):
        if page.is_file() and not page.is_symlink():  # the pages, nothing planted
            shutil.move(str(page), str(folder / page.name))
    shutil.rmtree(staging, ignore_errors=True)
    grading.attach_timelines(graded, folder, since)


def run_grading(args: argparse.Namespace, chosen: Selection) -> int:
    """Grade args.submission; write results.json and print the table."""
    parts, _, weights = chosen
    isolation = Isolation.for_this_process(args.sandbox_user)
    print(isolation.describe())
    for warning in isolating.exposed_files(isolation, grading.PACKAGE_ROOT,
                                           grading.LAB_PACKAGES, args.out):
        print(f"warning: {warning}")
    staging = _stage_timelines(isolation) if args.timeline else None
    started = time.time()
    if args.no_monitors:
        os.environ["RAFT_MONITORS"] = "0"  # read by the tests' processes
    graded = grading.grade(args.submission, parts, args.runs, args.test_timeout,
                           args.total_timeout, args.test, isolation,
                           progress=grading.print_progress, sim_seeds=args.sim_seeds)
    if staging is not None:
        _collect_timelines(staging, args.timeline, graded, started)
    results.write_atomic(args.out, results.results_json(graded, weights, args.visibility))
    print(grading.table(graded))
    print(f"results written to {args.out}")
    return 0


def build_bundle(args: argparse.Namespace, chosen: Selection) -> int:
    """Write the autograder zip args.bundle."""
    parts, names, weights = chosen
    options = bundle.Options(
        parts=parts, tests=names, runs=args.runs, test_timeout=args.test_timeout,
        total_timeout=args.total_timeout, weights=weights, visibility=args.visibility,
        leaderboard=args.leaderboard, reference=args.reference, sim_seeds=args.sim_seeds)
    try:
        return bundle.build(args.bundle, options)
    except bundle.BundleError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1


def try_bundle(zipped: Path, submission: Path) -> int:
    """Run the autograder zip on submission, as Gradescope would."""
    try:
        return bundle.try_bundle(zipped, submission)
    except bundle.BundleError as err:
        print(f"{PROG}: {err}", file=sys.stderr)
        return 1


# --- the commands -----------------------------------------------------------------------


def _check_try_bundle(parser: argparse.ArgumentParser, zipped: Path, submission: Path) -> None:
    if not submission.exists():
        parser.error(f"no submission at {submission}")
    if not zipped.is_file():
        parser.error(f"no bundle at {zipped}")


def grade_command(argv: Sequence[str]) -> int:
    """raft-grade SUBMISSION [options]; and the deprecated --bundle, --try-bundle."""
    parser = grade_parser()
    args = parser.parse_args(argv)
    if args.bundle and args.try_bundle:
        parser.error(f"--bundle and --try-bundle are deprecated; use `{PROG} bundle` to "
                     f"build a bundle or `{PROG} try-bundle` to run one")
    if args.try_bundle:
        _warn_deprecated("--try-bundle", f"{PROG} try-bundle ZIP SUBMISSION")
        if args.submission is None:
            parser.error("--try-bundle needs a submission (a file or a folder)")
        _check_try_bundle(parser, args.try_bundle, args.submission)
        return try_bundle(args.try_bundle, args.submission)
    if args.bundle:
        _warn_deprecated("--bundle", f"{PROG} bundle OUT.zip [options]")
        return build_bundle(args, selection(parser, args))
    if args.leaderboard or args.reference:
        parser.error(f"--leaderboard and --reference go with a bundle: {PROG} bundle "
                     "OUT.zip --leaderboard [--reference RESULTS.json]")
    _check_submission(parser, args.submission)
    return run_grading(args, selection(parser, args))


def bundle_command(argv: Sequence[str]) -> int:
    """raft-grade bundle OUT.zip [options]."""
    parser = bundle_parser()
    args = parser.parse_args(argv)
    if args.reference and not args.leaderboard:
        parser.error("--reference goes with --leaderboard")
    return build_bundle(args, selection(parser, args))


def try_bundle_command(argv: Sequence[str]) -> int:
    """raft-grade try-bundle ZIP SUBMISSION."""
    parser = try_bundle_parser()
    args = parser.parse_args(argv)
    _check_try_bundle(parser, args.try_bundle, args.submission)
    return try_bundle(args.try_bundle, args.submission)


SUBCOMMANDS: Dict[str, Callable[[Sequence[str]], int]] = {
    "bundle": bundle_command,
    "try-bundle": try_bundle_command,
}


def main(argv: Optional[Sequence[str]] = None) -> int:
    """A subcommand when argv's first word names one; else a grading run."""
    words = list(sys.argv[1:] if argv is None else argv)
    if words and words[0] in SUBCOMMANDS:
        return SUBCOMMANDS[words[0]](words[1:])
    return grade_command(words)


if __name__ == "__main__":
    sys.exit(main())
