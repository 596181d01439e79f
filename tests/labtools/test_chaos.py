"""raft-chaos: a seed replays exactly, exit codes, bad arguments, planted bugs
found with their rule and replay command, and the cluster's wiring."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import pytest

from labrpc.record import Record
from labtest.testing import T
from labtools.chaos.cluster import Cluster
from raft.config import make_config
from tests.bugs import CHAOS_RUNNER, catalogue, lab_tree

ROOT = Path(__file__).resolve().parents[2]
SOLUTION = ROOT / "src" / "raft" / "raft.py"
# No run here should come near this; a hang fails the test instead of pytest.
HANG_GUARD_S = 300


def _run(command: Sequence[str], cwd: Path, env_extra: Optional[dict] = None
         ) -> Tuple[int, str]:
    env = dict(os.environ)
    env.pop("RAFT_DEBUG", None)
    env.update(env_extra or {})
    try:
        done = subprocess.run(list(command), cwd=cwd, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=HANG_GUARD_S, env=env)
    except subprocess.TimeoutExpired as err:
        pytest.fail(f"hung: no result within {HANG_GUARD_S} s\n"
                    f"{(err.stdout or b'').decode(errors='replace')[-3000:]}")
    return done.returncode, done.stdout.decode(errors="replace")


def _chaos(cwd: Path, *args: str) -> Tuple[int, str]:
    """raft-chaos with the packages of cwd/src first (a lab tree), or the repository's."""
    return _run([sys.executable, "-c", CHAOS_RUNNER, *args], cwd)


# --- the command -----------------------------------------------------------------------


def test_the_solution_passes_its_seeds_and_exits_0() -> None:
    code, out = _chaos(ROOT, "--parts", "2A,2D", "--seeds", "1-3", "-p", "2")
    assert code == 0, out
    assert "raft-chaos: parts 2A, 2D, seeds 1-3, 2 processes" in out
    assert re.search(r"6 seeds passed in [\d.]+ s \([\d.]+ a second; 2A: 3, 2D: 3\); "
                     r"no rule broken", out), out


def test_a_time_limit_ends_the_run_with_0() -> None:
    began = time.monotonic()
    code, out = _chaos(ROOT, "--parts", "2B", "--time", "2", "-p", "1")
    assert code == 0, out
    assert "seeds from " in out and "for 2 s" in out
    assert re.search(r"\d+ seeds passed", out), out
    assert time.monotonic() - began < 60


@pytest.mark.parametrize("args, message", [
    ([], "choose the parts to run: --parts 2A"),
    (["--parts", "2E"], "--parts: unknown part '2E': the parts are 2A, 2B, 2C, 2D"),
    (["--parts", ","], "--parts: no part chosen"),
    (["--parts", "2A", "-p", "0"], "-p/--processes must be at least 1, got 0"),
    (["--parts", "2A", "--time", "0"], "--time must be a positive number of seconds"),
    (["--parts", "2A", "--time", "soon"], "argument --time: invalid float value: 'soon'"),
    (["--parts", "2A", "--seeds", "9-3"], "--seeds: bad seed list '9-3'"),
    (["--parts", "2A", "--seeds=-4"], "--seeds: seeds are numbers from 0 up, got -4"),
    (["--parts", "2A", "--peers", "12"], "--peers must be from 1 to 9, got 12"),
], ids=lambda value: None if isinstance(value, list) else "-".join(value.split()[:2]))
def test_bad_arguments_are_named_with_exit_2(args: List[str], message: str) -> None:
    code, out = _chaos(ROOT, *args)
    assert code == 2, out
    assert message in out, out
    assert "Traceback" not in out


# --- one seed ----------------------------------------------------------------------------

SEED_DIGEST = """
import hashlib, json, sys
from labtools.chaos.scenario import run_seed
for seed in map(int, sys.argv[2:]):
    result = run_seed(seed, sys.argv[1], keep_events=True)
    blob = json.dumps([result.to_json(), result.events], sort_keys=True, default=repr)
    print("DIGEST", seed, result.ok, len(result.events),
          hashlib.sha256(blob.encode()).hexdigest())
"""


