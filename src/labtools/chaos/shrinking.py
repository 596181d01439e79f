"""raft-chaos --shrink and --replay: a failing seed cut to the few choices that matter.

    shrunk = shrink(seed, part, peers, seconds, progress)    a Shrunk, or why not (str)
    write(path, replay) / replay = read(path)       the replay file (ReplayFileError)
    result, made = rerun(replay, record_dir, record_name)   the shrunk run again
    shrinking.main(["shrink", PART, SEED, "--peers", N, "--time", S, "--dir", DIR])
    shrinking.main(["replay", FILE, "--record-failed", DIR])
        the command's subprocesses (labtools.chaos.explorer.command_of): the
        account on stdout, exit 1 for a failing run, 0 for a passing one

A seed's run is thousands of choices: the nemesis's faults, and under them
the simulator's (which thread runs, how late a timer comes) and labrpc's
(a lost, held or late message). With every choice watched
(labsim.choices.ChoiceStream), the seed runs once as drawn; if it fails,
delta debugging (labsim.ddmin) searches for the fewest of its departures
(the faults it made, the non-calm choices) that, with every other choice
calm, still break the same rule; each try is one run of the seed, for at
most the time given. The smallest such run is made once more: its replay
file and its record (for raft-timeline and raft-logview) are written to
the folder, and an account names its departures. A fault the shrinker
leaves out is still drawn (labtools.chaos.nemesis), so the faults kept
are the seed's own.

The seed's own run stays the fallback: its replay command is printed
whatever the shrink found, and a failure that does not come from the seed
(the simulator's real-time watchdog) is not shrunk.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, IO, List, Optional, Tuple, Union

from labsim import replayfile
from labsim.choices import ACTION, ChoiceStream, Departure, Key
from labsim.ddmin import fewest_departures
from labtools.chaos.judgement import ESCAPE_RULE, WORKER_DIED_RULE
from labtools.chaos.parts import FEATURES
from labtools.chaos.scenario import SeedResult, replay_command, run_seed

FORMAT = "raft-chaos-replay/1"
PARTS = tuple(FEATURES)
# The largest cluster raft-chaos runs (its --peers).
MAX_PEERS = 9
DEFAULT_TIME_S = 60.0
DEFAULT_DIR = "shrunk"
# A progress line while shrinking, at most this often (real seconds).
PROGRESS_EVERY_S = 5.0
# Departures the account spells out; the replay file has them all.
ACCOUNT_LIMIT = 15


class ReplayFileError(ValueError):
    """A replay file that cannot be used; the message names the file and why."""


@dataclass
class Replay:
    part: str
    seed: int
    peers: int
    race: bool
    rule: str
    departures: List[Dict[str, Any]] = field(default_factory=list)
    original_departures: int = 0
    choices: int = 0

    def keep(self) -> Dict[Key, Any]:
        return replayfile.kept(self.departures)


@dataclass
class Shrunk:
    replay: Replay
    result: SeedResult          # the shrunk run's
    departures: List[Departure]
    tries: int
    seconds: float
    timed_out: bool


def can_shrink(rule: str) -> bool:
    """Whether a seed that broke rule can be shrunk: the seed decides the failure
    (not real time, not a worker process's death)."""
    return rule not in (ESCAPE_RULE, WORKER_DIED_RULE)


def shrink(seed: int, part: str, peers: Optional[int], seconds: float,
           progress: Callable[[int, int], None] = lambda tries, left: None,
           record_dir: Optional[Path] = None, record_name: str = ""
           ) -> Union[Shrunk, str]:
    """The smallest run of seed found in a search of seconds that breaks the
    rule the seed breaks (made once more at the end, its record saved in
    record_dir/record_name); or, if there is nothing to shrink, why (a line)."""
    drawn = ChoiceStream()
    first = run_seed(seed, part, peers, choices=drawn)
    if first.ok:
        return f"seed {seed} of {part} passes: nothing to shrink"
    if not can_shrink(first.rule):
        return (f"seed {seed} of {part} failed through the simulator's real-time watchdog, "
                "which the seed does not decide: nothing to shrink")

    def fails_the_same(stream: ChoiceStream) -> bool:
        tried = run_seed(seed, part, first.peers, choices=stream)
        return not tried.ok and tried.rule == first.rule

    tries, left = [0], [len(drawn.departures)]

    def tried(departures: Optional[int]) -> None:
        tries[0] += 1
        if departures is not None:
            left[0] = min(left[0], departures)
        progress(tries[0], left[0])

    began = time.monotonic()
    keep, minimizer = fewest_departures(drawn, fails_the_same, began + seconds, tried)
    took = time.monotonic() - began
    final = ChoiceStream(keep=keep)
    again = run_seed(seed, part, first.peers, record_dir, choices=final,
                     record_name=record_name)
    if again.ok or again.rule != first.rule:
        # A run is a function of its choices: only what real time decides
        # (the watchdog) can make the same choices fail otherwise.
        return (f"seed {seed} of {part}: the shrunk run failed otherwise when made again "
                f"({again.rule or 'it passed'}, not {first.rule}): is the machine so loaded "
                "that the simulator's watchdog fired?")
    replay = Replay(part, seed, first.peers, first.race, first.rule,
                    [d.to_json() for d in final.departures], len(drawn.departures),
                    drawn.choices)
    return Shrunk(replay, again, final.departures, minimizer.tries, took, minimizer.timed_out)


def rerun(replay: Replay, record_dir: Optional[Path] = None,
          record_name: str = "") -> Tuple[SeedResult, List[Departure]]:
    """The replay's run again: its seed, its departures, every other choice calm."""
    stream = ChoiceStream(keep=replay.keep())
    result = run_seed(replay.seed, replay.part, replay.peers, record_dir,
                      choices=stream, record_name=record_name)
    return result, stream.departures


# --- the replay file ----------------------------------------------------------------------

_FIELDS = {"part": str, "seed": int, "peers": int, "race": bool, "rule": str,
           "departures": list, "original_departures": int, "choices": int}


def write(path: Path, replay: Replay) -> None:
    replayfile.write_json(path, {"format": FORMAT, **{
        name: getattr(replay, name) for name in _FIELDS if name != "departures"}},
        replay.departures)


def read(path: Path) -> Replay:
    try:
        data = json.loads(path.read_text())
    except OSError as err:
        raise ReplayFileError(f"replay file {path}: cannot read it: {err.strerror}") from None
    except ValueError as err:
        raise ReplayFileError(f"replay file {path}: not JSON ({err})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ReplayFileError(f"replay file {path}: not a raft-chaos replay file (its format "
                              f"should be {FORMAT!r}; a pytest --sim-shrink file is replayed "
                              "with pytest --sim --sim-replay)")
    for name, kind in _FIELDS.items():
        value = data.get(name)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ReplayFileError(f"replay file {path}: field {name!r} should be a "
                                  f"{kind.__name__}, not {value!r}")
    replay = Replay(**{name: data[name] for name in _FIELDS})
    if replay.part not in PARTS:
        raise ReplayFileError(f"replay file {path}: part {replay.part!r} is none of "
                              f"{', '.join(PARTS)}")
    if not 1 <= replay.peers <= MAX_PEERS or replay.seed < 0:
        raise ReplayFileError(f"replay file {path}: a seed is a number from 0 up and a "
                              f"cluster has 1 to {MAX_PEERS} peers; the file has seed "
                              f"{replay.seed}, {replay.peers} peers")
    try:
        replay.keep()
    except (KeyError, TypeError, ValueError) as err:
        raise ReplayFileError(f"replay file {path}: a departure is not well made: "
                              f"{err}") from None
    return replay


# --- what is printed ----------------------------------------------------------------------

def account(shrunk: Shrunk, replay_path: Path, record_path: Optional[str]) -> List[str]:
    replay = shrunk.replay
    count = len(shrunk.departures)
    faults = sum(1 for d in shrunk.departures if d.kind == ACTION)
    lines = [f"raft-chaos: shrunk seed {replay.seed} of {replay.part}: it fails with "
             f"{_count(count, 'departure')} (of {replay.original_departures:,} in the seed's "
             f"run): {_count(faults, 'fault')} of the nemesis, {count - faults} of the "
             f"simulator and the network",
             f"broken rule: {replay.rule}"]
    for departure in sorted(shrunk.departures, key=lambda d: d.at)[:ACCOUNT_LIMIT]:
        who = "the nemesis: " if departure.kind == ACTION else ""
        lines.append(f"  {departure.at:8.3f} s  {who}{departure.what}")
    if count > ACCOUNT_LIMIT:
        lines.append(f"  ... and {count - ACCOUNT_LIMIT} more (in the replay file)")
    message = shrunk.result.message.strip().splitlines()
    if message:
        lines.append(f"the failure: {message[0]}")
    search = f"{shrunk.tries} tries in {shrunk.seconds:.1f} s"
    if shrunk.timed_out:
        search += " (the time ran out: a longer --shrink-time may shrink it further)"
    lines += [f"search: {search}", f"replay: raft-chaos --replay {replay_path}"]
    if record_path:
        lines.append(f"record: {record_path} (raft-timeline {record_path} -o page.html; "
                     f"raft-logview {record_path} --rpcs)")
    lines.append(f"the seed: {replay_command(replay.seed, replay.part, replay.peers, replay.race)}")
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


# --- the subprocess -------------------------------------------------------------------------

def main(argv: Optional[List[str]] = None) -> int:
    """The command's subprocess: its output is the account (raft.py's goes to stderr)."""
    parser = argparse.ArgumentParser(prog="raft-chaos shrinker")
    sub = parser.add_subparsers(dest="mode", required=True)
    to_shrink = sub.add_parser("shrink")
    to_shrink.add_argument("part")
    to_shrink.add_argument("seed", type=int)
    to_shrink.add_argument("--peers", type=int, required=True)
    to_shrink.add_argument("--time", type=float, default=DEFAULT_TIME_S)
    to_shrink.add_argument("--dir", type=Path, default=Path(DEFAULT_DIR))
    to_replay = sub.add_parser("replay")
    to_replay.add_argument("file", type=Path)
    to_replay.add_argument("--record-failed", type=Path, default=None)
    args = parser.parse_args(argv)
    out = _own_stdout()
    try:
        if args.mode == "shrink":
            return _shrink_main(args, out)
        return _replay_main(args, out)
    except KeyboardInterrupt:
        _say(out, [f"raft-chaos: {args.mode} interrupted"])
        return 130


def _own_stdout() -> IO[str]:
    """This process's output, kept apart from what raft.py prints (sent to stderr)."""
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def _say(out: IO[str], lines: List[str]) -> None:
    out.write("".join(line + "\n" for line in lines))
    out.flush()


def _shrink_main(args: argparse.Namespace, out: IO[str]) -> int:
    began = time.monotonic()
    last = [began]

    def progress(tries: int, left: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            last[0] = now
            _say(out, [f"  shrinking: {tries} tries, {_count(left, 'departure')} left, "
                       f"{now - began:.0f} s"])

    stem = f"chaos-{args.part}-seed-{args.seed}"
    path = args.dir / f"{stem}.json"
    try:  # (before the search: a folder that cannot be written is said at once)
        args.dir.mkdir(parents=True, exist_ok=True)
        path.touch()
    except OSError as err:
        _say(out, [f"raft-chaos: --shrink-dir {args.dir}: cannot write {path} there: "
                   f"{err.strerror}"])
        return 2
    _say(out, [f"raft-chaos: shrinking seed {args.seed} of {args.part} (a search of at most "
               f"{args.time:g} s; the seed's run is the fallback)"])
    found = shrink(args.seed, args.part, args.peers, args.time, progress,
                   args.dir, f"{stem}-shrunk.jsonl")
    if isinstance(found, str):
        path.unlink()
        _say(out, [f"raft-chaos: {found}"])
        return 1
    write(path, found.replay)
    _say(out, account(found, path, found.result.record_path))
    return 0


def _replay_main(args: argparse.Namespace, out: IO[str]) -> int:
    try:
        replay = read(args.file)
    except ReplayFileError as err:
        _say(out, [f"raft-chaos: {err}"])
        return 2
    stem = args.file.name[:-len(".json")] if args.file.name.endswith(".json") else args.file.name
    result, made = rerun(replay, args.record_failed, f"{stem}-replay.jsonl")
    wanted = [d["key"] for d in replay.departures]
    made_keys = [json.loads(json.dumps(d.to_json()["key"])) for d in made]
    if not result.ok and result.rule == replay.rule and made_keys == wanted:
        lines = [f"raft-chaos: replayed {args.file}: seed {replay.seed} of {replay.part} "
                 f"breaks '{replay.rule}' as recorded, with its "
                 f"{_count(len(made), 'departure')}"]
        lines += [f"  {d.at:8.3f} s  {'the nemesis: ' if d.kind == ACTION else ''}{d.what}"
                  for d in sorted(made, key=lambda d: d.at)[:ACCOUNT_LIMIT]]
        lines += [f"  {line}" for line in result.message.rstrip().splitlines()[:40]]
        if result.record_path:
            lines.append(f"record: {result.record_path} (raft-timeline {result.record_path} "
                         "-o page.html)")
        _say(out, lines)
        return 1
    how = "passed" if result.ok else f"broke '{result.rule}'"
    _say(out, [f"raft-chaos: the replay of {args.file} differs from the shrunk run: it {how} "
               f"(recorded: '{replay.rule}'), making {len(made)} of the file's "
               f"{len(wanted)} departures. Has the code changed since the file was written? "
               "The seed itself: "
               f"{replay_command(replay.seed, replay.part, replay.peers, replay.race)}"])
    return 0 if result.ok else 1
