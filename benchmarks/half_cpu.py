"""Does grading hold on Gradescope's default half a CPU? The solution, graded under a limit.

    python -m benchmarks.half_cpu [--runs 2] [--parts 2A,2B] [--no-baseline] [--hog]

Grades this package's own raft.py with `raft-grade` (every part, `--runs 1`,
the 120 s test limit, no total limit so every test runs) once at full speed
(the baseline) and `--runs` times with the whole grading process tree held
to half of one CPU: a cgroup's CPU quota (50 ms every 100 ms; cgroup v2's
cpu.max or v1's cpu.cfs_quota_us, where this machine lets us make one), or
else a busy-looping process pinned with the grader to the same CPU (which
gives each about half of it). Prints, per part, the tests passed over all
runs and the longest test against the 120 s limit, each run's total time
against Gradescope's default 10 minutes, and the grading's peak memory
(resident memory of its processes, summed, sampled every 0.5 s) against
Gradescope's default 768 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from labtools.parts import PARTS, PartsError, add_parts_option, named_parts

SOLUTION = Path(__file__).resolve().parents[1] / "src" / "raft" / "raft.py"
QUOTA_US, PERIOD_US = 50_000, 100_000
TEST_LIMIT_S = 120.0
GRADESCOPE_TIMEOUT_S = 600.0
GRADESCOPE_MEMORY_MB = 768.0


class Limit:
    """Half a CPU for the processes placed in it; `how` says by which means."""

    def __init__(self, hog: bool = False) -> None:
        self.how = ""
        self._cgroup: Optional[Path] = None
        self._hog: Optional[subprocess.Popen] = None
        for make in () if hog else (self._cgroup_v2, self._cgroup_v1):
            try:
                make()
                return
            except OSError:
                continue
        self.how = "a CPU hog pinned with the grader on CPU 0 (taskset)"

    def _cgroup_v2(self) -> None:
        top = Path("/sys/fs/cgroup")
        if not (top / "cgroup.controllers").exists():
            raise OSError("no cgroup v2")
        group = top / f"raft-half-cpu-{os.getpid()}"
        group.mkdir()
        (group / "cpu.max").write_text(f"{QUOTA_US} {PERIOD_US}\n")
        self._cgroup, self.how = group, "cgroup v2 cpu.max = 50000 100000"

    def _cgroup_v1(self) -> None:
        group = Path("/sys/fs/cgroup/cpu") / f"raft-half-cpu-{os.getpid()}"
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text(f"{PERIOD_US}\n")
        (group / "cpu.cfs_quota_us").write_text(f"{QUOTA_US}\n")
        self._cgroup, self.how = group, "cgroup v1 cpu.cfs_quota_us = 50000 of 100000"

    def command(self, command: List[str]) -> List[str]:
        """command, run inside the limit."""
        if self._cgroup is not None:
            # The shell joins the group, then becomes the command: all it starts stays in.
            join = f"echo $$ > {self._cgroup / 'cgroup.procs'} && exec \"$@\""
            return ["sh", "-c", join, "sh", *command]
        if self._hog is None:
            self._hog = subprocess.Popen(["taskset", "-c", "0", sys.executable, "-c",
                                          "while True: pass"])
        return ["taskset", "-c", "0", *command]

    def processes(self) -> Optional[List[int]]:
        if self._cgroup is None:
            return None
        return [int(p) for p in (self._cgroup / "cgroup.procs").read_text().split()]

    def close(self) -> None:
        if self._hog is not None:
            self._hog.kill()
            self._hog.wait()
        if self._cgroup is not None:
            self._cgroup.rmdir()


def _tree(root: int) -> List[int]:
    """root and its descendants, from /proc."""
    children: Dict[int, List[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def _rss_kb(pids: Sequence[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


def grade_once(parts: Sequence[str], limit: Optional[Limit]) -> Tuple[dict, float, float]:
    """One grading: (results.json, seconds, peak MB)."""
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "results.json"
        command = [sys.executable, "-m", "labstaff.grade", str(SOLUTION), "--runs", "1",
                   "--total-timeout", "100000", "--out", str(out)]
        command += ["--parts", ",".join(parts)]
        if limit is not None:
            command = limit.command(command)
        t0 = time.monotonic()
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL, cwd=scratch)
        peak = [0]
        done = threading.Event()

        def sample() -> None:
            while not done.wait(0.5):
                pids = (limit.processes() if limit is not None else None) or _tree(process.pid)
                peak[0] = max(peak[0], _rss_kb(pids))

        sampler = threading.Thread(target=sample, name="rss-sampler")
        sampler.start()
        process.wait()
        done.set()
        sampler.join()
        seconds = time.monotonic() - t0
        return json.loads(out.read_text()), seconds, peak[0] / 1024


def test_seconds(test: dict) -> float:
    """A passed test's time, from its Markdown ('**Passed** in 3.4 s')."""
    words = test["output"].split()
    return float(words[words.index("in") + 1]) if "in" in words[:4] else 0.0


def report(label: str, gradings: List[Tuple[dict, float, float]]) -> None:
    print(f"\n{label}: {len(gradings)} grading(s) of {SOLUTION.name}")
    for part in PARTS:
        tests = [t for data, _, _ in gradings for t in data["tests"] if t["name"].endswith(part)]
        if not tests:
            continue
        passed = sum(t["status"] == "passed" for t in tests)
        longest = max(tests, key=test_seconds)
        print(f"  {part}: {passed}/{len(tests)} tests passed; longest {longest['name']} "
              f"{test_seconds(longest):.1f} s (limit {TEST_LIMIT_S:.0f} s)")
        for t in tests:
            if t["status"] != "passed":
                print(f"      FAIL {t['name']}: {t['output'].splitlines()[0]}")
    totals = ", ".join(f"{seconds:.0f}" for _, seconds, _ in gradings)
    print(f"  total seconds per grading: {totals} (Gradescope's default timeout "
          f"{GRADESCOPE_TIMEOUT_S:.0f} s)")
    peak = max(mb for _, _, mb in gradings)
    print(f"  peak memory: {peak:.0f} MB (Gradescope's default {GRADESCOPE_MEMORY_MB:.0f} MB)")


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=2, help="gradings at half a CPU (default 2)")
    add_parts_option(parser, "the parts to grade: 2A,2B, ... (repeatable; default: all four)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the full-speed grading")
    parser.add_argument("--hog", action="store_true",
                        help="limit with a pinned CPU hog even where a cgroup could be made")
    args = parser.parse_args(argv)
    try:
        parts = named_parts(args.parts) if args.parts else list(PARTS)
    except PartsError as err:
        parser.error(f"--parts: {err}")
    if not args.no_baseline:
        report("baseline, no limit", [grade_once(parts, None)])
    limit = Limit(hog=args.hog)
    try:
        print(f"\nhalf a CPU by {limit.how}")
        gradings = []
        for run in range(1, args.runs + 1):
            gradings.append(grade_once(parts, limit))
            print(f"  grading {run}: {gradings[-1][1]:.0f} s, score {gradings[-1][0]['score']}",
                  flush=True)
        report("half a CPU", gradings)
    finally:
        limit.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
