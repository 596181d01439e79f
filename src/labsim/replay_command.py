"""The command that replays one simulated run: the seed and every option that
changes the run, as a student would type it.

    replay_command(config, item, seed)   "pytest --sim --sim-seed 7731 -k TestX"
"""

from __future__ import annotations

import re

import pytest

from labsim.clock import DEFAULT_STEP_COST_S
from labsim.core import BUSY_STEPS
from labsim.strategies import DEFAULT_PERTURB_S


def replay_command(config: pytest.Config, item: pytest.Item, seed: int) -> str:
    parts = ["pytest", "--sim", "--sim-seed", str(seed)]
    strategy = config.getoption("sim_strategy")
    if strategy != "random":
        parts += ["--sim-strategy", strategy]
    perturb = config.getoption("sim_perturb")
    if perturb != DEFAULT_PERTURB_S * 1000:
        parts += ["--sim-perturb", f"{perturb:g}"]
    step_cost = config.getoption("sim_step_cost")
    if step_cost != DEFAULT_STEP_COST_S * 1e6:
        parts += ["--sim-step-cost", f"{step_cost:g}"]
    busy_steps = config.getoption("sim_busy_steps")
    if busy_steps != BUSY_STEPS:
        parts += ["--sim-busy-steps", str(busy_steps)]
    if config.getoption("race", False):
        parts.append("--race")
    if re.fullmatch(r"\w+", item.name):
        parts += ["-k", item.name]
    else:
        parts.append(f"'{item.nodeid}'")
    return " ".join(parts)
