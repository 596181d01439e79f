"""Grade a student's raft.py against this package's own harness and tests.

    raft-grade path/to/raft.py
    raft-grade path/to/submission/ --parts 2A,2B --runs 3
    raft-grade raft.py --out /autograder/results/results.json
    raft-grade raft.py --parts-from starter/   # the parts that starter tree assigns
    raft-grade raft.py --timeline pages/       # failing tests' timeline pages, named in the results
    raft-grade raft.py --weights weights.json --visibility after_due_date
    raft-grade --bundle autograder.zip --parts 2A,2B   (see labstaff.bundle)
    raft-grade --try-bundle autograder.zip path/to/submission
    raft-grade raft.py --parts 2A --sim-seeds 20   # each test under seeds 1..20
    raft-grade raft.py --no-monitors        # the Go lab's verdicts: no rule monitors

The submission is a raft.py, or a folder holding one (directly, in raft/, or
in src/raft/). Only that file is taken: labgob, labrpc, the persister, the
harness and the tests are this package's. Each test runs in a fresh process
under --test-timeout (default 120 s), the whole grading under
--total-timeout (default 600 s); with --runs N a test earns its point only if
all N runs pass. Prints a line as each test ends, writes Gradescope's
results.json (labstaff.results) and prints a table.

A broken submission never hangs or crashes the grader: a syntax or import
error, an endless loop, threads that outlive Kill(), a test that overruns,
each is a failed test with a one-line reason and its detail (labstaff.reasons).

Nor can it forge a grade (labstaff.sandbox and labstaff.isolation run it): a test passes only on
the harness's own report, sent after its last check over a channel the
submission is not told about, never on an exit status; a submission that
changes the harness fails with "the submission changed the test harness";
as root, the tests run as an unprivileged user that can write none of the
harness, the tests, the results or the grader.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, List, Optional, Sequence

from labstaff import isolation as isolating
from labstaff import reasons, results
from labstaff.isolation import Isolation
from labstaff.parts import read_record
from labstaff.sandbox import Sandbox
from labtools.parts import PARTS, PartsError, add_parts_option, named_parts

# The lab's packages sit beside this one (in src/, or in site-packages when
# installed); found by path, since importing `raft` from a folder holding a
# student's raft.py would import that file instead.
PACKAGE_ROOT = Path(__file__).resolve().parent.parent
# Every package the test process imports: the lab's, and this one for its
# verdict plugin (labstaff.verdict, labstaff.integrity).
LAB_PACKAGES = ("labgob", "labrpc", "labsim", "racecheck", "monitors", "labtest", "raft",
                "labtools", "labstaff")
TESTS = PACKAGE_ROOT / "raft"
RAFT_TESTS = "test_raft.py"
# How long a test process may take to exit after pytest's own timeout
# (at most; never more than the test's own timeout).
EXIT_GRACE_S = 15.0
# A hung test's thread stacks are dumped (faulthandler, from a C thread, so
# even a loop that holds the GIL or swallows pytest-timeout's exception
# shows where it is) this long before its timeout.
STACKS_BEFORE_TIMEOUT_S = 5.0

# The sandbox's pytest settings: the package's own (setup.cfg), restated so
# that nothing from the submission's folder can change them.
PYTEST_INI = """\
[pytest]
python_files = test_*.py
python_functions = Test* test_*
python_classes =
filterwarnings =
    error::pytest.PytestUnhandledThreadExceptionWarning
