"""The lab's options that take a path, written as two words, fail loudly.

    pytest -k TestReElection2A --timeline $HOME/pages     (pages exists)

pytest looks for its settings file (setup.cfg, pytest.ini, ...) and its
root folder from the paths on the command line before it loads the plugins
that know --timeline: it reads $HOME/pages as a path to test, looks from
there, misses the lab's setup.cfg, and collects no lab test. A value that
does not exist yet, or that lies inside the lab's tree, misleads nothing.
`--timeline=$HOME/pages` (one word) is always read right.

check(config) finds the settings file pytest would have used had it known
the option (the first one up from the paths to test, or the folder pytest
was started in) and, when it is not the one pytest chose, stops the run
with a message naming the one-word spelling. Plugins above this package
name their own options with takes_path("--option").
"""

from __future__ import annotations

import configparser
import os
import re
import shlex
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import pytest

# The lab's options whose value is a path (the record's and the simulation's
# here; the timeline adds --timeline).
_PATH_OPTIONS = {"--record-failed", "--sim-results", "--sim-replay", "--shrink-dir"}

# pytest's settings files, in the order it looks for them in each folder,
# and what makes each one pytest's (a file without it is passed over).
_SETTINGS = (("pytest.toml", None), (".pytest.toml", None), ("pytest.ini", None),
             (".pytest.ini", None), ("pyproject.toml", "toml"), ("tox.ini", "pytest"),
             ("setup.cfg", "tool:pytest"))


def takes_path(option: str) -> None:
    """Name an option (--timeline) whose value is a path."""
    _PATH_OPTIONS.add(option)


def two_word_paths(args: Sequence[str], cwd: Path) -> List[Tuple[str, str]]:
    """(option, value) for each lab path option written as two words whose
    value is an existing path (the ones pytest read as paths to test)."""
    found = []
    for i, arg in enumerate(args[:-1]):
        if arg == "--":
            break
        if arg in _PATH_OPTIONS and (cwd / args[i + 1]).exists():
            found.append((arg, args[i + 1]))
    return found


def _is_settings(path: Path, section: Optional[str]) -> bool:
    if not path.is_file():
        return False
    if section is None:
        return True
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return False
    if section == "toml":
        return re.search(r"^\s*\[tool\.pytest(\.ini_options)?\]", text, re.MULTILINE) is not None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return False
    return parser.has_section(section)


def settings_from(start: Path) -> Optional[Path]:
    """The settings file pytest finds looking up from start, or None (the
    first pyproject.toml on the way when no folder has pytest's settings)."""
    any_pyproject = None
    for folder in (start, *start.parents):
        for name, section in _SETTINGS:
            if _is_settings(folder / name, section):
                return folder / name
        if any_pyproject is None and (folder / "pyproject.toml").is_file():
            any_pyproject = folder / "pyproject.toml"
    return any_pyproject


def _common_folder(paths: List[Path]) -> Path:
    folders = [path if path.is_dir() else path.parent for path in paths]
    return Path(os.path.commonpath([str(folder) for folder in folders]))


def check(config: pytest.Config) -> None:
    """Stop the run if a two-word path option misled pytest (module docstring)."""
    if config.getoption("inifilename", None) or config.getoption("rootdir", None):
        return  # pytest was told where its settings are: the paths led nothing
    cwd = Path(config.invocation_params.dir)
    args = [*shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
            *config.invocation_params.args]
    misread = two_word_paths(args, cwd)
    if not misread:
        return
    tested = [(cwd / str(arg).split("::")[0]).resolve()
              for arg in config.getoption("file_or_dir", None) or []]
    tested = [path for path in tested if path.exists()]
    wanted = settings_from(_common_folder(tested) if tested else cwd.resolve())
    chosen = Path(config.inipath).resolve() if config.inipath else None
    if wanted == chosen:
        return
    option, value = misread[0]
    found = f"used {chosen}" if chosen else "found no settings file"
    instead = f" instead of {wanted}" if wanted else ""
    raise pytest.UsageError(
        f"{option} {value}: pytest took {value} for a path to test (it reads the command "
        f"line before the lab's options are loaded), {found}{instead}, and would not "
        f"collect the lab's tests.\nWrite the option as one word: {option}={value}")


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    check(config)
