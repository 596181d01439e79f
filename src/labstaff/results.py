"""Gradescope's results.json from a grading, written in one atomic step.

    from labstaff import results
    weights = results.load_weights(Path("weights.json"))   # {"2A": 20, "TestBackup2B": 5}
    data = results.results_json(grading, weights, visibility="visible",
                                reference={"TestInitialElection2A": (58, 12302)})
    results.write_atomic(Path("/autograder/results/results.json"), data)
    results.crash_results("the grader crashed", traceback_text, max_score=100)

What Gradescope offers, used: a test's `score`/`max_score` (a part's
weight shared evenly by its tests, one point a test by default), `number`
("1.3": part 2A is 1, 2B is 2, ...), `visibility`, `output` in Markdown
(`output_format: "md"`: the Passed line, or the failure's cause and its
detail), the run's `execution_time`, and an optional `leaderboard`: tests
passed, then the RPCs and bytes the passed tests used, as a percentage of
what the reference Raft used in the same tests (fewer wins).

A results.json is replaced with os.replace, so Gradescope never reads a
half-written one.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from labtools.parts import PARTS

VISIBILITIES = ("visible", "hidden", "after_due_date", "after_published")
# "  ... Passed --   3.0  3   58   12302    0": seconds, peers, RPCs, bytes, agreements.
PASSED_LINE = re.compile(
    r"\.\.\. Passed --\s+(?P<seconds>[\d.]+)\s+(?P<peers>\d+)\s+(?P<rpcs>\d+)\s+(?P<bytes>\d+)"
)
# Tests are named TestSomething2A: the part is the name's end.
PART_OF = re.compile(r"(2[A-D])$")


class WeightsError(ValueError):
    """A weights file names something that is not a part or a test, or a bad number."""


def part_of(name: str) -> str:
    found = PART_OF.search(name)
    return found.group(1) if found else "?"


def load_weights(path: Path, tests: Sequence[str]) -> Dict[str, float]:
    """Points per part or test from a JSON object; unknown names are an error."""
    try:
        raw = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise WeightsError(f"{path}: cannot read weights: {err}") from None
    if not isinstance(raw, dict):
        raise WeightsError(f"{path}: expected a JSON object like {{\"2A\": 20, \"2B\": 30}}")
    weights: Dict[str, float] = {}
    for key, value in raw.items():
        if key not in PARTS and key not in tests:
            raise WeightsError(f"{path}: {key!r} is neither a part ({', '.join(PARTS)}) "
                               "nor a test this grading runs")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise WeightsError(f"{path}: the weight of {key} must be a number >= 0, "
                               f"got {value!r}")
        weights[key] = float(value)
    return weights


def points(tests: Sequence[str], weights: Optional[Mapping[str, float]]) -> Dict[str, float]:
    """Each test's max_score: its own weight, else its part's shared evenly, else 1."""
    weights = weights or {}
    out: Dict[str, float] = {}
    for part in PARTS:
        in_part = [name for name in tests if part_of(name) == part]
        pinned = [name for name in in_part if name in weights]
        rest = [name for name in in_part if name not in weights]
        left = weights[part] - sum(weights[name] for name in pinned) if part in weights else None
        for name in pinned:
            out[name] = weights[name]
        for name in rest:
            out[name] = round(left / len(rest), 4) if left is not None else 1.0
    for name in tests:
        out.setdefault(name, weights.get(name, 1.0))
    return out


def figures(output: str) -> Optional[Tuple[int, int]]:
    """(RPCs, bytes) from the last Passed line in output, or None."""
    found = list(PASSED_LINE.finditer(output))
    if not found:
        return None
    return int(found[-1]["rpcs"]), int(found[-1]["bytes"])


def _fence(text: str) -> str:
    """text in a Markdown code block no backticks inside can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text}\n{fence}"


def _numbering(tests: Sequence[str]) -> Dict[str, str]:
    counters: Dict[str, int] = {}
    out = {}
    for name in tests:
        part = part_of(name)
        counters[part] = counters.get(part, 0) + 1
        major = PARTS.index(part) + 1 if part in PARTS else len(PARTS) + 1
        out[name] = f"{major}.{counters[part]}"
    return out


def test_output(outcome: Any) -> str:
    """A test's Markdown: the Passed line, or the cause in bold and the detail below."""
    runs = f" ({outcome.runs} runs)" if outcome.runs > 1 else ""
    if outcome.passed:
        return f"**Passed**{runs} in {outcome.seconds:.1f} s\n\n{_fence(outcome.output)}"
    cause = outcome.reason.splitlines()[0] if outcome.reason else "failed"
    detail = outcome.output
    head = detail.split("\n", 1)[0]
    if head and cause.endswith(head):  # the cause, maybe with "run 2 of 3: " before it
        detail = detail[len(head):].lstrip("\n")
    text = f"**Failed:** {cause}\n"
    if detail.strip():
        text += f"\n{_fence(detail.rstrip())}\n"
    return text


