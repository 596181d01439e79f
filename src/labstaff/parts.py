"""The lab's parts: their names, the choice a course makes, and its record.

    PARTS                           ("2A", "2B", "2C", "2D"), in the order they build
    TITLES["2A"]                    "leader election"
    parse_parts(["2A,2B"])          -> ["2A", "2B"]; PartsError if the choice is unsound
    write_record(setup_cfg, parts)  add `[raftlab] parts = 2A 2B` to a tree's setup.cfg
    read_record(tree)               -> the parts recorded in TREE/setup.cfg

Each part builds on the ones before it (2B's tests need an elected leader,
2C's need agreement, ...), so a course chooses a first stretch of them:
2A, or 2A-2B, or 2A-2C, or all four. Choosing 2B without 2A would hand the
student a tree whose 2B tests cannot pass and whose skeleton says nothing
of elections; that is an error, never a silent fix.

The record lives in the student's setup.cfg, in a section of its own, so
that the grader run against that tree (`raft-grade SUB --parts-from TREE`)
grades those parts by default. It is read from the staff's copy of the
tree, never from a submission: a student could edit their own.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Iterable, List

PARTS = ("2A", "2B", "2C", "2D")
TITLES = {
    "2A": "leader election",
    "2B": "log replication",
    "2C": "persistence",
    "2D": "log compaction",
}
SECTION = "raftlab"
KEY = "parts"


class PartsError(ValueError):
    """A choice of parts the lab cannot honour, or a missing record."""


def parse_parts(values: Iterable[str]) -> List[str]:
    """The parts named by values (each one part or a comma list), in lab order.

    Repeats are fine; an unknown part, an empty choice, or a choice with a
    gap (2B without 2A) is a PartsError that says what to write instead.
    """
    chosen = set()
    for value in values:
        for item in value.replace(" ", ",").split(","):
            item = item.strip().upper()
            if not item:
                continue
            if item not in PARTS:
                raise PartsError(f"unknown part {item!r}: the parts are {', '.join(PARTS)}")
            chosen.add(item)
    if not chosen:
        raise PartsError(f"no part chosen: name one or more of {', '.join(PARTS)}")
    last = max(PARTS.index(part) for part in chosen)
    needed = list(PARTS[:last + 1])
    missing = [part for part in needed if part not in chosen]
    if missing:
        raise PartsError(
            f"part {PARTS[last]} builds on {', '.join(missing)}, which the choice leaves out: "
            f"each part's tests need the parts before it (choose --parts {','.join(needed)})"
        )
    return needed


def write_record(setup_cfg: Path, parts: Iterable[str]) -> None:
    """Append the [raftlab] section naming parts to a tree's setup.cfg."""
    text = setup_cfg.read_text()
    if not text.endswith("\n"):
        text += "\n"
    text += (
        f"\n[{SECTION}]\n"
        "# The parts of the lab this tree assigns (written by raft-starter).\n"
        "# The course's grader reads them: raft-grade SUBMISSION --parts-from TREE.\n"
        f"{KEY} = {' '.join(parts)}\n"
    )
    setup_cfg.write_text(text)


def read_record(tree: Path) -> List[str]:
    """The parts recorded in tree's setup.cfg (tree may also name the file)."""
    setup_cfg = tree if tree.is_file() else tree / "setup.cfg"
    if not setup_cfg.is_file():
        raise PartsError(f"{setup_cfg} not found: --parts-from needs a tree written by "
                         f"raft-starter (or its setup.cfg)")
    config = configparser.ConfigParser(interpolation=None)
    try:
        config.read(setup_cfg)
    except configparser.Error as err:
        raise PartsError(f"{setup_cfg} cannot be read: {err}") from err
    if not config.has_option(SECTION, KEY):
        raise PartsError(f"{setup_cfg} has no [{SECTION}] {KEY} = ...: "
                         f"not a tree written by raft-starter")
    try:
        return parse_parts([config.get(SECTION, KEY)])
    except PartsError as err:
        raise PartsError(f"{setup_cfg}: [{SECTION}] {KEY}: {err}") from err
