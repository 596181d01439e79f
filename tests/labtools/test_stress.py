"""raft-stress and its pool: every failing run reported as it ends, and no
child process left behind by --first-failure, Ctrl-C or SIGTERM.

The pool's own tests run small Python children. The stress loop's tests
run raft-stress, real-time and --sim, in a lab tree with a bug of the
catalogue planted (no_term_increment: TestInitialElection2A fails at once,
every run and every seed). Each child of raft-stress inherits a mark in its
environment, so /proc shows every process it started that is still alive.
"""

from __future__ import annotations

import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import List, Optional, Tuple

import pytest

from labtools.pool import ProcessPool, clock
from tests.bugs import catalogue, lab_tree

REPO = Path(__file__).resolve().parents[2]
HAS_PROC = Path("/proc/self/environ").exists()
needs_proc = pytest.mark.skipif(not HAS_PROC, reason="reads /proc/PID/environ (Linux)")
DPRINTF = re.compile(r"\b\d{6} [A-Z]+ +S\d+ T\d+ ")
# Far longer than any of these tests: a child that sleeps this long is
# still running unless someone killed it.
FOREVER_S = 600


def _python(code: str) -> List[str]:
    return [sys.executable, "-c", code]


def _gone(pid: int) -> bool:
    """The process has ended and been reaped (a zombie still has its /proc entry)."""
    return not Path(f"/proc/{pid}").exists()


# -- the pool ------------------------------------------------------------------

def test_clock_is_hours_minutes_seconds() -> None:
    assert clock(0) == "0:00:00"
    assert clock(189.9) == "0:03:09"
    assert clock(3 * 3600 + 61) == "3:01:01"


def test_pool_rejects_no_process_at_a_time() -> None:
    with pytest.raises(ValueError, match="at least 1 process"):
        ProcessPool(0)


def test_pool_yields_each_job_as_it_ends_never_more_than_n_at_once(tmp_path: Path) -> None:
    go = tmp_path / "go"
    # The first job waits for a file the test writes only once the second
    # has been yielded: the second, started later, must come out first.
    waits = _python(f"import os, time\nwhile not os.path.exists({str(go)!r}): time.sleep(0.01)")
    pool = ProcessPool(2)
    waiting = pool.add(waits, dict(os.environ), data="waits")
    pool.add(_python("print('quick')"), dict(os.environ), data="quick")
    pool.add(_python("print('third')"), dict(os.environ), data="third")
    most = 0

    def watch(job: object) -> None:
        nonlocal most
        most = max(most, len(pool.running))

    ended = []
    for job in pool.finished(watch=watch):
        ended.append((job.data, job.returncode, job.output().strip()))
        if job.data == "quick":
            assert waiting in pool.running  # yielded while the first still runs
            go.write_text("")
    assert ended[0] == ("quick", 0, "quick")
    assert sorted(ended) == [("quick", 0, "quick"), ("third", 0, "third"), ("waits", 0, "")]
    assert most == 2
    assert [job.slot for job in pool.started] == [0, 1, 1]  # the third took the freed slot
    assert all(_gone(job.process.pid) for job in pool.started if HAS_PROC)


def test_pool_stop_kills_and_reaps_every_running_child() -> None:
    pool = ProcessPool(3)
    for _ in range(4):  # the fourth is queued, never started
        pool.add(_python(f"import time; time.sleep({FOREVER_S})"), dict(os.environ))
    stopped: List[int] = []

    def watch(job: object) -> None:
        if len(pool.running) == 3 and not stopped:
            stopped.append(pool.stop())

    began = time.monotonic()
    assert list(pool.finished(watch=watch)) == []
    assert stopped == [3]
    assert time.monotonic() - began < FOREVER_S / 10
    assert len(pool.started) == 3 and not pool.pending and not pool.running
    for job in pool.started:
        assert job.killed and job.returncode == -signal.SIGKILL
        if HAS_PROC:
            assert _gone(job.process.pid)


