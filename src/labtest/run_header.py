"""One line at the top of a run naming the lab's options that are on.

    raft lab: simulation (each test's own seed, strategy random); race checker on;
              monitors off; timeline pages go to /home/me/pages

Nothing when none is on (or under -q, which hides pytest's header). The
simulation, the race checker and the monitors are below this package and
are asked directly; a plugin above it (the timeline) adds its own words
with add(config, text) in its pytest_configure.
"""

from __future__ import annotations

from typing import List

import pytest

import racecheck
from labsim import pytest_plugin as labsim_plugin
from monitors import recording

_ADDED = pytest.StashKey[List[str]]()


def add(config: pytest.Config, text: str) -> None:
    """Name an option that is on in the run's header line."""
    config.stash.setdefault(_ADDED, []).append(text)


def line(config: pytest.Config) -> str:
    """The header line, or "" when none of the lab's options is on."""
    parts: List[str] = []
    simulation = labsim_plugin.describe(config)
    if simulation:
        parts.append(simulation)
    if racecheck.enabled():
        parts.append("race checker on")
    if not recording.monitors_enabled():
        parts.append("monitors off")
    parts += config.stash.get(_ADDED, [])
    return f"raft lab: {'; '.join(parts)}" if parts else ""


def pytest_report_header(config: pytest.Config) -> List[str]:
    text = line(config)
    return [text] if text else []
