"""What a Gradescope bundle's run_autograder runs: grade one submission.

    AUTOGRADER_ROOT=/autograder python -I -m labstaff.autograder

Reads the options baked into the bundle ($AUTOGRADER_ROOT/source/config.json,
written by labstaff.bundle), finds the student's raft.py in
$AUTOGRADER_ROOT/submission (anywhere in it, or inside a zip of their
repository), grades it, and writes $AUTOGRADER_ROOT/results/results.json in
one atomic step. Whatever goes wrong (no raft.py, a broken zip, a crash of
the grader itself) still ends in a valid results.json: a failed test that
says what happened. Progress goes to stdout, which Gradescope shows staff.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path
from typing import Any, Dict, List, Optional

from labstaff import grading, results

CONFIG = "config.json"
# Folders a raft.py in a submission is never taken from.
SKIPPED_FOLDERS = {"__MACOSX", ".git", ".venv", "venv", "site-packages", "__pycache__"}
# A zip may hold a whole repository; only its raft.py files are extracted.
MAX_RAFT_BYTES = 5_000_000


class HardStop(BaseException):
    """run_autograder's `timeout` sent SIGTERM: the grading overran its budget."""


class SubmissionError(ValueError):
    """The submission holds no raft.py the grader can take; the message says what to upload."""


def _rank(path: Path, top: Path) -> "tuple[int, int, str]":
    """Better candidates first: src/raft/raft.py, then raft/raft.py, then the shallowest."""
    parts = path.relative_to(top).parts
    if parts[-3:] == ("src", "raft", "raft.py"):
        kind = 0
    elif parts[-2:] == ("raft", "raft.py"):
        kind = 1
    else:
        kind = 2
    return kind, len(parts), str(path)


def _candidates(top: Path) -> List[Path]:
    found = []
    for path in top.rglob("raft.py"):
        relative = path.relative_to(top).parts
        if path.is_file() and not any(part in SKIPPED_FOLDERS or part.startswith(".")
                                      for part in relative[:-1]):
            found.append(path)
    return sorted(found, key=lambda p: _rank(p, top))


def _unzip_rafts(archive: Path, into: Path) -> None:
    """Extract only the raft.py files of a zip, never outside `into`."""
    try:
        with zipfile.ZipFile(archive) as zipped:
            for number, info in enumerate(zipped.infolist()):
                name = info.filename.replace("\\", "/")
                if info.is_dir() or name.rsplit("/", 1)[-1] != "raft.py":
                    continue
                if info.file_size > MAX_RAFT_BYTES:
                    raise SubmissionError(f"{archive.name}: {name} is {info.file_size} bytes; "
                                          "a raft.py that large is not a Raft")
                # Each file gets its own numbered folder: nothing in the
                # zip's names can point outside `into`.
                parts = [p for p in name.split("/") if p not in ("", ".", "..")]
                target = into / f"{archive.stem}-{number}" / Path(*parts)
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(zipped.read(info))
    except zipfile.BadZipFile as err:
        raise SubmissionError(f"{archive.name} is not a zip file I can read: {err}") from None


def locate(submission: Path, scratch: Path) -> Path:
    """The raft.py to grade: the best one in submission, else in its zips."""
    if not submission.is_dir():
        raise SubmissionError(f"no submission folder at {submission}")
    found = _candidates(submission)
    if found:
        return found[0]
    for archive in sorted(submission.rglob("*.zip")):
        _unzip_rafts(archive, scratch)
    found = _candidates(scratch)
    if found:
        return found[0]
    files = sorted(str(p.relative_to(submission)) for p in submission.rglob("*") if p.is_file())
    shown = ", ".join(files[:15]) + (f" and {len(files) - 15} more" if len(files) > 15 else "")
    raise SubmissionError(
        "no raft.py in your submission: upload your raft.py, or a zip of your repository "
        f"that holds src/raft/raft.py (your submission holds: {shown or 'no files'})"
    )


def load_config(source: Path) -> Dict[str, Any]:
    return json.loads((source / CONFIG).read_text())


def max_score(config: Dict[str, Any]) -> float:
    return float(sum(results.points(config["tests"], config.get("weights")).values()))


def run(root: Path) -> Dict[str, Any]:
    """Grade $root/submission with $root/source's options; returns results.json's data."""
    t0 = time.monotonic()
    config: Optional[Dict[str, Any]] = None
    scratch = Path(tempfile.mkdtemp(prefix="raft-submission-"))
    try:
        config = load_config(root / "source")
        raft_py = locate(root / "submission", scratch)
        print(f"grading {raft_py.relative_to(root) if root in raft_py.parents else raft_py.name}: "
              f"{len(config['tests'])} tests, {config['runs']} run(s) each, at most "
              f"{config['test_timeout']:.0f} s a test and {config['total_timeout']:.0f} s "
              "in all", flush=True)
        graded = grading.grade(raft_py, config["parts"], config["runs"],
                               config["test_timeout"], config["total_timeout"], config["tests"],
                               progress=grading.print_progress,
                               sim_seeds=config.get("sim_seeds", 0))
        print(grading.table(graded), flush=True)
        return results.results_json(graded, config.get("weights"), config["visibility"],
                                    config.get("reference"))
    except SubmissionError as err:
        print(f"submission problem: {err}", flush=True)
        return results.crash_results(str(err), "", _max(config), time.monotonic() - t0)
    except HardStop:
        seconds = time.monotonic() - t0
        cause = (f"the grading was stopped after {seconds:.0f} s, beyond its budget of "
                 f"{config['total_timeout'] if config else '?'} s: tell the course staff")
        return results.crash_results(cause, "", _max(config), seconds)
    except BaseException as err:  # the grader's own failure must still give a results.json
        detail = traceback.format_exc()
        print(detail, flush=True)
        cause = (f"the autograder itself failed ({type(err).__name__}: {err}); "
                 "this is not your code's fault: tell the course staff")
        return results.crash_results(cause, detail, _max(config), time.monotonic() - t0)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _max(config: Optional[Dict[str, Any]]) -> float:
    try:
        return max_score(config) if config else 1.0
    except (KeyError, TypeError, ValueError):
        return 1.0


def _children() -> List[int]:
    """This process's child processes (Linux's /proc; none found elsewhere)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            # "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        if ppid == os.getpid():
            found.append(int(stat.parent.name))
    return found


def _stop(signum: int, frame: Any) -> None:
    # Each test runs in its own session (labstaff.sandbox): end those too, or
    # they would outlive the grader.
    for child in _children():
        try:
            os.killpg(child, signal.SIGKILL)
        except OSError:
            pass
    raise HardStop()


def main() -> int:
    root = Path(os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    signal.signal(signal.SIGTERM, _stop)
    data = run(root)
    results.write_atomic(root / "results" / "results.json", data)
    print(f"results written to {root / 'results' / 'results.json'}: score {data['score']}",
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
