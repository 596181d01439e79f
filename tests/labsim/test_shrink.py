"""labsim's shrinker: the choice stream, delta debugging, --sim-shrink and --sim-replay.

The simulated runs happen in fresh processes (labsim's patches, once
installed, stay for the process's life); delta debugging is tested here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

import pytest

from labsim.ddmin import Minimizer
from tests.bugs import PLUGINS, RUNNER, catalogue

ROOT = Path(__file__).resolve().parents[2]
HANG_GUARD_S = 300  # a run that takes longer than this has hung: the test fails
LABSIM_ONLY = ["-p", "labsim.pytest_plugin"]


def _run(command: Sequence[str], cwd: Path) -> Tuple[int, str]:
    env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    env.pop("RAFT_DEBUG", None)
    try:
        done = subprocess.run(list(command), cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=HANG_GUARD_S, env=env)
    except subprocess.TimeoutExpired as err:
        out = (err.stdout or b"").decode(errors="replace")
        pytest.fail(f"hung: no result within {HANG_GUARD_S} s\n{out[-3000:]}")
    return done.returncode, done.stdout.decode(errors="replace")


def _pytest(cwd: Path, *args: str) -> Tuple[int, str]:
    return _run([sys.executable, "-c", RUNNER, "-q", "-p", "no:cacheprovider", *args], cwd)


# --- the choice stream ------------------------------------------------------------------

STREAM_SCRIPT = textwrap.dedent('''
    import json, random, sys, threading, time
    from dataclasses import dataclass
    import labsim
    from labsim.choices import ChoiceStream
    from labrpc import MakeNetwork, MakeServer, MakeService

    @dataclass
    class Total:
        X: int = 0

    class Counter:
        def __init__(self):
            self.mu = threading.Lock()
            self.n = 0

        def Add(self, args: int, reply: Total) -> None:
            with self.mu:
                self.n += args
                reply.X = self.n

    def program():
        log = []
        with MakeNetwork() as net:
            server = MakeServer()
            server.AddService(MakeService(Counter()))
            net.AddServer("counter", server)
            net.Reliable(False)
            net.LongReordering(True)
            ends = []
            for i in range(3):
                end = net.MakeEnd(f"end-{i}")
                net.Connect(f"end-{i}", "counter")
                net.Enable(f"end-{i}", i != 2)     # one client's calls go nowhere
                ends.append(end)

            def client(i):
                for j in range(6):
                    reply = Total()
                    ok = ends[i].Call("Counter.Add", j, reply)
                    log.append((i, j, ok, reply.X, round(time.monotonic(), 6)))
                    time.sleep(random.random() / 50)

            threads = [threading.Thread(target=client, args=(i,), name=f"client-{i}")
                       for i in range(3)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
        return log

    def run(stream=None):
        if stream is None:
            return labsim.run(program, seed=SEED)
        with stream.faults():
            return labsim.run(program, seed=SEED, choices=stream)

    SEED = int(sys.argv[1])
    plain = run()
    drawn, again = ChoiceStream(), ChoiceStream()
    with_stream, with_stream_again = run(drawn), run(again)
    calm = ChoiceStream(keep={})
    calm_log = run(calm)
    everything = ChoiceStream(keep={d.key: d.value for d in drawn.departures})
    edited_log = run(everything)
    print(json.dumps({
        "plain": plain, "with_stream": with_stream, "with_stream_again": with_stream_again,
        "departures": [d.to_json() for d in drawn.departures],
        "departures_again": [d.to_json() for d in again.departures],
        "kinds": sorted({d.kind for d in drawn.departures}),
        "choices": drawn.choices, "calm_choices": calm.choices,
        "calm_departures": len(calm.departures), "calm_log": calm_log,
        "edited_log": edited_log,
        "edited_departures": [d.to_json() for d in everything.departures],
    }))
''')


@pytest.fixture(scope="module")
def stream_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("stream")
    (folder / "stream_script.py").write_text(STREAM_SCRIPT)
    code, out = _run([sys.executable, "stream_script.py", "7"], folder)
    assert code == 0, out
    return json.loads(out.strip().splitlines()[-1])


def test_the_choice_stream_is_deterministic_and_draws_what_a_run_without_it_draws(
        stream_runs: dict) -> None:
    # A stream that keeps what is drawn is the seed's own run...
    assert stream_runs["with_stream"] == stream_runs["plain"]
    # ...and the same stream of choices every time.
    assert stream_runs["with_stream_again"] == stream_runs["plain"]
    assert stream_runs["departures"] == stream_runs["departures_again"]
    assert len(stream_runs["departures"]) > 10
    # Lost and held messages, calls to nowhere, late replies and wake-ups, preemptions.
    assert {"drop_request", "delay", "timeout", "reorder", "switch"} <= \
        set(stream_runs["kinds"]), stream_runs["kinds"]
    assert stream_runs["choices"] > len(stream_runs["departures"])


def test_a_calm_run_has_no_departures(stream_runs: dict) -> None:
    assert stream_runs["calm_departures"] == 0
    assert stream_runs["calm_choices"] > 0
    # Every call to the reachable server succeeds, the unreachable one's fail.
    assert [(i, ok) for i, _, ok, _, _ in stream_runs["calm_log"]] == \
        [(i, i != 2) for i, _, _, _, _ in stream_runs["calm_log"]]
    assert stream_runs["calm_log"] != stream_runs["plain"]


def test_keeping_every_departure_replays_the_seed_exactly(stream_runs: dict) -> None:
    assert stream_runs["edited_log"] == stream_runs["plain"]
    assert stream_runs["edited_departures"] == stream_runs["departures"]


# --- delta debugging --------------------------------------------------------------------


def test_ddmin_finds_the_items_a_failure_needs() -> None:
    need = {13, 377, 901}
    tried: List[List[int]] = []

    def attempt(items: List[int]) -> Optional[List[int]]:
        tried.append(items)
        return items if need <= set(items) else None

    minimizer = Minimizer(attempt)
    assert sorted(minimizer.minimize(list(range(1000)))) == sorted(need)
    assert tried[0] == []                     # the calm run comes first
    assert minimizer.tries == len(tried) < 150
    assert len({tuple(t) for t in tried}) == len(tried)     # no subset twice


def test_ddmin_starts_again_from_what_a_run_used_and_keeps_groups_out() -> None:
    # A run that never meets the odd items: they go at the first failure.
    def attempt(items: List[int]) -> Optional[List[int]]:
        used = [item for item in items if item % 2 == 0]
        return used if {10, 20} <= set(used) else None

    minimizer = Minimizer(attempt, group_of=lambda item: item >= 50)
    assert sorted(minimizer.minimize(list(range(100)))) == [10, 20]


def test_ddmin_stops_at_its_deadline_with_the_best_found() -> None:
    clock = [0.0]

    def attempt(items: List[int]) -> Optional[List[int]]:
        clock[0] += 1.0
        return items if 5 in items and 6 in items else None

    minimizer = Minimizer(attempt, deadline=6.0, clock=lambda: clock[0])
    best = minimizer.minimize(list(range(64)))
    assert minimizer.timed_out
    assert minimizer.tries == 6
    assert {5, 6} <= set(best) and len(best) < 64


def test_ddmin_without_a_smaller_failure_returns_the_input() -> None:
    items = list(range(9))
    minimizer = Minimizer(lambda got: got if got == items else None)
    assert minimizer.minimize(items) == items


# --- --sim-shrink and --sim-replay on a small planted bug -------------------------------

LOST_UPDATE = textwrap.dedent('''
    import threading
    import time


    def test_lost_update():
        box = {"n": 0}
        lock = threading.Lock()

        def add():
            for _ in range(30):
                with lock:
                    seen = box["n"]
                # (the bug: the read and the write are two critical sections)
                with lock:
                    box["n"] = seen + 1
                time.sleep(0.001)

        threads = [threading.Thread(target=add, name=f"adder-{i}") for i in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert box["n"] == 90, f"lost updates: {box['n']} of 90"


    def test_other():
        pass
''')


@pytest.fixture(scope="module")
def lost_update(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, int, str]:
    """A folder with the planted bug, a seed that fails, and the shrink's output."""
    folder = tmp_path_factory.mktemp("lost_update")
    (folder / "test_planted.py").write_text(LOST_UPDATE)
    code, out = _pytest(folder, *LABSIM_ONLY, "test_planted.py", "--sim", "--sim-seeds=1-20",
                        "-k", "test_lost_update")
    seeds = re.findall(r"test_lost_update seed (\d+): pytest", out)
    assert seeds, out
    seed = int(seeds[0])
    code, out = _pytest(folder, *LABSIM_ONLY, "test_planted.py", "--sim", "--sim-seed",
                        str(seed), "-k", "test_lost_update", "--sim-shrink",
                        "--shrink-time", "20")
    assert code == 1, out       # the seed's own run is reported as it fails
    return folder, seed, out


