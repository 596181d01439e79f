"""Read DPrintf output as a table: one column per peer, coloured by topic.

    raft-logview stress-logs/run-0007.log
    RAFT_DEBUG=1 pytest -k TestReElection2A 2>&1 | raft-logview
    raft-logview LOG --topics vote,leader --from 1.5 --to 4
    raft-logview LOG --ignore timer,commit --no-color
    raft-logview stress-logs/run-0007-records/TestFigure82C.jsonl [--rpcs]

It picks out the DPrintf lines (time in ms, TOPIC, S<peer>, then the rest)
from whatever surrounds them: a stress log, pytest's output, raft-demo
--debug. Times are shown in seconds since the log's first DPrintf line. A pytest
failure header (___ TestName ___) starts a new block. Colour is used only on
a terminal, and never with --no-color or NO_COLOR set.

It also reads a saved record of a run (monitors.recording; JSON lines): its
DPrintf lines, the harness's actions (topic HARNESS) and any broken rule
(topic VIOLATION), and with --rpcs every RPC (topic RPC, in the sender's
column), at their times in the run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import sys
import textwrap
from dataclasses import dataclass
from typing import Iterable, Iterator, List, Optional, Sequence, TextIO, Union

LINE = re.compile(r"(?P<ms>\d{6,}) (?P<topic>[A-Z]+)\s+S(?P<peer>\d+) (?P<rest>.*)$")
TEST_HEADER = re.compile(r"^_{3,} (?P<name>\S+) _{3,}$")

TOPIC_COLOURS = {
    "TIMER": "33",  # yellow
    "VOTE": "36",  # cyan
    "LEADER": "1;32",  # bold green
    "TERM": "35",  # magenta
    "LOG": "34",  # blue
    "COMMIT": "32",  # green
    "PERSIST": "37",  # white
    "SNAP": "1;35",  # bold magenta
}
OTHER_COLOURS = ("31", "1;33", "1;36", "1;34")
TIME_WIDTH = 8


@dataclass
class Entry:
    ms: int
    topic: str
    peer: int
    text: str


@dataclass
class Header:
    name: str


def parse(lines: Iterable[str]) -> Iterator[Union[Entry, Header]]:
    """The DPrintf entries and test headers in lines, in order."""
    for line in lines:
        line = line.rstrip("\n")
        header = TEST_HEADER.match(line.strip())
        if header:
            yield Header(header.group("name"))
            continue
        found = LINE.search(line)
        if found:
            yield Entry(int(found.group("ms")), found.group("topic"),
                        int(found.group("peer")), found.group("rest"))


RECORD_LINE = re.compile(r"(?P<topic>[A-Z]+)\s+S(?P<peer>\d+) (?P<rest>.*)$")
HARNESS_SHOWN = ("connect", "disconnect", "crash", "start", "Start", "check", "begin",
                 "end", "unreliable", "longreordering")


def is_record(path: str) -> bool:
    """Whether path holds a saved record (its first line, a JSON meta event)."""
    try:
        with open(path, errors="replace") as handle:
            first = json.loads(handle.readline())
    except (OSError, ValueError):
        return False
    return isinstance(first, dict) and first.get("kind") == "meta"


def from_record(events: Iterable[dict], rpcs: bool = False) -> Iterator[Union[Entry, Header]]:
    """A record's events as entries (times in ms since the record began)."""
    for event in events:
        ms = int(event["t"] * 1000)
        kind = event["kind"]
        if kind == "meta":
            yield Header(str(event.get("test") or "run"))
        elif kind == "log":
            found = RECORD_LINE.search(event.get("text", ""))
            peer = event.get("peer")
            if found:
                yield Entry(ms, found.group("topic"), int(found.group("peer")),
                            found.group("rest"))
            else:
                yield Entry(ms, "LOG", peer if peer is not None else 0, event.get("text", ""))
        elif kind == "harness" and event.get("action") in HARNESS_SHOWN:
            fields = {k: v for k, v in event.items()
                      if k not in ("seq", "t", "kind", "action", "peer")}
            text = " ".join(f"{k}={v}" for k, v in fields.items())
            yield Entry(ms, "HARNESS", event.get("peer") or 0,
                        f"{event['action']} {text}".strip())
        elif kind == "violation":
            for peer in (event.get("peers") or [0])[:1]:
                yield Entry(ms, "VIOLATION", peer, f"{event['rule']}: {event['message']}")
        elif kind == "rpc" and rpcs and event.get("src") is not None:
            method = str(event.get("method", "")).rpartition(".")[2]
            args = {k: (f"[{len(v)}]" if isinstance(v, list) else v)
                    for k, v in (event.get("args") or {}).items() if not isinstance(v, dict)}
            yield Entry(int(event["sent"] * 1000), "RPC", event["src"],
                        f"{method} -> S{event.get('dst')} {args} {event['outcome']} "
                        f"{event.get('reply')}")