def test_pool_ctrl_c_kills_and_reaps_every_child() -> None:
    pool = ProcessPool(2)
    for _ in range(2):
        pool.add(_python(f"import time; time.sleep({FOREVER_S})"), dict(os.environ))

    def watch(job: object) -> None:
        if len(pool.running) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        for _ in pool.finished(watch=watch):
            pass
    assert len(pool.started) == 2 and not pool.running
    for job in pool.started:
        assert job.killed and job.returncode is not None
        if HAS_PROC:
            assert _gone(job.process.pid)


def test_pool_jobs_added_after_stop_still_run() -> None:
    # How --first-failure replays the failing seed after stopping the rest.
    pool = ProcessPool(1)
    pool.add(_python("pass"), dict(os.environ), data="first")
    pool.add(_python(f"import time; time.sleep({FOREVER_S})"), dict(os.environ), data="never")
    seen = []
    for job in pool.finished():
        seen.append(job.data)
        if job.data == "first":
            assert pool.stop() == 0  # nothing running; drops the queued job
            pool.add(_python("print('after')"), dict(os.environ), data="after")
    assert seen == ["first", "after"]
    assert [job.data for job in pool.started] == ["first", "after"]


# -- raft-stress on a planted bug ----------------------------------------------

# In the real-time tests, run 2 never ends by itself: whatever it is doing
# when run 1 fails, it is still running.
HANG_RUN_2 = f"""\
import os
import time


def pytest_configure(config):
    if os.environ.get("RAFT_RECORD_FAILED", "").endswith("run-0002-records"):
        time.sleep({FOREVER_S})
"""


