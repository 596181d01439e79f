"""Delta debugging against Hypothesis's shrinker, on the same departures.

    pip install hypothesis        (not a dependency of the lab: this benchmark only)
    python -m benchmarks.shrink_hypothesis                      the bugs below
    python -m benchmarks.shrink_hypothesis vote_twice --shrink-time 30

For each bug, its first failing seed (as benchmarks.shrink_catalogue finds
it) is shrunk twice with `pytest --sim-shrink`: once with labsim.ddmin, and
once with this module as a plugin, which puts Hypothesis's shrinker in
ddmin's place: an example is one boolean per departure of the seed's run
(keep it or not), the seed's run is the example all True, and Hypothesis's
engine (ConjectureRunner: cached_test_function, shrink_interesting_test_cases)
shrinks it towards all False, each call one simulated run, as the ddmin
tries are. Prints, per bug and per shrinker: departures before and after,
tries, seconds.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Hashable, List, Optional

from benchmarks.shrink_catalogue import _pytest, find_seed
from tests.bugs import catalogue

ROOT = Path(__file__).resolve().parents[1]
# Bugs whose seed's calm run passes (the others shrink to nothing in one try).
DEFAULT_BUGS = ["no_heartbeat_reset", "stale_vote_granted", "vote_without_term_update",
                "equal_timeouts"]


class HypothesisMinimizer:
    """labsim.ddmin.Minimizer's interface, with Hypothesis's shrinker inside."""

    def __init__(self, attempt: Callable[[List[Any]], Optional[List[Any]]],
                 deadline: Optional[float] = None, clock: Any = None,
                 group_of: Optional[Callable[[Any], Hashable]] = None) -> None:
        self._attempt = attempt
        self._deadline = deadline
        self.tries = 0
        self.timed_out = False
        self.best: List[Any] = []

    def minimize(self, items: List[Any]) -> List[Any]:
        from hypothesis import HealthCheck, Phase, settings
        from hypothesis.internal.conjecture import engine
        from hypothesis.internal.conjecture.data import Status
        from hypothesis.internal.escalation import InterestingOrigin

        self.best = list(items)
        if self._deadline is not None:
            engine.MAX_SHRINKING_SECONDS = max(1, int(self._deadline - time.monotonic()))
        # One boolean per departure: more than its default room for a long run.
        engine.BUFFER_SIZE = max(engine.BUFFER_SIZE, 8 * len(items))
        origin = InterestingOrigin.from_exception(AssertionError("fails the same way"))

        def test(data: Any) -> None:
            kept = [item for item in items if data.draw_boolean()]
            self.tries += 1
            used = self._attempt(kept)
            if used is not None:
                if len(used) < len(self.best):
                    self.best = used
                data.mark_interesting(origin)

        runner = engine.ConjectureRunner(
            test, settings=settings(database=None, deadline=None, max_examples=10**6,
                                    phases=[Phase.shrink],
                                    suppress_health_check=list(HealthCheck)))
        first = runner.cached_test_function([True] * len(items))
        if first.status == Status.INTERESTING:
            try:
                runner.shrink_interesting_test_cases()
            except engine.RunIsComplete:
                pass
        self.timed_out = self._deadline is not None and time.monotonic() >= self._deadline
        return self.best


def pytest_configure(config: Any) -> None:
    from labsim import shrink
    shrink.Minimizer = HypothesisMinimizer     # (this benchmark's own processes only)


def _shrink(sandbox: Path, test: str, seed: str, seconds: float, hypothesis: bool) -> str:
    extra = ["-p", "benchmarks.shrink_hypothesis"] if hypothesis else []
    os.environ["PYTHONPATH"] = str(ROOT)
    out = _pytest(sandbox, ["--sim", "--sim-seed", seed, "-k", test, "--sim-shrink",
                            "--shrink-time", str(seconds), "--shrink-dir",
                            "hypothesis" if hypothesis else "ddmin", *extra],
                  timeout=seconds * 4 + 300)
    account = re.search(r"fails with ([\d,]+) departures? \(of ([\d,]+) in seed", out)
    search = re.search(r"search: +(\d+) tries in ([\d.]+) s", out)
    if account is None or search is None:
        return "no account: " + " / ".join(out.strip().splitlines()[-3:])[:200]
    noun = "departure" if account.group(1) == "1" else "departures"
    return (f"{account.group(2)} -> {account.group(1)} {noun}, {search.group(1)} tries, "
            f"{search.group(2)} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bugs", nargs="*", default=DEFAULT_BUGS)
    parser.add_argument("--shrink-time", type=float, default=60.0)
    args = parser.parse_args()
    try:
        import hypothesis
    except ImportError:
        parser.error("needs Hypothesis: pip install hypothesis")
    print(f"Hypothesis {hypothesis.__version__}; --shrink-time {args.shrink_time:.0f}")
    print("| bug | test | seed | ddmin | Hypothesis |")
    print("|---|---|---|---|---|", flush=True)
    for bug in catalogue(args.bugs):
        sandbox = bug.lab_tree(Path(tempfile.mkdtemp(prefix=f"hypothesis-{bug.name}-")))
        found = find_seed(bug, sandbox, 120.0)
        if found is None:
            print(f"| {bug.name} | - | - | no failing seed | |", flush=True)
            continue
        cells = [_shrink(sandbox, found["test"], found["seed"], args.shrink_time, hypothesis)
                 for hypothesis in (False, True)]
        print(f"| {bug.name} | {found['test']} | {found['seed']} | {cells[0]} | {cells[1]} |",
              flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