def test_a_planted_bug_shrinks_to_fewer_departures_and_fails_the_same_way(
        lost_update: Tuple[Path, int, str]) -> None:
    folder, seed, out = lost_update
    account = re.search(r"test_lost_update seed (\d+) fails with (\d+) departures? \(of "
                        r"([\d,]+) in seed", out)
    assert account, out
    after, before = int(account.group(2)), int(account.group(3).replace(",", ""))
    assert 1 <= after <= 3 and after * 10 < before, out
    assert "the failure: call: AssertionError: lost updates: N of N" in out
    # The seed's own run stays the fallback, and its command is printed.
    assert f"the seed: pytest --sim --sim-seed {seed} -k test_lost_update" in out
    replay = json.loads((folder / "shrunk" / f"test_lost_update-seed{seed}.json").read_text())
    assert len(replay["departures"]) == after
    assert all(d["key"][0] in ("switch", "pick") for d in replay["departures"])


def test_the_replay_of_a_shrunk_run_is_the_shrunk_run(
        lost_update: Tuple[Path, int, str]) -> None:
    folder, seed, _ = lost_update
    path = f"shrunk/test_lost_update-seed{seed}.json"
    results = folder / "results.jsonl"
    runs = []
    for _ in range(2):
        code, out = _pytest(folder, *LABSIM_ONLY, "test_planted.py", "--sim", "--sim-replay",
                            path, f"--sim-results={results}")
        assert code == 1, out
        assert f"replayed {path}: test_lost_update seed {seed} fails as recorded" in out, out
        assert "1 failed, 1 deselected" in out      # only the file's test runs
        runs.append(out)
    first, second = [json.loads(line) for line in results.read_text().splitlines()]
    for field in ("steps", "switches", "virtual_s", "report"):
        assert first[field] == second[field], field