def leaderboard(grading: Any, reference: Mapping[str, Sequence[int]]) -> List[Dict[str, Any]]:
    """Tests passed; RPCs and bytes of the passed tests as % of the reference's."""
    passed = [o for o in grading.outcomes if o.passed]
    used = [0, 0]
    ref = [0, 0]
    for outcome in passed:
        mine = figures(outcome.output)
        theirs = reference.get(outcome.name)
        if mine is None or theirs is None:
            continue
        for i in (0, 1):
            used[i] += mine[i]
            ref[i] += int(theirs[i])
    board: List[Dict[str, Any]] = [{"name": "Tests passed", "value": len(passed), "order": "desc"}]
    for i, what in enumerate(("RPCs", "Bytes")):
        # Nothing passed, nothing to compare: rank last.
        value = round(100.0 * used[i] / ref[i], 1) if ref[i] else 9999.0
        board.append({"name": f"{what} (% of reference)", "value": value, "order": "asc"})
    return board


def results_json(grading: Any, weights: Optional[Mapping[str, float]] = None,
                 visibility: str = "visible",
                 reference: Optional[Mapping[str, Sequence[int]]] = None) -> Dict[str, Any]:
    """Gradescope's results.json for a grading (labstaff.grading.Grading)."""
    names = [outcome.name for outcome in grading.outcomes]
    worth = points(names, weights)
    numbers = _numbering(names)
    tests = []
    for outcome in grading.outcomes:
        tests.append({
            "name": outcome.name,
            "number": numbers[outcome.name],
            "score": worth[outcome.name] if outcome.passed else 0,
            "max_score": worth[outcome.name],
            "status": "passed" if outcome.passed else "failed",
            "visibility": visibility,
            "output": test_output(outcome),
            "output_format": "md",
            # Not shown to students; kept with the submission for the staff.
            "extra_data": {"seconds": round(outcome.seconds, 1), "runs": outcome.runs},
        })
    passed = sum(1 for outcome in grading.outcomes if outcome.passed)
    data: Dict[str, Any] = {
        "score": round(sum(test["score"] for test in tests), 4),
        "execution_time": round(grading.seconds, 1),
        "output": f"{passed} of {len(tests)} tests passed in {grading.seconds:.0f} s.",
        "output_format": "md",
        "visibility": visibility,
        "stdout_visibility": "hidden",
        "tests": tests,
    }
    if reference is not None:
        data["leaderboard"] = leaderboard(grading, reference)
    return data


def crash_results(cause: str, detail: str = "", max_score: float = 1.0,
                  seconds: float = 0.0) -> Dict[str, Any]:
    """A valid results.json for a grading that could not finish: one failed test."""
    output = f"**Failed:** {cause}\n"
    if detail.strip():
        output += f"\n{_fence(detail.rstrip()[-6000:])}\n"
    return {
        "score": 0,
        "execution_time": round(seconds, 1),
        "output": "The autograder could not grade this submission; the test below says why.",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [{
            "name": "Grading",
            "score": 0,
            "max_score": max_score,
            "status": "failed",
            "visibility": "visible",
            "output": output,
            "output_format": "md",
        }],
    }


def check(data: Any) -> List[str]:
    """What in data Gradescope would reject or show wrongly (empty if nothing)."""
    problems: List[str] = []
    if not isinstance(data, dict):
        return [f"results.json holds a {type(data).__name__}, not an object"]
    if not isinstance(data.get("tests"), list) or not data["tests"]:
        problems.append("no tests")
    for key in ("score", "execution_time"):
        if isinstance(data.get(key), bool) or not isinstance(data.get(key), (int, float)):
            problems.append(f"{key} is not a number")
    for number, test in enumerate(data.get("tests") or [], start=1):
        if not isinstance(test, dict):
            problems.append(f"test {number} is not an object")
            continue
        for key in ("score", "max_score"):
            if isinstance(test.get(key), bool) or not isinstance(test.get(key), (int, float)):
                problems.append(f"test {number}: {key} is not a number")
        if test.get("status") not in ("passed", "failed"):
            problems.append(f"test {number}: status {test.get('status')!r}")
        if not isinstance(test.get("name"), str) or not isinstance(test.get("output"), str):
            problems.append(f"test {number}: name and output must be strings")
        if test.get("visibility", "visible") not in VISIBILITIES:
            problems.append(f"test {number}: visibility {test.get('visibility')!r}")
    return problems


def write_atomic(path: Path, data: Mapping[str, Any]) -> None:
    """Write path as a whole or not at all (a temporary file, then os.replace)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(data, indent=2) + "\n"
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "w") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        # mkstemp makes it 0600; Gradescope's harness reads it as another user.
        os.chmod(temporary, 0o644)
        # Replaces whatever is there, a planted file or symlink too.
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