def _digests(part: str, seeds: Sequence[int], hash_seed: str) -> List[str]:
    code, out = _run([sys.executable, "-c", SEED_DIGEST, part, *map(str, seeds)], ROOT,
                     {"PYTHONHASHSEED": hash_seed})
    assert code == 0, out
    return [line for line in out.splitlines() if line.startswith("DIGEST")]


# (ids that name no part: `pytest -k 2A` selects the 2A Go tests alone)
@pytest.mark.parametrize("part", ["2A", "2D"], ids=["elections", "snapshots"])
def test_a_seed_is_the_same_run_every_time_in_any_process(part: str) -> None:
    # The whole record (every RPC, with its virtual times), the nemesis's
    # actions and the verdict: twice in one process, once in another.
    first = _digests(part, [11, 11, 12], "1")
    again = _digests(part, [11], "2")
    assert first[0] == first[1] == again[0]
    assert first[2] != first[0]
    assert int(first[0].split()[3]) > 100  # a real run: many events


def test_a_seed_of_its_own_size_given_with_peers_is_the_same_run() -> None:
    script = ("from labtools.chaos.scenario import run_seed, seed_generator\n"
              "size = seed_generator(21, '2B')[1]\n"
              "a = run_seed(21, '2B', keep_events=True)\n"
              "b = run_seed(21, '2B', peers=size, keep_events=True)\n"
              "other = 3 if size != 3 else 5\n"
              "c = run_seed(21, '2B', peers=other)\n"
              "print('SAME', a.events == b.events and a.actions == b.actions, "
              "a.peers == size, c.peers == other)\n")
    code, out = _run([sys.executable, "-c", script], ROOT)
    assert code == 0, out
    assert "SAME True True True" in out, out


# --- planted bugs ------------------------------------------------------------------------


def _failure(out: str) -> Tuple[str, str, str]:
    """(the FAIL line without its wall-clock part, the broken rule, the replay command)."""
    fail = re.search(r"^raft-chaos: FAIL (.*?) \(after", out, re.M)
    rule = re.search(r"^broken rule: (.*)$", out, re.M)
    replay = re.search(r"^replay: (raft-chaos .*)$", out, re.M)
    assert fail and rule and replay, out
    return fail.group(1), rule.group(1), replay.group(1)


def test_a_planted_bug_is_found_named_and_replayed_exactly(tmp_path: Path) -> None:
    (bug,) = catalogue(["term_not_updated_from_reply"])
    tree = bug.lab_tree(tmp_path / "tree")
    records = tmp_path / "records"
    code, out = _chaos(tree, "--parts", "2B", "--seeds", "1-200", "-p", "2",
                       "--record-failed", str(records))
    assert code == 1, out
    fail, rule, replay = _failure(out)
    assert rule == "adopt a higher term from a reply"
    assert "  Raft rule broken: adopt a higher term from a reply: S" in out
    assert "what the nemesis did" in out
    assert re.fullmatch(r"raft-chaos --parts 2B --peers [357] --seeds (\d+)-\1", replay), replay
    saved = Path(re.search(r"^record: (\S+)", out, re.M).group(1))
    violations = [event for event in Record.load(saved).events
                  if event["kind"] == "violation"]
    assert violations[0]["rule"] == "adopt a higher term from a reply"
    # The replay: the same seed fails the same way, at the same virtual instant.
    code, again = _chaos(tree, *replay.split()[1:], "-p", "1")
    assert code == 1, again
    assert _failure(again) == (fail, rule, replay)
    first_message = out.split("broken rule:")[1].splitlines()[1]
    assert first_message in again


@pytest.mark.parametrize("bug_name, part, rule", [
    ("term_not_updated_from_vote_reply", "2A", "adopt a higher term from a reply"),
    ("stale_vote_counted", "2A", "a leader is elected by a majority"),
], ids=["term_not_updated_from_vote_reply", "stale_vote_counted"])
def test_the_reply_and_majority_rules_fire_on_their_planted_bugs(
        tmp_path: Path, bug_name: str, part: str, rule: str) -> None:
    (bug,) = catalogue([bug_name])
    code, out = _chaos(bug.lab_tree(tmp_path / "tree"), "--parts", part, "--seeds", "1-1000",
                       "-p", "2")
    assert code == 1, out
    assert _failure(out)[1] == rule


