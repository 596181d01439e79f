"""How often `pytest -k 2A --race` reports each planted race bug.

    python -m benchmarks.race_bugs [-n 10] [--whole] [bug ...]

The race bugs are the catalogue's entries with a REPORT (tests/bugs/).
Each run writes the solution with the bug into a lab tree (as the grader
does), runs `pytest -x -k 2A --race` there, and counts it as found when the
run fails with the report the bug should give. -x stops
the run at its first failure, which is all a report needs (--whole runs
all three tests, as a student's `pytest -k 2A --race` does). Prints, per bug,
found/runs and the seconds a run took, then the first report seen.
"""

from __future__ import annotations

import argparse

from tests.bugs import race_bugs, run_race_check


def first_report(output: str) -> str:
    """The failure message pytest printed (its 'E ' lines), without the prefix."""
    lines = [line[4:] if line.startswith("E   ") else line[2:]
             for line in output.splitlines() if line.startswith("E ")]
    starts = [i for i, line in enumerate(lines)
              if "race on" in line or "called while holding" in line]
    if not starts:
        return ""
    end = starts[1] if len(starts) > 1 else starts[0] + 14
    return "\n".join(lines[starts[0]:end])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10, help="runs a bug (default 10)")
    parser.add_argument("--whole", action="store_true",
                        help="run all of -k 2A, not only up to the first failure")
    parser.add_argument("bugs", nargs="*", help="race bugs to run (default: all)")
    args = parser.parse_args()
    for bug in race_bugs(args.bugs):
        found, seconds, example = 0, [], ""
        for _ in range(args.n):
            ok, output, took = run_race_check(bug, args.whole)
            found += ok
            seconds.append(took)
            if ok and not example:
                example = first_report(output)
            if not ok:
                print(f"--- {bug.name}: a run without the expected report:\n{output[-3000:]}")
        print(f"{bug.name:28} found {found}/{args.n}  "
              f"{min(seconds):.1f}-{max(seconds):.1f} s a run  ({bug.description})")
        print("    " + example.replace("\n", "\n    "))


if __name__ == "__main__":
    main()
