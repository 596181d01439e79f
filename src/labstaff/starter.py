"""Export the tree a student receives: the lab with raft.py cut to a skeleton.

    raft-starter OUTDIR

raft.py is cut out of the solution by its marks, so starter and solution
can never drift apart:

    # SOLUTION BEGIN ... # SOLUTION END   the lines between go (and the marks)
    # STARTER: text                       becomes `text`, at the same indent

Everything else (labgob, labrpc, the persister, the harness, the tests of
the lab, the students' tools, README, packaging) is copied as it is. The
staff's package (labstaff: the grader, this exporter) and the tests that
need a working Raft beyond the lab's own are left out. OUTDIR must not exist yet, or be empty.
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from pathlib import Path
from typing import List, Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]
BEGIN = "# SOLUTION BEGIN"
END = "# SOLUTION END"
STARTER = re.compile(r"^(?P<indent>\s*)# STARTER:(?: (?P<text>.*))?$")

FILES = ["README.md", "setup.cfg", "pyproject.toml", ".gitignore"]
FOLDERS = ["src/labgob", "src/labrpc", "src/labsim", "src/raft", "src/labtools", "benchmarks"]
STAFF_PACKAGE = "labstaff"
STUDENT_TESTS = ["test_labgob.py", "test_labrpc.py", "test_logview.py"]


class MarkError(ValueError):
    """The solution's marks do not pair up."""


def cut(text: str, name: str = "raft.py") -> str:
    """The starter version of a solution file."""
    out: List[str] = []
    opened_at: Optional[int] = None
    for number, line in enumerate(text.splitlines(), start=1):
        mark = line.strip()
        if mark == BEGIN:
            if opened_at is not None:
                raise MarkError(f"{name}:{number}: {BEGIN} inside the region opened at "
                                f"line {opened_at}")
            opened_at = number
            continue
        if mark == END:
            if opened_at is None:
                raise MarkError(f"{name}:{number}: {END} without a {BEGIN}")
            opened_at = None
            continue
        if opened_at is not None:
            continue
        starter = STARTER.match(line)
        if starter:
            text_part = starter.group("text") or ""
            out.append(starter.group("indent") + text_part if text_part else "")
        else:
            out.append(line)
    if opened_at is not None:
        raise MarkError(f"{name}:{opened_at}: {BEGIN} is never closed")
    # Cutting leaves runs of blank lines; keep at most two.
    squeezed = re.sub(r"\n{4,}", "\n\n\n", "\n".join(out).rstrip("\n") + "\n")
    compile(squeezed, name, "exec")  # the starter must at least be valid Python
    return squeezed


def export(outdir: Path) -> None:
    if outdir.exists() and any(outdir.iterdir()):
        raise FileExistsError(f"{outdir} exists and is not empty")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for folder in FOLDERS:
        shutil.copytree(REPO_ROOT / folder, outdir / folder, ignore=ignore, dirs_exist_ok=True)
    for name in FILES:
        shutil.copyfile(REPO_ROOT / name, outdir / name)
    # The staff's console commands go with their package.
    setup = (outdir / "setup.cfg").read_text().splitlines(keepends=True)
    (outdir / "setup.cfg").write_text("".join(
        line for line in setup if f"= {STAFF_PACKAGE}." not in line))
    (outdir / "tests").mkdir()
    for name in STUDENT_TESTS:
        shutil.copyfile(REPO_ROOT / "tests" / name, outdir / "tests" / name)
    solution = (REPO_ROOT / "src/raft/raft.py").read_text()
    (outdir / "src/raft/raft.py").write_text(cut(solution))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="raft-starter",
        description="Write the tree a student receives, raft.py cut to its skeleton.",
    )
    parser.add_argument("outdir", type=Path, help="where to write it (new or empty)")
    args = parser.parse_args(argv)
    try:
        export(args.outdir)
    except (FileExistsError, MarkError) as err:
        parser.error(str(err))
    print(f"starter written to {args.outdir}; raft.py holds the skeleton")
    return 0


if __name__ == "__main__":
    sys.exit(main())
