"""Export the tree a student receives: the lab, raft.py cut to a skeleton.

    raft-starter OUTDIR                              # every part, 2A-2D
    raft-starter OUTDIR --parts 2A                   # leader election only
    raft-starter OUTDIR --parts 2A,2B --handout-extra course.md

The tree holds every package of src/ but the staff's (labstaff), packaging
(setup.cfg without the staff's commands, pyproject.toml), the lab's own
tests of labgob, labrpc and the log viewer, and, cut to the chosen parts:
- src/raft/raft.py, the skeleton (labstaff.skeleton: the SOLUTION marks,
  and the comments of the chosen parts only);
- src/raft/test_raft.py, the chosen parts' tests and the helpers they use
  (labstaff.testcut);
- README.md, the handout (labstaff.handout), with the course's own text
  from --handout-extra at its end. The solution's README and docs/ are
  the staff's pages and never ship.
setup.cfg records the parts (`[raftlab] parts = 2A`); `raft-grade SUB
--parts-from OUTDIR` grades those. benchmarks/ stays behind: its figures
and its catalogue of seeded bugs are the solution's. Nothing in the tree
names the staff's tools (labstaff.leaks checks): setup.cfg loses their
commands and their import contracts.

Before the tree is put in place it is searched for traces of the solution
(labstaff.leaks); a tree with one is refused, naming each. OUTDIR must not
exist yet, or be empty; nothing is left behind when the export fails.
"""

from __future__ import annotations

import argparse
import configparser
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import List, Optional, Sequence

from labstaff import handout
from labstaff.leaks import find_leaks, staff_pages
from labstaff.parts import write_record
from labtools.parts import PARTS, PartsError, add_parts_option, parse_parts
from labstaff.skeleton import MarkError, cut
from labstaff.testcut import cut_tests, titles_of

__all__ = ["LeakError", "MarkError", "cut", "export", "main"]

REPO_ROOT = Path(__file__).resolve().parents[2]
FILES = ["setup.cfg", "pyproject.toml", ".gitignore"]
STAFF_PACKAGE = "labstaff"
# The lab's own tests a student gets, under tests/ (with their packages' __init__.py).
STUDENT_TESTS = ["__init__.py", "labgob/__init__.py", "labgob/test_labgob.py",
                 "labrpc/__init__.py", "labrpc/test_labrpc.py",
                 "labtools/__init__.py", "labtools/test_logview.py"]
IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
LEAKS_SHOWN = 20


class LeakError(RuntimeError):
    """The exported tree would hold something of the solution."""


def _staff_contract(section: str) -> bool:
    """An import-linter contract on the staff's package (its `containers`)."""
    config = configparser.ConfigParser(interpolation=None)
    try:
        config.read_string(section)
    except configparser.Error:
        return False
    return any(STAFF_PACKAGE in config.get(name, "containers", fallback="").split()
               for name in config.sections())


def student_setup_cfg(text: str) -> str:
    """setup.cfg without the staff's package: its commands, its place in the
    layers, and its own import contracts with the comments just above them."""
    sections: List[List[str]] = [[]]
    for line in text.splitlines(keepends=True):
        if line.startswith("["):
            comments: List[str] = []
            while sections[-1] and sections[-1][-1].startswith("#"):
                comments.insert(0, sections[-1].pop())
            sections.append(comments)
        sections[-1].append(line)
    kept = [section for section in sections if not _staff_contract("".join(section))]
    return "".join(line for section in kept for line in section
                   if f"= {STAFF_PACKAGE}." not in line and line.strip() != STAFF_PACKAGE)


