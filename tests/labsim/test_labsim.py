"""labsim: the simulation runs the unmodified lab deterministically, and turns
every way a student's code can stall it into a clear failure, never a hang.

Each test runs pytest (or a small script) in a fresh process: the patches
are installed for good in a process that runs under --sim, and this
process's own tests run in real time.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import List, Sequence, Tuple

import pytest

from tests.bugs import PLUGINS, RUNNER, catalogue, lab_tree

ROOT = Path(__file__).resolve().parents[2]

SOLUTION = ROOT / "src" / "raft" / "raft.py"
HANG_GUARD_S = 120  # a run that takes longer than this has hung: the test fails


def _run(command: Sequence[str], cwd: Path, env_extra: dict = None) -> Tuple[int, str, float]:
    env = dict(os.environ)
    env.pop("RAFT_DEBUG", None)
    env.update(env_extra or {})
    t0 = time.monotonic()
    try:
        done = subprocess.run(list(command), cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=HANG_GUARD_S, env=env)
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"").decode(errors="replace")
        pytest.fail(f"hung: no result within {HANG_GUARD_S} s\n{out[-3000:]}")
    return done.returncode, done.stdout.decode(errors="replace"), time.monotonic() - t0


def _student(tmp_path: Path, edits: List[Tuple[str, str]]) -> Path:
    """A sandbox (as the grader builds one) holding the solution with edits."""
    source = SOLUTION.read_text()
    for old, new in edits:
        assert source.count(old) == 1, f"edit does not apply: {old[:60]!r}"
        source = source.replace(old, new)
    return lab_tree(tmp_path / "tree", source)


def _pytest(sandbox: Path, *args: str, env_extra: dict = None) -> Tuple[int, str, float]:
    # As the grader runs a submission: only the sandbox's plugins.
    return _run([sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider", *PLUGINS,
                 *args], sandbox, dict(env_extra or {}, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1"))


def _passed_lines(output: str) -> List[str]:
    return [line.strip() for line in output.splitlines() if "... Passed --" in line]


TICKER_LOOP = "        while not self.killed():\n            with self.mu:\n                now = "


# --- the solution, unmodified ---------------------------------------------------------


def test_same_seed_same_run_other_seed_other_run():
    args = ["src/raft/test_raft.py", "-k", "InitialElection or ManyElections", "--sim"]
    code1, out1, _ = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args, "--sim-seed=11"], ROOT, {"PYTHONHASHSEED": "1"})
    code2, out2, _ = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args, "--sim-seed=11"], ROOT,
                          {"PYTHONHASHSEED": "2", "RAFT_DEBUG": "1"})
    code3, out3, _ = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           *args, "--sim-seed=12"], ROOT)
    assert code1 == code2 == code3 == 0, out1 + out2 + out3
    assert len(_passed_lines(out1)) == 2
    # Hash seed and debug output change nothing; another seed changes the run.
    # (RAFT_DEBUG shows passing tests' output too, Passed lines included.)
    assert _passed_lines(out1) == list(dict.fromkeys(_passed_lines(out2)))
    assert _passed_lines(out1) != _passed_lines(out3)


def test_check_mode_passes_on_the_solution_with_debug_output():
    code, out, _ = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         "src/raft/test_raft.py", "-k", "2A", "--sim", "--sim-check",
                         "--sim-seeds=1-3"], ROOT, {"RAFT_DEBUG": "1"})
    assert code == 0, out[-3000:]
    assert "9 passed" in out


def test_check_mode_names_the_first_divergent_event(tmp_path):
    # An unseeded generator: the election timeouts differ between two runs.
    sandbox = _student(tmp_path, [(
        "        timeout = random.uniform(ELECTION_TIMEOUT_MIN_S, ELECTION_TIMEOUT_MAX_S)\n",
        "        timeout = random.Random().uniform(ELECTION_TIMEOUT_MIN_S, "
        "ELECTION_TIMEOUT_MAX_S)\n")])
    code, out, _ = _pytest(sandbox, "src/raft/test_raft.py::TestInitialElection2A", "--sim",
                           "--sim-check", "--sim-seed=5")
    assert code == 1, out[-3000:]
    assert "seed 5 is not deterministic: the runs diverge at event" in out
    assert re.search(r"first run: thread #\d+ \(\S+\) .*; second run: ", out)


def test_race_checker_works_under_the_simulation():
    code, out, _ = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         "src/raft/test_raft.py", "-k", "InitialElection or BasicAgree",
                         "--sim", "--race"], ROOT)
    assert code == 0, out[-3000:]


# --- a student's code that stalls the run ---------------------------------------------


def test_never_sleeping_loop_with_locks_is_a_busy_loop(tmp_path):
    sandbox = _student(tmp_path, [(TICKER_LOOP, (
        "        while not self.killed():\n"
        "            with self.mu:\n"
        "                pass\n"
        "        while not self.killed():\n"
        "            with self.mu:\n"
        "                now = "))])
    # (A smaller budget than the default 10^6, so that it trips before the
    # test's own check: this ticker never lets an election start.)
    code, out, took = _pytest(sandbox, "src/raft/test_raft.py::TestInitialElection2A",
                              "--sim", "--sim-seed=3", "--sim-busy-steps=50000",
                              "--sim-step-cost=20")
    assert code == 1, out[-3000:]
    assert "busy loop: thread raft-S" in out and "-ticker passed 50000" in out
    # (the replay carries every option that changes the run)
    assert ("replay: pytest --sim --sim-seed 3 --sim-step-cost 20 --sim-busy-steps 50000 "
            "-k TestInitialElection2A") in out
    assert took < HANG_GUARD_S


def test_pure_python_loop_is_an_escape(tmp_path):
    sandbox = _student(tmp_path, [(TICKER_LOOP, (
        "        while not self.killed():\n"
        "            pass\n"
        "        while not self.killed():\n"
        "            with self.mu:\n"
        "                now = "))])
    code, out, _ = _pytest(sandbox, "src/raft/test_raft.py::TestInitialElection2A", "--sim",
                           "--sim-watchdog=1")
    assert code == 1, out[-3000:]
    assert "escape: thread raft-S" in out and "without reaching a synchronisation point" in out
    assert "in ticker" in out  # its stack


def test_block_outside_the_simulator_is_an_escape(tmp_path):
    sandbox = _student(tmp_path, [(TICKER_LOOP, (
        "        import _thread\n"
        "        stuck = _thread.allocate_lock()\n"
        "        stuck.acquire()\n"
        "        stuck.acquire()\n"
        + TICKER_LOOP))])
    code, out, _ = _pytest(sandbox, "src/raft/test_raft.py::TestInitialElection2A", "--sim",
                           "--sim-watchdog=1")
    assert code == 1, out[-3000:]
    assert "is blocked outside the simulator's view" in out
    assert "stuck.acquire()" in out


def test_bare_except_swallowing_the_stop_is_parked(tmp_path):
    sandbox = _student(tmp_path, [(TICKER_LOOP, (
        "        while True:\n"
        "            try:\n"
        "                time.sleep(0.05)\n"
        "            except:  # noqa: E722\n"
        "                pass\n"
        + TICKER_LOOP))])
    code, out, _ = _pytest(sandbox, "src/raft/test_raft.py::TestInitialElection2A", "--sim")
    assert code == 1, out[-3000:]
    assert "thread(s) still running 1 s after the test ended" in out
    assert "caught the simulator's stop 100 times; parked" in out


def test_threads_started_in_a_loop(tmp_path):
    sandbox = _student(tmp_path, [(TICKER_LOOP, (
        "        while not self.killed():\n"
        "            threading.Thread(target=time.sleep, args=(60,), daemon=True).start()\n"
        + TICKER_LOOP))])
    code, out, _ = _pytest(sandbox, "src/raft/test_raft.py::TestInitialElection2A", "--sim")
    assert code == 1, out[-3000:]
    assert "more than 2000 threads alive at once" in out
    assert "is a thread started in a loop?" in out


# --- labsim alone ---------------------------------------------------------------------


def _script(tmp_path: Path, body: str) -> Tuple[int, str]:
    script = tmp_path / "script.py"
    script.write_text(textwrap.dedent(body))
    code, out, _ = _run([sys.executable, str(script)], tmp_path,
                        {"PYTHONPATH": str(ROOT / "src")})
    return code, out


def test_deadlock_report_names_threads_holders_and_stacks(tmp_path):
    code, out = _script(tmp_path, """
        import threading, time, labsim
        def one():
            with a:
                time.sleep(0.01)
                with b:
                    pass
        def two():
            with b:
                time.sleep(0.01)
                with a:
                    pass
        def body():
            global a, b
            a, b = threading.Lock(), threading.Lock()
            threads = [threading.Thread(target=one, name="one"),
                       threading.Thread(target=two, name="two")]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        try:
            labsim.run(body, seed=1)
        except labsim.SimDeadlock as failure:
            print("REPORT", failure)
        """)
    assert code == 0, out
    assert "deadlock: every thread waits and no timer is pending" in out
    assert re.search(r"- thread one: waits for Lock at 0x[0-9a-f]+, held by two", out)
    assert re.search(r"- thread two: waits for Lock at 0x[0-9a-f]+, held by one", out)
    assert "waits for thread one to end (join)" in out
    assert 'script.py", line' in out and "with b:" in out


def test_virtual_time_timeouts_and_joins(tmp_path):
    code, out = _script(tmp_path, """
        import queue, threading, time, labsim
        def body():
            t0 = time.monotonic()
            ev = threading.Event()
            assert ev.wait(2.5) is False
            q = queue.Queue()
            try:
                q.get(timeout=1.0)
            except queue.Empty:
                pass
            sq = queue.SimpleQueue()
            threading.Timer(0.5, sq.put, args=("late",)).start()
            assert sq.get(timeout=5) == "late"
            th = threading.Thread(target=time.sleep, args=(100,), daemon=True)
            th.start()
            th.join(3.0)
            assert th.is_alive()
            return round(time.monotonic() - t0, 1)
        r0 = time.perf_counter()
        elapsed = labsim.run(body, seed=2, perturb_s=0.0)
        print("VIRTUAL", elapsed, "REAL", round(time.perf_counter() - r0, 1))
        """)
    assert code == 0, out
    virtual, real = re.search(r"VIRTUAL ([\d.]+) REAL ([\d.]+)", out).groups()
    assert float(virtual) == pytest.approx(7.0, abs=0.1)
    assert float(real) < 2.0


def test_pct_runs_a_started_thread_first_and_its_starter_next(tmp_path):
    # As CPython's start() does: it returns once the child has run, and the
    # starter goes on before a thread that was already waiting to run.
    code, out = _script(tmp_path, """
        import threading, labsim
        def body():
            order, go = [], threading.Event()
            def other():
                go.wait()
                order.append("other")
            def child():
                order.append("child")
            waiting = threading.Thread(target=other)
            waiting.start()
            go.set()
            started = threading.Thread(target=child)
            started.start()
            order.append("starter")
            started.join()
            waiting.join()
            return " ".join(order)
        for seed in range(1, 21):
            print("ORDER", labsim.run(body, seed=seed, strategy="pct", perturb_s=0.0))
        """)
    assert code == 0, out
    orders = re.findall(r"ORDER (.*)", out)
    assert orders == ["child starter other"] * 20, orders


def test_cleanup_wakes_pending_calls_in_the_same_order_every_run(tmp_path):
    # labrpc's Cleanup wakes every call still waiting for a reply. Each wake
    # draws its lateness from the seeded generator, so the order of the
    # wakes must not follow memory addresses (a set's order): it did, and
    # one run in three of a seed diverged from its replay after the test.
    code, out = _script(tmp_path, """
        import threading, time, labsim, labrpc
        from dataclasses import dataclass

        @dataclass
        class Reply:
            X: int = 0

        class Slow:
            def __init__(self):
                self.release = threading.Event()
            def Hold(self, args, reply):
                self.release.wait(30)
                reply.X = args

        def body():
            net = labrpc.MakeNetwork()
            slow = Slow()
            server = labrpc.MakeServer()
            server.AddService(labrpc.MakeService(slow))
            net.AddServer("s", server)
            order = []
            def call(i):
                end = net.MakeEnd(i)
                net.Connect(i, "s")
                net.Enable(i, True)
                end.Call("Slow.Hold", i, Reply())
                order.append(i)
            threads = [threading.Thread(target=call, args=(i,)) for i in range(8)]
            for th in threads:
                th.start()
            time.sleep(0.1)
            net.Cleanup()
            for th in threads:
                th.join()
            slow.release.set()
            return order

        # Seed 9 draws "every wake-up late", so the wakes' order shows.
        for strategy in ("pct", "random"):
            for _ in range(6):
                print("ORDER", strategy, labsim.run(body, seed=9, strategy=strategy))
        """)
    assert code == 0, out
    for strategy in ("pct", "random"):
        orders = re.findall(rf"ORDER {strategy} (.*)", out)
        assert len(orders) == 6 and len(set(orders)) == 1, orders


def test_threads_reuse_os_threads_but_not_their_state(tmp_path):
    # A started thread runs on a pooled OS thread (labsim.pool): what a fresh
    # thread has fresh must still be fresh, and threading must know it.
    code, out = _script(tmp_path, """
        import contextvars, threading, labsim
        from labsim import pool
        var = contextvars.ContextVar("var", default="fresh")
        def body():
            local = threading.local()
            seen, threads = [], []
            def child(i):
                seen.append((getattr(local, "x", "fresh"), var.get(),
                             threading.current_thread() is threads[i],
                             threading.get_ident() == threads[i].ident))
                local.x = var.set("stale")
                local.x = "stale"
            for i in range(50):
                threads.append(threading.Thread(target=child, args=(i,)))
                threads[i].start()
                threads[i].join()
                assert not threads[i].is_alive()
                assert threads[i] not in threading.enumerate()
            assert seen == [("fresh", "fresh", True, True)] * 50, seen
            return len({th.ident for th in threads})
        idents = labsim.run(body, seed=1, perturb_s=0.0)
        idents = max(idents, labsim.run(body, seed=2, perturb_s=0.0))
        print("IDENTS", idents, "CREATED", pool.created(), "IDLE", pool.idle())
        pool.close()
        print("AFTER CLOSE", pool.idle())
        """)
    assert code == 0, out
    found = re.search(r"IDENTS (\d+) CREATED (\d+) IDLE (\d+)", out)
    idents, created, idle = map(int, found.groups())
    assert created <= 3 and idents <= created, out  # 100 threads, at most 3 OS threads
    assert idle == created, out
    assert "AFTER CLOSE 0" in out


def test_seed_lists_and_default_seeds():
    from labsim import parse_seeds, seed_for
    assert parse_seeds("1-3,7") == [1, 2, 3, 7]
    assert parse_seeds("3") == [1, 2, 3]          # a bare N: how many seeds
    assert parse_seeds("7-7") == [7]
    assert parse_seeds("5,9") == [5, 9]           # in a list, a number is one seed
    for bad in ("0", "", "x"):
        with pytest.raises(ValueError, match="bad seed list"):
            parse_seeds(bad)
    assert seed_for("TestInitialElection2A") == seed_for("TestInitialElection2A")
    assert seed_for("TestInitialElection2A") != seed_for("TestReElection2A")
    with pytest.raises(ValueError, match="bad seed list"):
        parse_seeds("5-1")


def test_sim_seeds_n_runs_seeds_1_to_n_and_says_so(tmp_path):
    (tmp_path / "test_seeds.py").write_text(
        "import labsim\n\n"
        "def test_seed():\n"
        "    print('SEED', labsim.active().seed)\n")
    code, out, _ = _run([sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider",
                         "test_seeds.py", "--sim", "--sim-seeds", "3"], tmp_path)
    assert code == 0, out[-3000:]
    assert re.findall(r"SEED (\d+)", out) == ["1", "2", "3"]
    assert "labsim: --sim-seeds 3 ran the seeds 1-3; --sim-seed 3 runs seed 3 alone" in out
    code, out, _ = _run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                         "test_seeds.py", "--sim", "--sim-seeds", "3", "--sim-seed", "3"],
                        tmp_path)
    assert code == 4 and "give one of them" in out, out[-3000:]


# --- a failing seed replays ---------------------------------------------------------


DPRINTF = re.compile(r"\b\d{6} [A-Z]+ +S\d+ T\d+ ")  # time, topic, peer, term


def _failure_lines(output: str) -> List[str]:
    """The failure's message and the DPrintf lines, without pytest's timings."""
    keep = []
    for line in output.splitlines():
        if line.startswith("E ") or DPRINTF.search(line) or "... Passed" in line:
            keep.append(line)
    return keep


def test_a_failing_seed_replays_to_the_same_failure_and_log(tmp_path):
    bug = catalogue(["equal_timeouts"])[0]
    sandbox = bug.lab_tree(tmp_path / "bug")
    results = tmp_path / "results.jsonl"
    # Many seeds in one process: the failing one must replay alone, too.
    _pytest(sandbox, "src/raft/test_raft.py", "-k", "2A", "--sim", "--sim-seeds=1-40",
            f"--sim-results={results}")
    import json
    failing = [json.loads(line) for line in results.read_text().splitlines()
               if json.loads(line)["outcome"] == "failed"]
    assert failing, "the bug was not found in 40 seeds"
    first = failing[0]
    replays = []
    for _ in range(2):
        code, out, _ = _pytest(sandbox, "src/raft/test_raft.py", "-k", first["name"], "--sim",
                               f"--sim-seed={first['seed']}", env_extra={"RAFT_DEBUG": "1"})
        assert code == 1, out[-3000:]
        assert f"replay it exactly:  pytest --sim --sim-seed {first['seed']} -k " \
            f"{first['name']}" in out
        replays.append(_failure_lines(out))
    assert replays[0] == replays[1]
    assert any(DPRINTF.search(line) for line in replays[0])  # DPrintf lines kept
    message = [line for line in first["report"].splitlines() if line.startswith("E ")]
    assert message and message[0] in replays[0]


def test_grader_sim_seeds_names_the_failing_seeds(tmp_path):
    submission = tmp_path / "raft.py"
    submission.write_text(SOLUTION.read_text().replace(TICKER_LOOP, (
        "        while not self.killed():\n"
        "            with self.mu:\n"
        "                pass\n" + TICKER_LOOP), 1))
    out_json = tmp_path / "results.json"
    code, out, _ = _run([sys.executable, "-m", "labstaff.grade", str(submission), "--test",
                         "TestInitialElection2A", "--sim-seeds", "2", "--out", str(out_json)],
                        ROOT)
    # (The ticker never lets an election start: no leader, for every seed.)
    assert code == 0, out
    import json
    result = json.loads(out_json.read_text())
    assert result["score"] == 0
    assert "failed with seed(s) 1, 2: " in result["tests"][0]["output"]
    assert "expected one leader, got none" in result["tests"][0]["output"]


def test_stress_sim_reports_failing_seeds_with_replay_and_log(tmp_path):
    logs = tmp_path / "logs"
    code, out, _ = _run([sys.executable, "-m", "labtools.stress", "--sim", "--seeds", "3-4",
                         "-k", "TestInitialElection2A", "-p", "1", "--logs", str(logs)], ROOT)
    assert code == 0, out
    assert "2/2 runs passed, 0 failed" in out
    # A time limit no run can meet: every seed fails, the same way each time.
    code, out, _ = _run([sys.executable, "-m", "labtools.stress", "--sim", "-n", "2",
                         "-k", "TestInitialElection2A", "-p", "2", "--batch", "1",
                         "--logs", str(logs), "--", "--timeout=1"], ROOT)
    assert code == 1, out
    assert "FAIL TestInitialElection2A seed 1" in out and "FAIL TestInitialElection2A seed 2" in out
    assert "replay: pytest --sim --sim-seed 2 -k TestInitialElection2A" in out
    log = (logs / "TestInitialElection2A-seed-2.log").read_text()
    assert "past its limit (1 s of virtual time)" in log
    assert re.search(r"\b\d{6} [A-Z]+ +S\d+ T\d+ ", log)  # replayed with DPrintf on


def test_stress_sim_first_failure_stops_the_other_batches(tmp_path):
    # Every seed fails (a time limit no run meets); with --first-failure the
    # batches not yet started never start, so far fewer than 6 seeds run.
    code, out, _ = _run([sys.executable, "-m", "labtools.stress", "--sim", "-n", "6",
                         "-k", "TestInitialElection2A", "-p", "1", "--batch", "1",
                         "--first-failure", "--no-debug", "--logs", str(tmp_path),
                         "--", "--timeout=1"], ROOT)
    assert code == 1, out
    assert "FAIL TestInitialElection2A seed 1" in out
    assert "seed 2" not in out and "0/1 runs passed, 1 failed" in out


def test_grader_sim_seeds_gives_the_solution_its_points(tmp_path):
    # Each seed is a run of its own for the grader's verdict: N passing runs pass.
    out_json = tmp_path / "results.json"
    code, out, _ = _run([sys.executable, "-m", "labstaff.grade", str(SOLUTION), "--test",
                         "TestInitialElection2A", "--test", "TestReElection2A",
                         "--sim-seeds", "3", "--out", str(out_json)], ROOT)
    assert code == 0, out
    import json
    result = json.loads(out_json.read_text())
    assert result["score"] == 2, result
