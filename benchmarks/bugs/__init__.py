"""The catalogue of seeded student bugs: small edits to a copy of the solution.

Each bug is one module in this folder:

    '''One line: the bug as a student would make it.'''
    PART = "2A"                  # the part whose tests should catch it
    RULE = "one vote per term"   # the Raft rule it breaks, or None (a liveness
                                 # or performance bug, or one no rule names)
    EDITS = [("exact text in the solution's raft.py", "what replaces it")]

Each `old` text must occur exactly once in src/raft/raft.py, so a bug
cannot silently stop applying when the solution changes.

    from bugs import catalogue
    for bug in catalogue():
        path = bug.write(folder)       # folder/raft.py, the solution with the bug
        tree = bug.lab_tree(folder)    # folder/src/...: the whole lab, with the bug;
                                       # run pytest there with RUNNER and PLUGINS

The commands that measure how fast each tool finds each bug live beside
this package in benchmarks/.
"""

from __future__ import annotations

import importlib
import pkgutil
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

# The grader's lab packages and pytest settings, so a tree is the one it grades in.
from labstaff.grade import LAB_PACKAGES, PYTEST_INI

SOURCES = Path(__file__).resolve().parents[2] / "src"
SOLUTION = SOURCES / "raft" / "raft.py"
# Runs pytest in a lab tree with its own packages first on sys.path, and with
# only the lab's plugins (PYTEST_DISABLE_PLUGIN_AUTOLOAD=1 in the environment).
RUNNER = ("import sys; sys.path.insert(0, 'src'); import pytest; "
          "sys.exit(pytest.main(sys.argv[1:]))")
PLUGINS = ["-p", "raft.pytest_plugin", "-p", "pytest_timeout"]


class BugDoesNotApply(ValueError):
    """An edit's old text is not in the solution exactly once."""


@dataclass(frozen=True)
class Bug:
    name: str
    description: str
    part: str
    rule: Optional[str]
    edits: Tuple[Tuple[str, str], ...]

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
                        module.RULE, tuple(module.EDITS)))
    missing = set(names) - {bug.name for bug in bugs}
    if missing:
        raise KeyError(f"no such bug in the catalogue: {', '.join(sorted(missing))}")
    return bugs