def _write_tree(tree: Path, parts: Sequence[str], extra: str) -> None:
    for package in sorted((REPO_ROOT / "src").iterdir()):
        if package.is_dir() and package.name != STAFF_PACKAGE \
                and not package.name.endswith(".egg-info") and package.name != "__pycache__":
            shutil.copytree(package, tree / "src" / package.name, ignore=IGNORE)
    for name in FILES:
        shutil.copyfile(REPO_ROOT / name, tree / name)
    (tree / "setup.cfg").write_text(student_setup_cfg((tree / "setup.cfg").read_text()))
    write_record(tree / "setup.cfg", parts)
    for name in STUDENT_TESTS:
        (tree / "tests" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(REPO_ROOT / "tests" / name, tree / "tests" / name)

    skeleton = cut((REPO_ROOT / "src/raft/raft.py").read_text(), parts=parts)
    (tree / "src/raft/raft.py").write_text(skeleton)
    tests = cut_tests((REPO_ROOT / "src/raft/test_raft.py").read_text(), parts)
    (tree / "src/raft/test_raft.py").write_text(tests)
    readme = handout.render(parts, handout.features_of(tree), titles_of(tests), skeleton, extra)
    (tree / "README.md").write_text(readme)


def export(outdir: Path, parts: Sequence[str] = PARTS, handout_extra: str = "") -> None:
    """Write the student's tree for parts to outdir (new, or empty)."""
    parts = parse_parts(parts)
    needed = [REPO_ROOT / "README.md", REPO_ROOT / "src/raft/raft.py", REPO_ROOT / "tests"]
    if not all(path.exists() for path in needed):
        raise FileNotFoundError(f"raft-starter works from a source checkout of the lab (it "
                                f"needs README.md, src/ and tests/); none found at {REPO_ROOT}")
    if outdir.exists() and (not outdir.is_dir() or any(outdir.iterdir())):
        raise FileExistsError(f"{outdir} exists and is not an empty folder")
    outdir.parent.mkdir(parents=True, exist_ok=True)
    # Built beside outdir and moved into place whole, so a failed export
    # leaves nothing a course could hand out by mistake.
    building = Path(tempfile.mkdtemp(prefix=f".{outdir.name}-", dir=outdir.parent))
    umask = os.umask(0)
    os.umask(umask)
    building.chmod(0o777 & ~umask)  # mkdtemp's folder is private; the tree is not
    try:
        _write_tree(building, parts, handout_extra)
        leaks = find_leaks(building, (REPO_ROOT / "src/raft/raft.py").read_text(),
                           staff_pages(REPO_ROOT))
        if leaks:
            shown = "\n".join(f"  {leak}" for leak in leaks[:LEAKS_SHOWN])
            more = (f"\n  ... and {len(leaks) - LEAKS_SHOWN} more"
                    if len(leaks) > LEAKS_SHOWN else "")
            raise LeakError(f"the tree would hold the solution's secrets; nothing written:\n"
                            f"{shown}{more}")
        if outdir.exists():
            outdir.rmdir()
        building.rename(outdir)
    finally:
        shutil.rmtree(building, ignore_errors=True)


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="raft-starter",
        description="Write the tree a student receives: the lab, raft.py cut to its "
        "skeleton, the tests and handout of the chosen parts.",
    )
    parser.add_argument("outdir", type=Path, help="where to write it (new or empty)")
    add_parts_option(parser, "the parts assigned: 2A, 2A,2B, ... (repeatable; each part "
                     "needs the ones before it; default: all of 2A-2D)")
    parser.add_argument("--handout-extra", type=Path, metavar="FILE",
                        help="the course's own text (team rules, how to hand in), "
                        "appended to the handout")
    args = parser.parse_args(argv)
    extra = ""
    if args.handout_extra is not None:
        try:
            extra = args.handout_extra.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as err:
            parser.error(f"--handout-extra: cannot read {args.handout_extra}: {err}")
    try:
        parts = parse_parts(args.parts or PARTS)
        export(args.outdir, parts, extra)
    except PartsError as err:
        parser.error(f"--parts: {err}")
    except (OSError, MarkError, LeakError, handout.HandoutError) as err:
        parser.error(str(err))
    print(f"starter for part{'s' if len(parts) > 1 else ''} {', '.join(parts)} written to "
          f"{args.outdir}; raft.py holds the skeleton, README.md the handout.\n"
          f"Grade its submissions with: raft-grade SUBMISSION --parts-from {args.outdir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