def _bad_replay(folder: Path, name: str, text: str, *args: str) -> str:
    (folder / name).write_text(text)
    code, out = _pytest(folder, *LABSIM_ONLY, "test_planted.py", "--sim", "--sim-replay",
                        name, *args)
    assert code == 4, out       # pytest's usage error: nothing ran
    return out


def test_a_bad_replay_file_gets_an_error_naming_what_is_wrong(
        lost_update: Tuple[Path, int, str]) -> None:
    folder, seed, _ = lost_update
    good = (folder / "shrunk" / f"test_lost_update-seed{seed}.json").read_text()
    out = _bad_replay(folder, "cut.json", good[:len(good) // 2])
    assert "replay file cut.json: not JSON (line" in out and "cut short" in out
    out = _bad_replay(folder, "record.json", '{"seq": 0, "t": 0.0, "kind": "meta"}')
    assert "replay file record.json: not a labsim replay file" in out
    data = json.loads(good)
    data["departures"][0]["key"][0] = "teleport"
    out = _bad_replay(folder, "key.json", json.dumps(data))
    assert "replay file key.json: departure 1: not a choice key: ['teleport'" in out
    data = json.loads(good)
    data["departures"][0]["key"] = data["departures"][0]["key"][:2]
    out = _bad_replay(folder, "short.json", json.dumps(data))
    assert "replay file short.json: departure 1: not a choice key: ['switch'" in out
    data = json.loads(good)
    del data["seed"]
    out = _bad_replay(folder, "seedless.json", json.dumps(data))
    assert "replay file seedless.json: no 'seed' field" in out
    out = _bad_replay(folder, "other.json", good, "-k", "test_other")
    assert ("replay file other.json is for test_lost_update (test_planted.py::test_lost_update)"
            ", which is not among the selected tests (test_other)") in out
    code, out = _pytest(folder, *LABSIM_ONLY, "test_planted.py", "--sim", "--sim-replay",
                        "missing.json")
    assert code == 4 and "replay file missing.json: cannot be read" in out, out
    code, out = _pytest(folder, *LABSIM_ONLY, "test_planted.py", "--sim-replay", "cut.json")
    assert code == 4 and "--sim-replay works on simulated runs: add --sim" in out, out
    code, out = _pytest(folder, *LABSIM_ONLY, "test_planted.py", "--sim", "--sim-shrink",
                        "--sim-seeds", "1-3")
    assert code == 4 and "--sim-shrink takes one seed (--sim-seed N)" in out, out


# --- a catalogue bug in the lab ---------------------------------------------------------


def test_a_catalogue_bug_shrinks_and_its_replay_draws_the_same_page(tmp_path: Path) -> None:
    bug = catalogue(["no_heartbeat_reset"])[0]
    tree = bug.lab_tree(tmp_path / "tree")
    lab = [*PLUGINS, "-p", "labtools.timeline_plugin", "src/raft/test_raft.py"]
    test = "TestInitialElection2A"
    code, out = _pytest(tree, *lab, "--sim", "--sim-seeds=1-30", "-x", "-k", test)
    seeds = re.findall(rf"{test} seed (\d+): pytest", out)
    assert seeds, out
    seed = seeds[0]
    began = time.monotonic()
    code, out = _pytest(tree, *lab, "--sim", "--sim-seed", seed, "-k", test, "--sim-shrink",
                        "--shrink-time", "30", "--timeline", "seed-page")
    assert time.monotonic() - began < 120
    account = re.search(rf"{test} seed {seed} fails with (\d+) departures? \(of ([\d,]+)", out)
    assert account, out
    assert int(account.group(1)) < int(account.group(2).replace(",", "")), out
    shrunk_page = tree / "shrunk" / f"{test}-seed{seed}.html"
    assert f"page:     {Path('shrunk') / shrunk_page.name}" in out, out
    # The seed's own run got its page from --timeline, with its departures marked.
    seed_page = (tree / "seed-page" / f"{test}.html").read_text()
    assert f"{account.group(2)} departures</b> from a calm run" in seed_page
    code, out = _pytest(tree, *lab, "--sim", "--sim-replay",
                        f"shrunk/{test}-seed{seed}.json", "--timeline", "replayed")
    assert "fails as recorded" in out, out
    assert (tree / "replayed" / f"{test}.html").read_bytes() == shrunk_page.read_bytes()
    # A file made without --race is not replayed with it.
    code, out = _pytest(tree, *lab, "--sim", "--race", "--sim-replay",
                        f"shrunk/{test}-seed{seed}.json")
    assert code == 4 and "was made without --race; replay it without --race too" in out, out


def test_raft_stress_shrinks_its_first_failing_seed(tmp_path: Path) -> None:
    tree = catalogue(["no_heartbeat_reset"])[0].lab_tree(tmp_path / "tree")
    (tree / "setup.cfg").write_text("")     # (raft-stress runs where setup.cfg is)
    env = dict(os.environ, PYTHONPATH="src")
    env.pop("RAFT_DEBUG", None)
    done = subprocess.run(
        [sys.executable, "-m", "labtools.stress", "--sim", "-n", "20", "-p", "1", "-k",
         "TestInitialElection2A", "--first-failure", "--no-debug", "--shrink", "--",
         "--shrink-time", "20"],
        cwd=tree, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=HANG_GUARD_S,
        env=env)
    out = done.stdout.decode(errors="replace")
    assert done.returncode == 1, out
    failed = re.search(r"FAIL TestInitialElection2A seed (\d+)", out)
    assert failed, out
    seed = failed.group(1)
    assert f"shrinking TestInitialElection2A seed {seed} (pytest --sim-shrink)" in out, out
    assert re.search(rf"TestInitialElection2A seed {seed} fails with \d+ departures? \(of", out)
    assert (tree / "stress-logs" / "shrunk" / f"TestInitialElection2A-seed{seed}.json").is_file()