def test_a_worker_that_dies_mid_seed_fails_that_seed(tmp_path: Path) -> None:
    source = SOLUTION.read_text().replace(
        "    rf = Raft(peers, me, persister, applyCh)\n",
        "    rf = Raft(peers, me, persister, applyCh)\n    import os; os._exit(7)\n", 1)
    tree = lab_tree(tmp_path / "tree", source)
    code, out = _chaos(tree, "--parts", "2A", "--seeds", "4-4", "-p", "1")
    assert code == 1, out
    assert "broken rule: the worker process ended mid-seed" in out
    assert "running the seed again in a new worker" in out
    assert "exited with status 7, twice" in out
    assert re.search(r"replay: raft-chaos --parts 2A --peers [357] --seeds 4-4$", out, re.M)


def test_a_worker_killed_from_outside_does_not_fail_its_seed(tmp_path: Path) -> None:
    # The first worker to build a peer is killed by a signal, as another
    # program might kill it; the seed, run again in a new worker, passes.
    mark = tmp_path / "killed-once"
    source = SOLUTION.read_text().replace(
        "    rf = Raft(peers, me, persister, applyCh)\n",
        "    rf = Raft(peers, me, persister, applyCh)\n"
        f"    import os, signal\n    if not os.path.exists({str(mark)!r}):\n"
        f"        open({str(mark)!r}, 'w').close()\n"
        "        os.kill(os.getpid(), signal.SIGTERM)\n", 1)
    tree = lab_tree(tmp_path / "tree", source)
    code, out = _chaos(tree, "--parts", "2A", "--seeds", "4-4", "-p", "1")
    assert code == 0, out
    assert "the worker running seed 4 of 2A exited with status -15; running the seed " \
        "again in a new worker" in out
    assert "1 seed passed" in out


# --- the cluster's wiring ------------------------------------------------------------------


def _links(cfg: Any) -> List[Tuple[int, int]]:
    """Which peer can call which (the network's enabled ends)."""
    return [(i, j) for i in range(cfg.n) for j in range(cfg.n)
            if i != j and cfg.endnames[i] is not None
            and cfg.net._enabled[cfg.endnames[i][j]]]


def test_partitions_bridges_one_way_cuts_and_restarts_wire_the_ends() -> None:
    t = T(echo=False)
    with make_config(t, 5, False) as cfg:
        cluster = Cluster(cfg)
        cluster.partition([[0, 1], [2, 3, 4]])
        assert _links(cfg) == [(0, 1), (1, 0), (2, 3), (2, 4), (3, 2), (3, 4), (4, 2), (4, 3)]
        assert cfg.connected == [False, False, True, True, True]
        cluster.bridge([0, 1], 2, [3, 4])
        assert set(_links(cfg)) == {(0, 1), (1, 0), (3, 4), (4, 3), (0, 2), (2, 0), (1, 2),
                                    (2, 1), (2, 3), (3, 2), (2, 4), (4, 2)}
        cluster.heal()
        cluster.cut_one_way([0], [1, 2, 3, 4])
        assert not any(i == 0 for i, _ in _links(cfg))
        assert (1, 0) in _links(cfg)
        cluster.crash(3)
        assert cluster.crashed() == [3] and not any(3 in link for link in _links(cfg))
        cluster.restart(3)  # a new incarnation, in the largest group, with no cut of its own
        assert (3, 0) in _links(cfg) and (0, 3) in _links(cfg) and (0, 1) not in _links(cfg)
        cluster.heal()
        assert len(_links(cfg)) == 20
        actions = [text for _, text in cluster.actions]
    assert actions[:3] == ["partition S0 S1 | S2 S3 S4",
                           "bridge: S0 S1 and S3 S4 meet only through S2",
                           "heal: one network"]
    assert "one-way cut: S0 cannot call S1 S2 S3 S4 (calls the other way still work)" in actions
    assert "crash S3" in actions and "restart S3 (with S0 S1 S2 S4)" in actions
    kinds = [event.get("action") for event in cfg.record.of_kind("harness")]
    assert {"partition", "bridge", "one-way cut", "crash", "start"} <= set(kinds)


