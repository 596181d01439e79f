"""results.json: weights, numbers, Markdown, the leaderboard, the checks, the atomic write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import List

import pytest

from labstaff.grading import Grading, Outcome
from labstaff.results import (WeightsError, check, crash_results, load_weights, points,
                              results_json, write_atomic)

TESTS = ["TestInitialElection2A", "TestReElection2A", "TestBasicAgree2B", "TestBackup2B",
         "TestCount2B"]
PASSED = "Test (2A): initial election ...\n  ... Passed --   3.0  3   58   12302    0"


def grading(passed: List[str], output: str = PASSED) -> Grading:
    done = Grading(seconds=12.34)
    why = "expected one leader, got none"
    for name in TESTS:
        ok = name in passed
        done.outcomes.append(Outcome(name, ok, 1.5, "" if ok else why,
                                     output if ok else f"{why}\n\ndetail ``` x", runs=1))
    return done


def weights_file(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "weights.json"
    path.write_text(json.dumps(data))
    return path


def test_a_parts_points_are_shared_and_a_named_test_is_pinned(tmp_path: Path) -> None:
    weights = load_weights(weights_file(tmp_path, {"2A": 10, "2B": 30, "TestBackup2B": 12}),
                           TESTS)
    worth = points(TESTS, weights)
    assert worth["TestInitialElection2A"] == worth["TestReElection2A"] == 5
    assert worth["TestBackup2B"] == 12 and worth["TestBasicAgree2B"] == worth["TestCount2B"] == 9
    assert points(TESTS, None) == {name: 1.0 for name in TESTS}


@pytest.mark.parametrize("data, message", [
    ({"2E": 5}, "'2E' is neither a part"),
    ({"2A": -1}, "must be a number >= 0"),
    ({"2A": "ten"}, "must be a number >= 0"),
    ([1, 2], "expected a JSON object"),
])
def test_bad_weights_say_what_is_wrong(tmp_path: Path, data: object, message: str) -> None:
    with pytest.raises(WeightsError, match=message):
        load_weights(weights_file(tmp_path, data), TESTS)


def test_results_use_what_gradescope_offers() -> None:
    data = results_json(grading(["TestInitialElection2A"]), {"2A": 10}, "hidden")
    assert check(data) == []
    assert data["score"] == 5 and data["execution_time"] == 12.3
    numbers = [test["number"] for test in data["tests"]]
    assert numbers == ["1.1", "1.2", "2.1", "2.2", "2.3"]
    first, second = data["tests"][:2]
    assert first["visibility"] == "hidden" and first["output_format"] == "md"
    assert first["output"].startswith("**Passed** in 1.5 s") and "... Passed --" in first["output"]
    assert second["output"].startswith("**Failed:** expected one leader, got none")
    # A fence longer than any backtick run in the detail, so the detail cannot close it.
    assert "````\ndetail ``` x\n````" in second["output"]
    assert "leaderboard" not in data


def test_the_leaderboard_compares_with_the_reference() -> None:
    reference = {"TestInitialElection2A": [116, 24604]}
    data = results_json(grading(["TestInitialElection2A"]), reference=reference)
    board = {entry["name"]: (entry["value"], entry["order"]) for entry in data["leaderboard"]}
    assert board == {"Tests passed": (1, "desc"), "RPCs (% of reference)": (50.0, "asc"),
                     "Bytes (% of reference)": (50.0, "asc")}
    nothing = results_json(grading([]), reference=reference)
    assert nothing["leaderboard"][1]["value"] == 9999.0


def test_check_finds_what_gradescope_would_reject() -> None:
    assert check([]) == ["results.json holds a list, not an object"]
    problems = check({"score": "1", "execution_time": 1,
                      "tests": [{"name": "x", "score": 1, "max_score": True, "status": "ok",
                                 "output": "", "visibility": "never"}]})
    assert problems == ["score is not a number", "test 1: max_score is not a number",
                        "test 1: status 'ok'", "test 1: visibility 'never'"]
    assert check(crash_results("boom", "trace", max_score=7)) == []


def test_write_atomic_replaces_the_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "results" / "results.json"
    write_atomic(path, {"score": 1})
    write_atomic(path, {"score": 2})
    assert json.loads(path.read_text()) == {"score": 2}
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]
    with pytest.raises(TypeError):
        write_atomic(path, {"score": object()})
    assert json.loads(path.read_text()) == {"score": 2}
    assert [p.name for p in path.parent.iterdir()] == ["results.json"]


def test_a_failure_in_a_later_run_says_which_without_repeating_the_cause() -> None:
    done = Grading(seconds=1.0)
    done.outcomes.append(Outcome("TestBackup2B", False, 9.0, "run 2 of 3: too slow",
                                 "too slow\n\nthe detail", runs=2))
    (test,) = results_json(done)["tests"]
    assert test["output"].startswith("**Failed:** run 2 of 3: too slow\n")
    assert test["output"].count("too slow") == 1 and "the detail" in test["output"]


def test_the_leaderboard_reference_can_come_from_an_earlier_grading(tmp_path: Path) -> None:
    from labstaff.bundle import BundleError, Options, measure_reference

    earlier = tmp_path / "solution.json"
    earlier.write_text(json.dumps(results_json(grading(TESTS))))
    options = Options(parts=["2A", "2B"], tests=TESTS, reference=earlier)
    assert measure_reference(options) == {name: (58, 12302) for name in TESTS}
    earlier.write_text(json.dumps(results_json(grading(TESTS[:1]))))
    with pytest.raises(BundleError, match="no Passed line for TestReElection2A"):
        measure_reference(options)