@pytest.fixture(scope="module")
def bug_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A student's tree (the lab, setup.cfg) whose raft.py never increments
    its term: TestInitialElection2A fails in its first second."""
    bug, = catalogue(["no_term_increment"])
    tree = lab_tree(tmp_path_factory.mktemp("stress") / "tree", bug.source())
    (tree / "pytest.ini").unlink()
    shutil.copy(REPO / "setup.cfg", tree / "setup.cfg")
    return tree


class StressRun:
    """raft-stress started in a tree, its lines read as they come."""

    def __init__(self, tree: Path, *args: str) -> None:
        self.mark = uuid.uuid4().hex
        env = dict(os.environ, PYTHONPATH=str(tree / "src"), STRESS_TEST_MARK=self.mark)
        env.pop("RAFT_DEBUG", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "labtools.stress", *args], cwd=tree, env=env,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.lines: "queue.Queue[Optional[str]]" = queue.Queue()
        self.seen: List[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def wait_for(self, start: str, timeout: float = 120) -> str:
        """The first line from now on that starts so (fails if raft-stress ends first)."""
        deadline = time.monotonic() + timeout
        while True:
            line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            assert line is not None, f"raft-stress ended before {start!r}:\n" + \
                "\n".join(self.seen)
            self.seen.append(line)
            if line.startswith(start):
                return line

    def finish(self, timeout: float = 120) -> Tuple[int, str]:
        """(exit status, all it printed) once it exits by itself."""
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout=10)
        while not self.lines.empty():
            line = self.lines.get()
            if line is not None:
                self.seen.append(line)
        return code, "\n".join(self.seen)

    def children(self) -> List[int]:
        """Processes alive with this run's mark, raft-stress itself aside."""
        found = []
        wanted = f"STRESS_TEST_MARK={self.mark}".encode()
        for entry in os.listdir("/proc"):
            if not entry.isdigit() or int(entry) == self.process.pid:
                continue
            try:
                environ = Path(f"/proc/{entry}/environ").read_bytes()
            except OSError:
                continue  # ended meanwhile, or not ours
            if wanted in environ.split(b"\0"):
                found.append(int(entry))
        return found

    def cleanup(self) -> None:
        """Kill whatever is left, so a failed test leaves no sleeper."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        for pid in self.children():
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


@pytest.fixture
def stress_run():
    runs: List[StressRun] = []

    def start(tree: Path, *args: str) -> StressRun:
        runs.append(StressRun(tree, *args))
        return runs[-1]
    yield start
    for run in runs:
        run.cleanup()


@pytest.fixture
def hanging_tree(bug_tree: Path) -> Path:
    (bug_tree / "conftest.py").write_text(HANG_RUN_2)
    yield bug_tree
    (bug_tree / "conftest.py").unlink()


@needs_proc
def test_stress_reports_a_failed_run_while_the_others_run(hanging_tree: Path, stress_run,
                                                          tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run = stress_run(hanging_tree, "-k", "TestInitialElection2A", "-n", "2", "-p", "2",
                     "--logs", str(logs))
    fail = run.wait_for("FAIL run 1 ")
    assert "term is 0, but should be at least 1" in (logs / "run-0001.log").read_text()
    assert f"log: {logs / 'run-0001.log'}" in fail
    assert run.children(), "run 2 should still be running when run 1 is reported"
    run.process.send_signal(signal.SIGTERM)  # as `kill` from another terminal
    code, out = run.finish(timeout=30)
    assert code == 1, out
    assert "stress: interrupted" in out and "0/1 passed, 1 failed" in out
    assert run.children() == []


@needs_proc
def test_stress_first_failure_kills_the_other_runs(hanging_tree: Path, stress_run,
                                                   tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run = stress_run(hanging_tree, "-k", "2A", "-n", "4", "-p", "2", "--first-failure",
                     "--logs", str(logs))
    code, out = run.finish()
    assert code == 1, out
    assert "FAIL run 1 " in out and "FAIL run 2" not in out
    assert "stress: --first-failure: stopped 1 running run(s)" in out
    assert "stress: 0/1 passed, 1 failed" in out  # runs 3 and 4 never started
    assert sorted(path.name for path in logs.glob("*.log")) == ["run-0001.log"]
    # -x: the failing run stopped at TestInitialElection2A.
    assert "stopping after 1 failures" in (logs / "run-0001.log").read_text()
    assert run.children() == []


@needs_proc
def test_stress_sim_reports_a_failing_seed_before_its_batch_ends(bug_tree: Path, stress_run,
                                                                 tmp_path: Path) -> None:
    # One batch: seed 1 of TestInitialElection2A is its first run; 179 follow.
    logs = tmp_path / "logs"
    run = stress_run(bug_tree, "--sim", "-n", "60", "--batch", "60", "-p", "1", "-k", "2A",
                     "--logs", str(logs))
    fail = run.wait_for("FAIL TestInitialElection2A seed 1 ")
    assert run.children(), "the batch should still be running when seed 1 is reported"
    replay = run.wait_for("    replay:")
    assert replay == "    replay: pytest --sim --sim-seed 1 -k TestInitialElection2A"
    log = logs / "TestInitialElection2A-seed-1.log"
    assert run.wait_for("    log:").startswith(f"    log: {log}")
    assert "term is 0, but should be at least 1" in fail
    assert "term is 0, but should be at least 1" in log.read_text()
    run.process.send_signal(signal.SIGTERM)
    code, out = run.finish(timeout=30)
    assert code == 1, out
    assert "stress --sim: interrupted" in out
    assert "[60/60 seeds]" not in out  # it was stopped, not waited for
    assert run.children() == []


@needs_proc
def test_stress_sim_first_failure_kills_every_batch(bug_tree: Path, stress_run,
                                                    tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    run = stress_run(bug_tree, "--sim", "-n", "200", "-p", "2", "-k", "2A",
                     "--sim-strategy", "pct", "--first-failure", "--logs", str(logs))
    code, out = run.finish()
    assert code == 1, out
    fails = [line for line in out.splitlines() if line.startswith("FAIL ")]
    assert len(fails) == 1, out
    seed = fails[0].split(" seed ")[1].split()[0]
    assert "stress --sim: --first-failure: stopped 2 running process(es)" in out
    assert (f"replay: pytest --sim --sim-seed {seed} --sim-strategy pct "
            "-k TestInitialElection2A") in out
    # The seed's log, replaced by its replay's output: DPrintf lines and all.
    log = (logs / f"TestInitialElection2A-seed-{seed}.log").read_text()
    assert "term is 0, but should be at least 1" in log
    assert DPRINTF.search(log), log[-2000:]
    assert run.children() == []
