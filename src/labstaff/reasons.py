"""Why a test failed, in words a student can act on: a cause and its detail.

    from labstaff.reasons import explain
    why = explain(pytest_output)          # Reason(cause, detail)
    why = explain(output, hung=True)      # the process had to be stopped
    why.cause    one line: the exception a thread or handler raised, the
                 tester's own message, or where a hung test was stuck
    why.detail   below it: the traceback in the student's code, the stacks
                 of the threads of a hung test, the tester's last lines

It reads the text pytest printed for one test (run with -q, pytest-timeout
and `-o faulthandler_timeout=...`, as the grader runs it), so it works on
what a grading process leaves even when that process had to be killed.
A failure's cause is looked for in this order, most specific first:

    a thread died of an exception   pytest's unhandled-thread-exception report
    an RPC handler raised           labrpc's "handler ... raised an exception"
    a Raft rule was broken          a monitor's report, or applyCh's deadlock
    the test hung                   faulthandler's stack dump (all threads)
    the tester failed the test      t.Fatalf's message, or pytest's E lines
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Tuple

# At most this much detail per failure: results.json is shown in a browser.
DETAIL_CHARS = 6000
LINE_CHARS = 300
TAIL_LINES = 15

# The lab's files, as they appear in tracebacks and stack dumps.
LAB_FILE = re.compile(r"/src/(raft|labrpc|labgob)/[\w/]+\.py")
FRAME = re.compile(r'^\s*File "(?P<path>[^"]+)", line (?P<line>\d+),? in (?P<func>[\w<>.]+)')
EXCEPTION_LINE = re.compile(r"^(?P<type>[A-Za-z_][\w.]*(Error|Exception|Failure|Warning|Exit|"
                            r"Interrupt|Timeout|Failed))(: (?P<message>.*))?$")
THREAD_WARNING = re.compile(
    r"PytestUnhandledThreadExceptionWarning: Exception in thread (?P<name>.+)")
HANDLER = re.compile(r"labrpc: handler (?P<handler>\S+) raised ")
DUMP_START = re.compile(r"^Timeout \((?P<after>[\d:.]+)\)!$")
DUMP_THREAD = re.compile(r"^(Current thread|Thread) (?P<id>0x[0-9a-f]+)")
# t.Fatalf's TestFailure, pytest.fail's Failed: the message is the cause.
# How the monitors (monitors.dispatch), the harness's applyCh and its lock and
# call watchdogs (labtest.lockwatch, labtest.peercalls) start their reports.
BROKEN_RULE_MARKS = ("Raft rule broken:", "applyCh deadlock:", "lock watchdog:",
                     "call watchdog:")
# How the lab's timeout report (labtest.hang_plugin) starts.
TIMEOUT_MARK = "timeout: the test ran past its"
# The most lines of a broken rule's report kept as its detail.
REPORT_LINES = 40
TESTER_PREFIX = re.compile(r"^((labtest\.testing\.)?TestFailure|Failed): ")


@dataclass
class Reason:
    cause: str
    detail: str = ""

    def text(self) -> str:
        return f"{self.cause}\n\n{self.detail}".rstrip() + "\n"


def clip(text: str, limit: int = DETAIL_CHARS) -> str:
    """text cut to `limit` characters and every line to LINE_CHARS, saying so."""
    lines = [line if len(line) <= LINE_CHARS else line[:LINE_CHARS] + " [...]"
             for line in text.splitlines()]
    text = "\n".join(lines)
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n[... {len(text) - limit} more characters cut]"


def _unprefixed(lines: List[str]) -> List[str]:
    """Lines with pytest's exception-group bars ('    | ') taken off, and each run
    of E lines without its 'E' and the indent its lines share (a traceback
    quoted in a failure's message then reads as one)."""
    out: List[str] = []
    quoted: List[str] = []
    for line in lines + [""]:
        line = re.sub(r"^\s*(\| ?)+", "", line)
        if line == "E" or line.startswith("E "):
            quoted.append(line[1:].rstrip())
            continue
        if quoted:
            out.extend(textwrap.dedent("\n".join(quoted)).split("\n"))
            quoted = []
        out.append(line.rstrip())
    return out[:-1]


def _tracebacks(lines: List[str]) -> List[List[str]]:
    """Each 'Traceback (most recent call last):' block, up to its exception line."""
    blocks: List[List[str]] = []
    i = 0
    while i < len(lines):
        if lines[i].strip().startswith("Traceback (most recent call last):"):
            block = [lines[i].strip()]
            i += 1
            while i < len(lines):
                block.append(lines[i])
                if lines[i] and not lines[i].startswith(" ") and EXCEPTION_LINE.match(lines[i]):
                    break
                i += 1
            blocks.append(block)
        i += 1
    return blocks


def _where(block: List[str]) -> str:
    """'raft.py line 342, in RequestVote': the innermost frame in the lab's files."""
    for line in reversed(block):
        frame = FRAME.match(line)
        if frame and LAB_FILE.search(frame["path"]):
            return f"{Path(frame['path']).name} line {frame['line']}, in {frame['func']}"
    return ""


def _short(block: List[str]) -> str:
    """A traceback with the frames outside the lab (threading, pytest) dropped."""
    out, skip = [block[0]], False
    for line in block[1:]:
        frame = FRAME.match(line)
        if frame:
            skip = not LAB_FILE.search(frame["path"])
            if not skip:
                out.append(f'  File "{_lab_path(frame["path"])}", line {frame["line"]}, '
                           f'in {frame["func"]}')
            continue
        if not skip or not line.startswith(" "):
            out.append(line)
    return "\n".join(out)


def _lab_path(path: str) -> str:
    """A sandbox path shown from src/: '/tmp/raft-grade-x/src/raft/raft.py' -> 'raft/raft.py'."""
    found = LAB_FILE.search(path)
    return found.group(0)[len("/src/"):] if found else path


def _thread_exceptions(lines: List[str]) -> Optional[Reason]:
    plain = _unprefixed(lines)
    names = [m["name"].strip() for m in map(THREAD_WARNING.search, plain) if m]
    if not names:
        return None
    # The exception the thread died of is the first traceback that is not
    # pytest's own warning about it.
    died = [b for b in _tracebacks(plain)
            if not any("PytestUnhandledThreadExceptionWarning" in line for line in b[-1:])]
    if not died:
        return Reason(f"thread {names[0]} died of an exception", "\n".join(plain[-TAIL_LINES:]))
    first = died[0]
    where = _where(first)
    others = sorted(set(names[1:]) - {names[0]})
    more = f" (and in {len(others)} more: {', '.join(others)})" if others else ""
    cause = f"thread {names[0]} raised {first[-1].strip()}" + (f" at {where}" if where else "")
    return Reason(cause + more, _short(first))


def _handler_exception(lines: List[str]) -> Optional[Reason]:
    plain = _unprefixed(lines)
    for i, line in enumerate(plain):
        handler = HANDLER.search(line)
        if not handler:
            continue
        # The handler's own exception, not a caller's LabrpcError that names it.
        blocks = [b for b in _tracebacks(plain[i + 1:])
                  if not re.match(r"(labrpc\.LabrpcError|\S*PytestUnhandled)", b[-1].strip())]
        if not blocks:
            continue
        block = blocks[0]
        where = _where(block)
        cause = f"RPC handler {handler['handler']} raised {block[-1].strip()}"
        return Reason(cause + (f" at {where}" if where else ""), _short(block))
    return None


def _stack_dump(lines: List[str]) -> Optional[Tuple[str, List[Tuple[str, List[str]]]]]:
    """faulthandler's dump: (after how long, [(thread, lab frames innermost first)])."""
    start = next((i for i, line in enumerate(lines) if DUMP_START.match(line.strip())), None)
    if start is None:
        return None
    clock = DUMP_START.match(lines[start].strip())["after"]
    seconds = sum(float(part) * 60 ** i for i, part in enumerate(reversed(clock.split(":"))))
    return f"{seconds:.0f} s", _threads(lines[start + 1:])


def _threads(lines: List[str]) -> List[Tuple[str, List[str]]]:
    """The threads of a faulthandler dump that lines begin: [(thread, lab frames
    innermost first)], up to the first line that is not the dump's."""
    threads: List[Tuple[str, List[str]]] = []
    for line in lines:
        head = DUMP_THREAD.match(line.strip())
        if head:
            threads.append((line.strip().rstrip(":"), []))
            continue
        frame = FRAME.match(line)
        if frame is None:
            if threads and line.strip() and not line.startswith(" "):
                break
            continue
        if threads and LAB_FILE.search(frame["path"]):
            threads[-1][1].append(f"{_lab_path(frame['path'])} line {frame['line']}, "
                                  f"in {frame['func']}{_source(frame['path'], frame['line'])}")
    return threads


def at_exit(stacks: str) -> str:
    """Where a process that would not exit was, from the stacks it wrote when
    asked (faulthandler's dump): each thread's innermost frame in the lab's
    files, or why none is named."""
    lines = stacks.splitlines()
    start = next((i for i, line in enumerate(lines) if DUMP_THREAD.match(line.strip())), None)
    if start is None:
        return "it wrote no stacks when asked"
    threads = _threads(lines[start:])
    shown = list(dict.fromkeys(frames[0] for _, frames in threads if frames))
    if not shown:
        return f"{len(threads)} thread(s), none of them in the lab's files (pytest's own exit)"
    return f"{len(threads)} thread(s); in the lab's files: " + "; ".join(shown[:4]) + \
        (f"; and {len(shown) - 4} more" if len(shown) > 4 else "")


def _source(path: str, line: str) -> str:
    """': the source line', if the file is still there to read."""
    try:
        text = Path(path).read_text(errors="replace").splitlines()[int(line) - 1].strip()
    except (OSError, IndexError, ValueError):
        return ""
    return f": {text}" if text else ""


def _hang(lines: List[str]) -> Optional[Reason]:
    dump = _stack_dump(lines)
    if dump is None:
        return None
    after, threads = dump
    # The test's own thread is the one running test_raft.py.
    test_thread = next((frames for _, frames in threads
                        if any(f.startswith("raft/test_raft.py") for f in frames)), None)
    stuck = test_thread[0] if test_thread else ""
    limit = re.search(r"Timeout \(>([\d.]+)s\)|the test ran past its ([\d.]+) s limit",
                      "\n".join(lines))
    cause = f"Timeout: not done after {limit[1] or limit[2]} s" if limit else "Timeout"
    if stuck:
        cause += f"; at {after} the test was at {stuck}"
    parts = [f"Stacks of the threads at {after} (innermost frame first; lab files only):"]
    for head, frames in threads:
        if frames:
            parts.append(f"{head}\n" + "\n".join(f"    {frame}" for frame in frames))
    return Reason(cause, "\n".join(parts))


def _tester_failure(lines: List[str]) -> Optional[Reason]:
    errors = [line[1:].strip() for line in lines if line.startswith("E ")]
    first = next((line for line in errors if EXCEPTION_LINE.match(line)),
                 errors[0] if errors else "")
    if not first:
        return None
    cause = TESTER_PREFIX.sub("", first)
    where = [line.strip() for line in lines
             if re.match(r"^src/raft/(test_raft|config)\.py:\d+", line.strip())]
    detail = ""
    if where:
        detail = "Where the tester noticed:\n" + "\n".join(f"    {w}" for w in where[:6])
    return Reason(cause, detail)


def _broken_rule(lines: List[str]) -> Optional[Reason]:
    """A Raft rule a monitor saw broken, or applyCh's deadlock: the root cause,
    even when a Go check's symptom (or a timeout) ended the test."""
    for i, line in enumerate(lines):
        for mark in BROKEN_RULE_MARKS:
            if mark in line:
                return Reason(line[line.index(mark):].strip(), _report_after(lines, i))
    return None


def _report_after(lines: List[str], first: int) -> str:
    """The lines of a report below its first, up to pytest's next section."""
    block = []
    for line in lines[first + 1:first + 1 + REPORT_LINES]:
        if not line.strip() or re.match(r"^(-{5,}|={5,}|_{5,})", line) or \
                line.startswith(("FAILED ", "ERROR ")):
            break
        block.append(line.rstrip())
    return "\n".join(block)


def explain(output: str, hung: bool = False) -> Reason:
    """The cause and detail of a failed test, from what its process printed.

    hung: the process had to be killed (it never printed pytest's summary).
    """
    lines = output.splitlines()
    timed_out = hung or "Timeout (>" in output or TIMEOUT_MARK in output
    dump = _hang(lines) if timed_out else None
    found = _handler_exception(lines) or _thread_exceptions(lines)
    if hung or found is None:
        found = dump or found
    if found is None or found is dump:
        # A broken rule explains a hang or a Go check's symptom; an exception
        # explains itself.
        found = _broken_rule(lines) or found
    found = found or _tester_failure(lines)
    specific = found is not None
    found = found or Reason(lines[-1].strip() if lines else "the test process printed nothing")
    detail = found.detail
    tester = list(dict.fromkeys(line.strip() for line in lines
                                if line.startswith("Test (") or "... Passed --" in line))
    if tester:
        detail += "\n\nThe tester's lines:\n" + "\n".join(tester[-5:])
    if dump is not None and found is not dump:
        detail += "\n\n" + dump.detail
    if not specific:
        tail = "\n".join(lines[-TAIL_LINES:])
        detail += f"\n\nThe last {TAIL_LINES} lines of the test's output:\n{tail}"
    return Reason(clip(found.cause, LINE_CHARS), clip(detail.strip()))
