"""The replay file of a shrunk run: what reruns it exactly.

    write(path, replay)           a Replay as JSON (one departure a line)
    replay = read(path)           read and check one; ReplayFileError names the
                                  file and what is wrong with it
    write_json(path, head, departures), kept(departures)
                                  the same layout and departures for another
                                  tool's replay file (raft-chaos --shrink)

    pytest --sim --sim-replay FILE [-k TEST]      rerun it (labsim.shrink)

A Replay holds the seed and the simulation's settings, the test it is for,
the failure it shows (labsim.shrink.failure_of), and its departures: the
choices that differ from the calm run (labsim.choices), each with its key,
its value and, for a reader, when it came and what it was. Every other
choice of the rerun is the calm one.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any, Dict, List, Union

from labsim.choices import Key, key_from_json, value_from_json

FORMAT = "labsim-replay/1"


class ReplayFileError(ValueError):
    """A replay file that cannot be used; the message names the file and why."""


@dataclass
class Replay:
    test: str                       # the pytest node id
    name: str                       # the test's name (what -k selects)
    seed: int
    strategy: str
    perturb_ms: float
    step_cost_us: float
    busy_steps: int
    race: bool
    failure: str
    departures: List[Dict[str, Any]] = field(default_factory=list)
    original_departures: int = 0    # the seed's own run, for the account
    choices: int = 0

    def keep(self) -> Dict[Key, Any]:
        """{key: value} of the departures, for labsim.choices.ChoiceStream(keep=...)."""
        return kept(self.departures)


def kept(departures: List[Dict[str, Any]]) -> Dict[Key, Any]:
    """{key: value} of departures as a replay file holds them (Departure.to_json),
    checked (ValueError); for ChoiceStream(keep=...)."""
    keys = [key_from_json(d["key"]) for d in departures]
    return {key: value_from_json(key, d["value"]) for key, d in zip(keys, departures)}


_FIELDS = {"test": str, "name": str, "seed": int, "strategy": str, "perturb_ms": (int, float),
           "step_cost_us": (int, float), "busy_steps": int, "race": bool, "failure": str,
           "departures": list, "original_departures": int, "choices": int}


def write(path: Union[str, os.PathLike], replay: Replay) -> None:
    write_json(path, {"format": FORMAT, **{name: getattr(replay, name) for name in _FIELDS
                                           if name != "departures"}}, replay.departures)


def write_json(path: Union[str, os.PathLike], head: Dict[str, Any],
               departures: List[Dict[str, Any]]) -> None:
    """head's fields, a line each, then the departures, one a line (a reader
    can follow them): a replay file (raft-chaos writes its own with this too)."""
    lines = ["{", *(f"  {json.dumps(name)}: {json.dumps(value)}," for name, value in
                    head.items()), '  "departures": [']
    lines += [f"    {json.dumps(d)}," for d in departures]
    if departures:
        lines[-1] = lines[-1].rstrip(",")
    lines += ["  ]", "}"]
    with open(path, "w") as out:
        out.write("\n".join(lines) + "\n")


def read(path: Union[str, os.PathLike]) -> Replay:
    """The Replay in path; ReplayFileError if it cannot be one."""
    try:
        with open(path) as source:
            text = source.read()
    except OSError as err:
        raise ReplayFileError(f"replay file {path}: cannot be read ({err.strerror})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise ReplayFileError(f"replay file {path}: not JSON (line {err.lineno}, column "
                              f"{err.colno}: {err.msg}); is it cut short or edited?") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ReplayFileError(f"replay file {path}: not a labsim replay file (format "
                              f"{found!r}, expected {FORMAT!r}); --sim-shrink writes them")
    for name, kind in _FIELDS.items():
        if name not in data:
            raise ReplayFileError(f"replay file {path}: no {name!r} field")
        value = data[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ReplayFileError(f"replay file {path}: {name!r} is {value!r}, which is not "
                                  f"a {getattr(kind, '__name__', 'number')}")
    replay = Replay(**{name: data[name] for name in _FIELDS})
    for number, departure in enumerate(replay.departures, 1):
        if not isinstance(departure, dict) or "key" not in departure or "value" not in departure:
            raise ReplayFileError(f"replay file {path}: departure {number} is not an object "
                                  "with a key and a value")
        try:
            value_from_json(key_from_json(departure["key"]), departure["value"])
        except ValueError as err:
            raise ReplayFileError(f"replay file {path}: departure {number}: {err}") from None
    if len(replay.keep()) != len(replay.departures):
        raise ReplayFileError(f"replay file {path}: a departure's key comes twice")
    return replay
