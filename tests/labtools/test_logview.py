"""raft-logview: DPrintf lines as one column per peer."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

from labtools.logview import parse, render

REPO = Path(__file__).resolve().parents[2]

SAMPLE = """\
__________________________________ TestReElection2A __________________________________
DEBUG    raft:util.py:33 000100 TIMER  S2 T1 candidate election timeout: start election
000101 VOTE   S0 T1 follower  vote for S2
some other output that is not a DPrintf line
000102 LEADER S2 T1 leader    won the election with 2 votes
001600 TERM   S1 T2 follower  become follower
"""


def logview(*args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "labtools.logview", *args], input=stdin,
                          capture_output=True, text=True, cwd=REPO, timeout=30)


def test_each_peer_gets_its_column_and_times_start_at_zero() -> None:
    out = io.StringIO()
    items = list(parse(SAMPLE.splitlines()))
    render(items, 100, 3, 90, False, out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "== TestReElection2A =="
    header = lines[1]
    vote = next(line for line in lines if "VOTE" in line)
    leader = next(line for line in lines if "LEADER" in line)
    assert vote.index("VOTE") == header.index("S0")
    assert leader.index("LEADER") == header.index("S2")
    assert vote.split()[0] == "0.001"
    assert not any("not a DPrintf" in line for line in lines)


def test_topic_and_time_filters(tmp_path: Path) -> None:
    log = tmp_path / "run-0001.log"
    log.write_text(SAMPLE)
    only_votes = logview(str(log), "--topics", "vote", "--no-color").stdout
    assert "VOTE" in only_votes and "LEADER" not in only_votes
    no_timer = logview(str(log), "--ignore", "timer,vote").stdout
    assert "TIMER" not in no_timer and "LEADER" in no_timer
    late = logview(str(log), "--from", "1").stdout
    assert "TERM" in late and "LEADER" not in late


def test_reads_stdin_and_never_colours_a_pipe() -> None:
    result = logview(stdin=SAMPLE)
    assert result.returncode == 0
    assert "\033[" not in result.stdout
    assert "LEADER" in result.stdout


def test_no_dprintf_lines_is_a_clear_error(tmp_path: Path) -> None:
    result = logview(stdin="nothing here\n")
    assert result.returncode == 1
    assert "no DPrintf lines found" in result.stderr
    missing = logview(str(tmp_path / "nope.log"))
    assert missing.returncode == 2 and "no such log file" in missing.stderr
