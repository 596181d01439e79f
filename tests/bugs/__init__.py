"""The catalogue of seeded student bugs: small edits to a copy of the solution.

Each bug is one module in this folder:

    '''One line: the bug as a student would make it.'''
    PART = "2A"                  # the part whose tests should catch it
    RULE = "one vote per term"   # the Raft rule it breaks, or None (a liveness
                                 # or performance bug, or one no rule names)
    REPORT = ("fragment", ...)   # race bugs only: what `pytest -k 2A --race`
                                 # must print of it
    EDITS = [("exact text in the solution's raft.py", "what replaces it")]

Each `old` text must occur exactly once in src/raft/raft.py, so a bug
cannot silently stop applying when the solution changes.

    from tests.bugs import catalogue
    for bug in catalogue():
        path = bug.write(folder)       # folder/raft.py, the solution with the bug
        tree = bug.lab_tree(folder)    # folder/src/...: the whole lab, with the bug;
                                       # run pytest there with RUNNER and PLUGINS,
                                       # raft-chaos with CHAOS_RUNNER
    found, output, seconds = run_race_check(bug)   # a race bug under --race

The tests of the monitors, the race checker and the simulation run these
bugs; the benchmarks measure how fast each tool finds each one.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

# The grader's lab packages, pytest settings and plugins, so that a tree is
# the one it grades in and runs as its tests run.
from labstaff.grading import LAB_PACKAGES, PLUGINS, PYTEST_INI

SOURCES = Path(__file__).resolve().parents[2] / "src"
SOLUTION = SOURCES / "raft" / "raft.py"
# Runs pytest in a lab tree with its own packages first on sys.path, and with
# only the lab's plugins (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 in the environment).
RUNNER = ("import sys; sys.path.insert(0, 'src'); import pytest; "
          "sys.exit(pytest.main(sys.argv[1:]))")
# Runs raft-chaos in a lab tree (its src/ first on sys.path, as RUNNER does).
CHAOS_RUNNER = ("import sys; sys.path.insert(0, 'src'); "
                "from labtools.chaos.cli import main; sys.exit(main(sys.argv[1:]))")


class BugDoesNotApply(ValueError):
    """An edit's old text is not in the solution exactly once."""


@dataclass(frozen=True)
class Bug:
    name: str
    description: str
    part: str
    rule: Optional[str]
    edits: Tuple[Tuple[str, str], ...]
    report: Tuple[str, ...] = ()

    def source(self, solution: Optional[str] = None) -> str:
        """The solution's raft.py with this bug's edits made."""
        text = SOLUTION.read_text() if solution is None else solution
        for old, new in self.edits:
            found = text.count(old)
            if found != 1:
                raise BugDoesNotApply(
                    f"bug {self.name}: its text {old[:60]!r} is in raft.py {found} times, "
                    "not once")
            text = text.replace(old, new)
        return text

    def write(self, folder: Path) -> Path:
        """Write folder/raft.py, the solution with this bug; return its path."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "raft.py"
        path.write_text(self.source())
        return path

    def lab_tree(self, folder: Path) -> Path:
        """The lab's packages in folder/src, raft.py with this bug (see lab_tree)."""
        return lab_tree(folder, self.source())


def lab_tree(folder: Path, raft_source: str) -> Path:
    """The lab's packages in folder/src with raft_source as raft.py, and the
    grader's pytest.ini: a tree to run RUNNER in, as the grader runs a test."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for package in LAB_PACKAGES:
        shutil.copytree(SOURCES / package, folder / "src" / package, ignore=ignore)
    (folder / "src" / "raft" / "raft.py").write_text(raft_source)
    (folder / "pytest.ini").write_text(PYTEST_INI)
    return folder


def catalogue(names: Sequence[str] = ()) -> List[Bug]:
    """Every bug in the folder (or those named), by name."""
    bugs = []
    for info in sorted(pkgutil.iter_modules([str(Path(__file__).parent)]),
                       key=lambda i: i.name):
        if names and info.name not in names:
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        bugs.append(Bug(info.name, (module.__doc__ or "").strip(), module.PART,
                        module.RULE, tuple(module.EDITS), tuple(getattr(module, "REPORT", ()))))
    missing = set(names) - {bug.name for bug in bugs}
    if missing:
        raise KeyError(f"no such bug in the catalogue: {', '.join(sorted(missing))}")
    return bugs


def race_bugs(names: Sequence[str] = ()) -> List[Bug]:
    """The bugs the race checker must report (those with a REPORT)."""
    return [bug for bug in catalogue(names) if bug.report]


# --whole: three tests, each of which may end by its 120 s timeout.
RACE_RUN_TIMEOUT_S = 400


def run_race_check(bug: Bug, whole: bool = False,
                   extra: Sequence[str] = ()) -> Tuple[bool, str, float]:
    """(found, pytest's output, seconds) of one `pytest [-x] -k 2A --race` in a
    lab tree with the bug; found when it fails with every fragment of the
    bug's REPORT. extra: more pytest arguments (["--sim"])."""
    work = Path(tempfile.mkdtemp(prefix=f"race-{bug.name}-"))
    try:
        tree = bug.lab_tree(work / "tree")
        command = [sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider",
                   *PLUGINS, "--race", *extra, "-k", "2A", "src/raft/test_raft.py"]
        if not whole:
            command.insert(3, "-x")
        t0 = time.monotonic()
        result = subprocess.run(
            command, cwd=tree, capture_output=True, text=True, timeout=RACE_RUN_TIMEOUT_S,
            env=dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"),
        )
        seconds = time.monotonic() - t0
        output = result.stdout + result.stderr
        found = result.returncode != 0 and all(part in output for part in bug.report)
        return found, output, seconds
    finally:
        shutil.rmtree(work, ignore_errors=True)