"""

# The sandbox runs pytest with its packages first on sys.path, whatever is
# installed, so that the submission's raft.py is the one imported.
# Entry-point plugins are off (PYTEST_DISABLE_PLUGIN_AUTOLOAD): the lab's own
# plugin and pytest-timeout are named, and nothing else installed joins in.
PLUGINS = ["-p", "labstaff.verdict", "-p", "labtest.pytest_plugin",
           "-p", "labtools.timeline_plugin", "-p", "pytest_timeout"]
IMPORT_CHECK = "import raft.raft"
HARNESS_CHANGED = "the submission changed the test harness"


@dataclass
class Outcome:
    name: str
    passed: bool
    seconds: float
    reason: str = ""
    output: str = ""
    runs: int = 0


@dataclass
class Grading:
    outcomes: List[Outcome] = field(default_factory=list)
    seconds: float = 0.0


def find_submission(path: Path) -> Path:
    """The raft.py a submission path names."""
    if path.is_file():
        return path
    candidates = (path / "raft.py", path / "raft" / "raft.py", path / "src" / "raft" / "raft.py")
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        f"no raft.py in {path} (looked in it, in raft/ and in src/raft/)"
    )


def tests_of(parts: Sequence[str]) -> List[str]:
    """The Go-named tests of the given parts, in file order."""
    source = (TESTS / RAFT_TESTS).read_text()
    names = re.findall(r"^def (Test\w+?(2[A-D]))\(", source, flags=re.MULTILINE)
    return [name for name, part in names if part in parts]


def make_sandbox(submission: Path, isolation: Optional[Isolation] = None) -> Sandbox:
    """A folder with this package's code and tests, and the student's raft.py."""
    return Sandbox(submission, PACKAGE_ROOT, LAB_PACKAGES, PYTEST_INI,
                   isolation or Isolation.for_this_process())


def import_problem(sandbox: Sandbox) -> Optional[str]:
    """Why the submission cannot be imported, or None."""
    run = sandbox.run_python(IMPORT_CHECK, timeout=30)
    if run.status == 0:
        return None
    if run.status is None:
        return "importing raft.py did not finish within 30 s"
    output = run.output.replace(f"{sandbox.src.parent}{os.sep}", "")
    last = [line for line in output.splitlines() if line.strip()]
    cause = f"raft.py cannot be imported: {last[-1] if last else 'no output'}"
    return f"{reasons.clip(cause, reasons.LINE_CHARS)}\n\n{reasons.clip(output)}"


def run_test(sandbox: Sandbox, name: str, test_timeout: float,
             sim_seeds: int = 0) -> Outcome:
    """One test in a fresh process; passed only if the harness says so.

    The harness's verdict comes over the sandbox's channel; the exit status
    only explains a test that ended before its verdict.
    """
    stacks_at = max(test_timeout - STACKS_BEFORE_TIMEOUT_S, 0.8 * test_timeout)
    args = ["-q", "-p", "no:cacheprovider", *PLUGINS, "--timeout", str(test_timeout),
            "-o", f"faulthandler_timeout={stacks_at:.1f}",
            str(sandbox.src / "raft" / f"{RAFT_TESTS}::{name}")]
    if sim_seeds:
        # Under the simulation: seeds 1..N, the same on every regrade.
        args += ["--sim", f"--sim-seeds=1-{sim_seeds}"]
    limit = test_timeout + min(EXIT_GRACE_S, test_timeout)
    run = sandbox.run_test(args, name, limit)
    output, verdict = run.output, run.verdict
    tampered = sandbox.tampered()
    if verdict is not None and verdict.passed and run.status is not None and not tampered:
        passed_lines = [line.strip() for line in output.splitlines() if "... Passed --" in line]
        return Outcome(name, True, run.seconds, "", "\n".join(passed_lines) or "passed")
    why = reasons.explain(output, hung=verdict is None and run.status is None)
    if tampered:
        sandbox.restore()
        why.cause = f"{HARNESS_CHANGED}: {', '.join(tampered)} (files in the grader's sandbox)"
    elif verdict is not None and verdict.word == "harness-changed":
        why.cause = f"{HARNESS_CHANGED}: {verdict.detail.replace(',', ', ')}"
    elif verdict is not None and verdict.passed:
        why.cause = "the test passed, but its process did not exit: threads still running"
    elif verdict is None and run.status is None:
        reason = f"did not finish within {limit:.0f} s (the test's limit is {test_timeout:.0f} s)"
        why.cause = f"{reason}; {why.cause}"
    elif verdict is None:
        why.cause = f"the test process {run.ending()} before the test finished"
    elif verdict.detail:
        why.cause = verdict.detail
    failed_seeds = re.findall(r"^\S+ seed (\d+): pytest --sim", output, flags=re.MULTILINE)
    if failed_seeds:
        why.cause = f"failed with seed(s) {', '.join(failed_seeds)}: {why.cause}"
    return Outcome(name, False, run.seconds, why.cause, why.text())


def grade(submission: Path, parts: Sequence[str], runs: int, test_timeout: float,
          total_timeout: float, only: Sequence[str] = (),
          isolation: Optional[Isolation] = None,
          progress: Optional[Callable[[int, int, Outcome], None]] = None,
          sim_seeds: int = 0) -> Grading:
    """Grade submission; progress(done, total, outcome) is called after each test."""
    names = [n for n in tests_of(parts) if not only or n in only]
    sandbox = make_sandbox(find_submission(submission), isolation)
    grading = Grading()
    t0 = time.monotonic()
    try:
        problem = import_problem(sandbox)
        for name in names:
            if problem:
                grading.outcomes.append(Outcome(name, False, 0.0, problem.splitlines()[0],
                                                problem))
                continue
            outcome: Optional[Outcome] = None
            for run in range(1, runs + 1):
                left = total_timeout - (time.monotonic() - t0)
                if left <= 0:
                    reason = f"not run: the {total_timeout:.0f} s grading budget was used up"
                    outcome = Outcome(name, False, 0.0, reason, reason, run - 1)
                    break
                outcome = run_test(sandbox, name, min(test_timeout, left), sim_seeds)
                outcome.runs = run
                if not outcome.passed:
                    if runs > 1:
                        outcome.reason = f"run {run} of {runs}: {outcome.reason}"
                    break
            grading.outcomes.append(outcome)
            if progress is not None:
                progress(len(grading.outcomes), len(names), outcome)
    finally:
        sandbox.close()
    grading.seconds = time.monotonic() - t0
    return grading


def attach_timelines(grading: Grading, folder: Path, since: float) -> None:
    """Name each failed test's timeline page (its pytest run wrote it) in its output."""
    for outcome in grading.outcomes:
        page = folder / f"{outcome.name}.html"
        if not outcome.passed and page.is_file() and page.stat().st_mtime >= since:
            outcome.output += f"\n\ntimeline page: {page}"


