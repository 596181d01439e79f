"""The virtual clock of one simulated run.

Time moves only in two ways: each synchronisation point costs a fixed
virtual step (the CPU is not infinitely fast, so a loop that never sleeps
still sees time pass), and when no thread can run the scheduler jumps the
clock to the earliest pending deadline (trio's autojump rule).

monotonic() and perf_counter() read MONOTONIC_ORIGIN + elapsed, time()
reads WALL_ORIGIN + elapsed: the same numbers in every run and process.
"""

from __future__ import annotations

# Where the virtual clocks start; fixed so that a run prints the same times.
MONOTONIC_ORIGIN = 1000.0
WALL_ORIGIN = 1_800_000_000.0  # 2027-01-15, a fixed wall-clock date
# The virtual cost of one synchronisation point.
DEFAULT_STEP_COST_S = 25e-6


class VirtualClock:
    __slots__ = ("elapsed", "step_cost")

    def __init__(self, step_cost: float = DEFAULT_STEP_COST_S) -> None:
        if step_cost < 0:
            raise ValueError(f"step cost must be >= 0 s, got {step_cost!r}")
        self.elapsed = 0.0
        self.step_cost = step_cost

    def monotonic(self) -> float:
        return MONOTONIC_ORIGIN + self.elapsed

    def wall(self) -> float:
        return WALL_ORIGIN + self.elapsed

    def deadline(self, timeout: float) -> float:
        """The elapsed time at which a wait of timeout seconds ends."""
        return self.elapsed + max(0.0, timeout)