# --- shrinking ------------------------------------------------------------------------------


def test_a_failing_seed_is_shrunk_and_its_replay_file_reruns_it(tmp_path: Path) -> None:
    (bug,) = catalogue(["term_not_updated_from_reply"])
    tree = bug.lab_tree(tmp_path / "tree")
    code, out = _chaos(tree, "--parts", "2B", "--seeds", "1-100", "-p", "1", "--shrink",
                       "--shrink-time", "60")
    assert code == 1, out
    found = re.search(r"^raft-chaos: shrunk seed (\d+) of 2B: it fails with (\d+) departures? "
                      r"\(of ([\d,]+) in the seed's run\)", out, re.M)
    assert found, out
    seed, kept, original = int(found[1]), int(found[2]), int(found[3].replace(",", ""))
    assert 1 <= kept <= original // 10, out
    assert "broken rule: adopt a higher term from a reply" in out.split("shrunk seed")[1]
    replay = tree / "shrunk" / f"chaos-2B-seed-{seed}.json"
    assert f"replay: raft-chaos --replay shrunk/chaos-2B-seed-{seed}.json" in out
    assert (tree / "shrunk" / f"chaos-2B-seed-{seed}-shrunk.jsonl").is_file()
    # The replay makes the same departures and breaks the same rule, every time.
    for _ in range(2):
        code, again = _chaos(tree, "--replay", str(replay))
        assert code == 1, again
        assert f"breaks 'adopt a higher term from a reply' as recorded, with its {kept} " \
            f"departure" in again, again


def test_a_passing_seed_is_not_shrunk_and_a_failure_names_the_shrink_command(
        tmp_path: Path) -> None:
    (bug,) = catalogue(["vote_twice"])
    code, out = _chaos(bug.lab_tree(tmp_path / "tree"), "--parts", "2A", "--seeds", "1-50",
                       "-p", "1")
    assert code == 1, out
    assert re.search(r"^shrink it: raft-chaos --parts 2A --peers \d --seeds (\d+)-\1 --shrink$",
                     out, re.M), out


@pytest.mark.parametrize("args, message", [
    (["--replay", "x.json", "--parts", "2A"], "--replay reruns its file's run alone: leave "
                                              "out --parts"),
    (["--replay", "missing.json"], "replay file missing.json: cannot read it"),
    (["--parts", "2A", "--shrink", "--shrink-time", "0"], "--shrink-time must be a positive"),
], ids=["replay-with-parts", "no-file", "no-time"])
def test_bad_shrink_and_replay_arguments_are_named(args: List[str], message: str) -> None:
    code, out = _chaos(ROOT, *args)
    assert code == 2 and message in out, out


def test_a_replay_file_of_another_kind_is_named(tmp_path: Path) -> None:
    wrong = tmp_path / "TestX-seed1.json"
    wrong.write_text('{"format": "labsim-replay/1"}')
    code, out = _chaos(ROOT, "--replay", str(wrong))
    assert code == 2, out
    assert "not a raft-chaos replay file" in out and "pytest --sim --sim-replay" in out


@pytest.mark.parametrize("change, message", [
    ({"part": "2X"}, "part '2X' is none of 2A, 2B, 2C, 2D"),
    ({"peers": 0}, "seed 1, 0 peers"),
    ({"seed": -4}, "seed -4, 3 peers"),
    ({"peers": "3"}, "field 'peers' should be a int, not '3'"),
    ({"departures": [{"key": ["action"], "value": True}]}, "a departure is not well made"),
], ids=["part", "peers", "seed", "type", "departure"])
def test_a_replay_file_that_is_not_well_made_is_named(
        tmp_path: Path, change: dict, message: str) -> None:
    import json
    good = {"format": "raft-chaos-replay/1", "part": "2A", "seed": 1, "peers": 3,
            "race": False, "rule": "one vote per term", "original_departures": 9,
            "choices": 99, "departures": [{"key": ["action", 2], "value": True}]}
    path = tmp_path / "r.json"
    path.write_text(json.dumps({**good, **change}))
    code, out = _chaos(ROOT, "--replay", str(path))
    assert code == 2 and message in out, out