def table(grading: Grading) -> str:
    width = max([len(o.name) for o in grading.outcomes] + [4])
    rows = [f"{'test'.ljust(width)}  result  seconds  why"]
    for outcome in grading.outcomes:
        result = "PASS" if outcome.passed else "FAIL"
        why = "" if outcome.passed else outcome.reason
        rows.append(f"{outcome.name.ljust(width)}  {result:6}  {outcome.seconds:7.1f}  {why}")
    score = sum(o.passed for o in grading.outcomes)
    rows.append(f"score: {score}/{len(grading.outcomes)} in {grading.seconds:.1f} s")
    return "\n".join(rows)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="raft-grade",
        description="Grade a student's raft.py with this package's harness and tests; "
                    "or build (--bundle) and try (--try-bundle) a Gradescope autograder.",
    )
    parser.add_argument("submission", type=Path, nargs="?",
                        help="a raft.py, or a folder holding one")
    add_parts_option(parser, "the parts to grade: 2A,2B, ... (repeatable; default 2A)",
                     deprecated_part=True)
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
    parser.add_argument("--weights", type=Path,
                        help='points per part or test, a JSON object: {"2A": 20, "2B": 30}')
    parser.add_argument("--visibility", choices=results.VISIBILITIES, default="visible",
                        help="when students see each test's result (default visible)")
    bundles = parser.add_argument_group("Gradescope autograder (see labstaff.bundle)")
    bundles.add_argument("--bundle", type=Path, metavar="OUT.zip",
                         help="write an autograder zip that grades with these options")
    bundles.add_argument("--leaderboard", action="store_true",
                         help="with --bundle: rank RPCs and bytes against the reference Raft")
    bundles.add_argument("--reference", type=Path, metavar="RESULTS.json",
                         help="with --leaderboard: the reference's figures from this "
                              "grading of it, instead of measuring them now")
    bundles.add_argument("--try-bundle", type=Path, metavar="BUNDLE.zip",
                         help="run BUNDLE.zip on the submission as Gradescope does, in a "
                              "temporary root, and print the results")
    parser.add_argument("--sim-seeds", type=int, default=0, metavar="N",
                        help="run each test under the simulation with seeds 1..N "
                             "(a regrade gives the same score)")
    args = parser.parse_args(argv)
    if args.sim_seeds < 0:
        parser.error(f"--sim-seeds must be >= 0, got {args.sim_seeds}")
    if args.runs < 1:
        parser.error(f"--runs must be at least 1, got {args.runs}")
    if not (TESTS / RAFT_TESTS).is_file():
        parser.error(f"the grader needs this package's tests, not found at {TESTS}")
    if args.bundle and args.try_bundle:
        parser.error("--bundle builds a bundle and --try-bundle runs one: give one of them")
    if (args.leaderboard or args.reference) and not args.bundle:
        parser.error("--leaderboard and --reference go with --bundle")
    if args.bundle is None and args.submission is None:
        parser.error("give a submission to grade (a raft.py, or a folder holding one)")
    if args.try_bundle and not args.submission.exists():
        parser.error(f"no submission at {args.submission}")
    if args.try_bundle and not args.try_bundle.is_file():
        parser.error(f"no bundle at {args.try_bundle}")
    if args.submission is not None and not args.try_bundle:
        try:
            find_submission(args.submission)
        except FileNotFoundError as err:
            parser.error(str(err))
    try:
        parts = named_parts(args.parts) if args.parts else None
    except PartsError as err:
        parser.error(f"--parts: {err}")
    if args.parts_from is not None and not parts:
        try:
            parts = read_record(args.parts_from)
        except PartsError as err:
            parser.error(f"--parts-from: {err}")
    parts = parts or (list(PARTS) if args.test else ["2A"])
    unknown = [name for name in args.test if name not in tests_of(PARTS)]
    if unknown:
        parser.error(f"no such test: {', '.join(unknown)}")
    names = [n for n in tests_of(parts) if not args.test or n in args.test]
    try:
        weights = results.load_weights(args.weights, names) if args.weights else None
    except results.WeightsError as err:
        parser.error(str(err))
    if args.bundle or args.try_bundle:
        from labstaff import bundle  # only the staff building a bundle need it
        try:
            if args.try_bundle:
                return bundle.try_bundle(args.try_bundle, args.submission)
            return bundle.build(args.bundle, bundle.Options(
                parts=parts, tests=names, runs=args.runs, test_timeout=args.test_timeout,
                total_timeout=args.total_timeout, weights=weights,
                visibility=args.visibility, leaderboard=args.leaderboard,
                reference=args.reference, sim_seeds=args.sim_seeds))
        except bundle.BundleError as err:
            print(f"raft-grade: {err}", file=sys.stderr)
            return 1

    isolation = Isolation.for_this_process(args.sandbox_user)
    print(isolation.describe())
    for warning in isolating.exposed_files(isolation, PACKAGE_ROOT, LAB_PACKAGES,
                                           args.out):
        print(f"warning: {warning}")
    staging = None
    if args.timeline:
        # The test processes write their pages into a folder of their own
        # (the sandbox user may not reach DIR), inherited as an absolute path;
        # the grader moves the pages to DIR after the last test.
        staging = Path(tempfile.mkdtemp(prefix="raft-timeline-"))
        if isolation.user is not None:
            os.chown(staging, isolation.user.uid, isolation.user.gid)
        os.environ["RAFT_TIMELINE"] = str(staging)
    started = time.time()
    if args.no_monitors:
        os.environ["RAFT_MONITORS"] = "0"  # read by the tests' processes
    grading = grade(args.submission, parts, args.runs, args.test_timeout,
                    args.total_timeout, args.test, isolation, progress=print_progress,
                    sim_seeds=args.sim_seeds)
    if staging is not None:
        folder = args.timeline.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        for page in staging.glob("*.html"):
            if page.is_file() and not page.is_symlink():  # the pages, nothing planted
                shutil.move(str(page), str(folder / page.name))
        shutil.rmtree(staging, ignore_errors=True)
        attach_timelines(grading, folder, started)
    results.write_atomic(args.out, results.results_json(grading, weights, args.visibility))
    print(table(grading))
    print(f"results written to {args.out}")
    return 0


def print_progress(done: int, total: int, outcome: Outcome) -> None:
    verdict = "PASS" if outcome.passed else f"FAIL  {outcome.reason}"
    print(f"[{done}/{total}] {outcome.name}  {outcome.seconds:.1f} s  {verdict}",
          file=sys.stderr, flush=True)


if __name__ == "__main__":
    sys.exit(main())
