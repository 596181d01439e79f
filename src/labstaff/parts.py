"""The parts a student's tree assigns, recorded in its setup.cfg for the grader.

    write_record(setup_cfg, parts)  add `[raftlab] parts = 2A 2B` to a tree's setup.cfg
    read_record(tree)               -> the parts recorded in TREE/setup.cfg

The parts themselves (PARTS, TITLES, parse_parts) are labtools.parts: the
students' tools choose them too.

The record lives in the student's setup.cfg, in a section of its own, so
that the grader run against that tree (`raft-grade SUB --parts-from TREE`)
grades those parts by default. It is read from the staff's copy of the
tree, never from a submission: a student could edit their own.
"""

from __future__ import annotations

import configparser
from pathlib import Path
from typing import Iterable, List

from labtools.parts import PartsError, parse_parts

SECTION = "raftlab"
KEY = "parts"


def write_record(setup_cfg: Path, parts: Iterable[str]) -> None:
    """Append the [raftlab] section naming parts to a tree's setup.cfg."""
    text = setup_cfg.read_text()
    if not text.endswith("\n"):
        text += "\n"
    text += (
        f"\n[{SECTION}]\n"
        "# The parts of the lab this tree assigns; the course's grader reads them\n"
        "# from the course's own copy of the tree.\n"
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