def _colour(topic: str, text: str, use_colour: bool) -> str:
    if not use_colour:
        return text
    code = TOPIC_COLOURS.get(topic) or OTHER_COLOURS[sum(map(ord, topic)) % len(OTHER_COLOURS)]
    return f"\033[{code}m{text}\033[0m"


def render(items: Sequence[Union[Entry, Header]], first_ms: int, peers: int, width: int,
           use_colour: bool, out: TextIO) -> None:
    """Print items as rows; times are seconds since first_ms."""
    column = max(12, (width - TIME_WIDTH - 1) // max(peers, 1) - 1)

    def row(time_text: str, cells: List[str]) -> str:
        return time_text.rjust(TIME_WIDTH) + " " + " ".join(cells).rstrip()

    heading = row("time", [f"S{p}".ljust(column) for p in range(peers)])
    if not items or not isinstance(items[0], Header):
        print(heading, file=out)
    for item in items:
        if isinstance(item, Header):
            print(f"== {item.name} ==", file=out)
            print(heading, file=out)
            continue
        lines = textwrap.wrap(f"{item.topic} {item.text}", column) or [""]
        for n, piece in enumerate(lines):
            cells = [" " * column] * peers
            cells[item.peer] = _colour(item.topic, piece.ljust(column), use_colour)
            time_text = f"{(item.ms - first_ms) / 1000:.3f}" if n == 0 else ""
            print(row(time_text, cells), file=out)


def _parse_args(argv: Optional[Sequence[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="raft-logview",
        description="Show DPrintf lines with one column per peer, coloured by topic.",
    )
    parser.add_argument("logfile", nargs="?", default="-",
                        help="a log file (a stress run's, pytest's output, ...); - or none "
                        "for standard input")
    parser.add_argument("--topics", help="show only these topics (comma-separated)")
    parser.add_argument("--ignore", help="hide these topics (comma-separated)")
    parser.add_argument("--from", dest="start", type=float, default=None,
                        help="hide lines before this many seconds into the log")
    parser.add_argument("--to", dest="stop", type=float, default=None,
                        help="hide lines after this many seconds into the log")
    parser.add_argument("--peers", type=int,
                        help="at least this many columns (default: as many as peers seen)")
    parser.add_argument("--width", type=int, help="line width (default: the terminal's)")
    parser.add_argument("--no-color", action="store_true", help="never colour the output")
    parser.add_argument("--rpcs", action="store_true",
                        help="with a saved record: show every RPC too")
    args = parser.parse_args(argv)
    if args.logfile != "-" and not os.path.isfile(args.logfile):
        parser.error(f"no such log file: {args.logfile}")
    if args.peers is not None and args.peers < 1:
        parser.error(f"--peers must be at least 1, got {args.peers}")
    return args


def _topic_set(text: Optional[str]) -> Optional[set]:
    return None if text is None else {t.strip().upper() for t in text.split(",") if t.strip()}


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = _parse_args(argv)
    from_zero = False
    if args.logfile == "-":
        items = list(parse(sys.stdin))
    elif is_record(args.logfile):
        from_zero = True  # the record's own times
        from labrpc.record import Record
        events = sorted(Record.load(args.logfile).events, key=lambda e: e.get("t", 0))
        items = [item for item in from_record(events, args.rpcs)]
        items = items[:1] + sorted((i for i in items[1:] if isinstance(i, Entry)),
                                   key=lambda e: e.ms)
    else:
        with open(args.logfile, errors="replace") as handle:
            items = list(parse(handle))
    entries = [item for item in items if isinstance(item, Entry)]
    if not entries:
        print("logview: no DPrintf lines found (was RAFT_DEBUG=1 set when the log was made?)",
              file=sys.stderr)
        return 1

    wanted, unwanted = _topic_set(args.topics), _topic_set(args.ignore)
    first = 0 if from_zero else entries[0].ms
    shown: List[Union[Entry, Header]] = []
    for item in items:
        if isinstance(item, Entry):
            seconds = (item.ms - first) / 1000
            if (wanted is not None and item.topic not in wanted) or (
                unwanted is not None and item.topic in unwanted
            ):
                continue
            if (args.start is not None and seconds < args.start) or (
                args.stop is not None and seconds > args.stop
            ):
                continue
        shown.append(item)

    peers = max(args.peers or 0, 1 + max(entry.peer for entry in entries))
    width = args.width or shutil.get_terminal_size((160, 24)).columns
    use_colour = sys.stdout.isatty() and not args.no_color and "NO_COLOR" not in os.environ
    try:
        render(shown, first, peers, width, use_colour, sys.stdout)
    except BrokenPipeError:  # piped into head, say
        sys.stderr.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
