"""The lab's switches: the environment variables that set its options, all
read the same way, and the same settings given as values by an option.

    switch("RAFT_MONITORS")    True, False, or None when unset or empty
    enabled("RAFT_RACE")       the switch, off when unset
    value_of("RAFT_TIMELINE")  the setting's text, or None
    give("RAFT_RACE", "1")     an option's value (pytest --race): it wins over
                               the environment, in this process only
    give_default("RAFT_RECORD", "1")
                               a value an option implies, unless the
                               environment or another option set one

Off is "0", "false", "no" or "off" (any case, spaces ignored); any other
value is on. A value given by an option stays in this process: the
environment is the user's, and the processes a test starts inherit only
what the user set there.
"""

from __future__ import annotations

import os
from typing import Dict, Optional

OFF = ("0", "false", "no", "off")

_given: Dict[str, str] = {}


def give(name: str, value: str) -> None:
    """Set name to value in this process, over the environment's."""
    _given[name] = value


def give_default(name: str, value: str) -> None:
    """Set name to value unless the environment or an option already sets it."""
    if value_of(name) is None:
        _given[name] = value


def value_of(name: str) -> Optional[str]:
    """The setting: an option's value, else the environment's; None when neither
    sets it (or the variable is empty)."""
    if name in _given:
        return _given[name]
    return os.environ.get(name) or None


def switch(name: str) -> Optional[bool]:
    """The setting as a switch: on, off, or None when it is not set."""
    text = (value_of(name) or "").strip().lower()
    if not text:
        return None
    return text not in OFF


def enabled(name: str) -> bool:
    """Whether the setting turns its feature on (not set is off)."""
    return switch(name) is True