def test_a_shrink_dir_that_cannot_be_written_is_said_before_the_search(tmp_path: Path) -> None:
    (bug,) = catalogue(["vote_twice"])
    tree = bug.lab_tree(tmp_path / "tree")
    (tree / "taken").write_text("a file, not a folder")
    began = time.monotonic()
    code, out = _chaos(tree, "--parts", "2A", "--seeds", "1-50", "-p", "1", "--shrink",
                       "--shrink-dir", "taken")
    assert code == 1, out
    assert "raft-chaos: --shrink-dir taken: cannot write taken/chaos-2A-seed-" in out, out
    assert time.monotonic() - began < 30, out


WATCHED_SEEDS = """
from labsim.choices import ChoiceStream
from labtools.chaos.scenario import run_seed
for part, seed in (("2A", 3), ("2C", 2)):
    plain = run_seed(seed, part, keep_events=True)
    watched = ChoiceStream()
    seen = run_seed(seed, part, choices=watched, keep_events=True)
    kept = run_seed(seed, part, keep_events=True, choices=ChoiceStream(
        keep={d.key: d.value for d in watched.departures}))
    faults = [d for d in watched.departures if d.kind == "action"]
    print("FAULTS", part, len(faults) > 0 and len(faults) <= len(plain.actions))
    for name, run in (("watched", seen), ("kept", kept)):
        # The same record, but for the departures a watched run notes in it.
        events = [e for e in run.events if e["kind"] != "departure"]
        same = (run.actions == plain.actions and run.virtual_s == plain.virtual_s
                and [(e["kind"], e["t"]) for e in events]
                == [(e["kind"], e["t"]) for e in plain.events])
        print("SAME", part, name, same)
"""


def test_watching_a_seeds_choices_changes_nothing_and_keeping_them_all_is_the_seed() -> None:
    # (in a process of its own: a simulated run patches threading for good)
    code, out = _run([sys.executable, "-c", WATCHED_SEEDS], ROOT)
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.startswith(("FAULTS", "SAME"))]
    assert lines == ["FAULTS 2A True", "SAME 2A watched True", "SAME 2A kept True",
                     "FAULTS 2C True", "SAME 2C watched True", "SAME 2C kept True"], out


def test_a_nemesis_fault_is_a_choice_key_of_its_own_shape() -> None:
    from labsim.choices import key_from_json, value_from_json
    assert key_from_json(["action", 3]) == ("action", 3)
    assert value_from_json(("action", 3), True) is True
    for bad in (["action", "3"], ["action", 3, 4], ["action", True]):
        with pytest.raises(ValueError, match="not a choice key"):
            key_from_json(bad)
    with pytest.raises(ValueError, match="an action's value is true"):
        value_from_json(("action", 3), 1)


@pytest.mark.parametrize("message, rule", [
    ("Raft rule broken: one vote per term: S1 voted twice", "one vote per term"),
    ("apply error: commit index=3 server=0 1 != server=2 2",
     "every peer applies the same command at an index (State Machine Safety)"),
    ("lock watchdog: S1's lock self.mu has been held for 3.0 s by raft-S1-rpc",
     "the lock is never held across a sleep, an RPC or a wait (lock watchdog)"),
    ("call watchdog: the tester's GetState() on S2 has not returned",
     "the tester's calls into a peer return (call watchdog)"),
    ("something new", "the tester's check: something new"),
], ids=["monitor", "apply", "lock-watchdog", "call-watchdog", "unknown"])
def test_a_failure_message_names_its_rule(message: str, rule: str) -> None:
    from labtools.chaos.judgement import rule_of
    assert rule_of(message + "\nmore lines") == rule


def test_a_message_taken_just_before_a_crash_is_not_judged_against_the_restart() -> None:
    # A shrunk 2D run of the solution: S1 is crashed right after accepting
    # entries while the tester's reader holds its last apply; the restart
    # resets lastApplied before the reader judges it. The run must still
    # make every departure of the file (the same path), and pass.
    replay = ROOT / "tests" / "labtools" / "data" / "chaos-2D-seed-625553465.json"
    code, out = _chaos(ROOT, "--replay", str(replay))
    assert code == 0, out
    assert "it passed (recorded: 'commands applied in log order'), making 11 of the file's " \
        "11 departures" in out, out
