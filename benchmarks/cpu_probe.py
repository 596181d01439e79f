"""A pytest plugin for record_cost.py: the CPU time of the tests alone.

    CPU_PROBE_FILE=out.txt python -m pytest -p benchmarks.cpu_probe ...   (from the repository root)

Writes the process's CPU seconds (user + system, every thread) from the
first test's setup to the end of the session into CPU_PROBE_FILE: the
tests' own CPU, without the interpreter's and pytest's start-up and the
collection, which are the same with the monitors on or off.
"""

from __future__ import annotations

import os
import resource
from typing import Any, Optional

_began: Optional[float] = None


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def pytest_runtest_setup(item: Any) -> None:
    global _began
    if _began is None:
        _began = _cpu()


def pytest_sessionfinish(session: Any) -> None:
    path = os.environ.get("CPU_PROBE_FILE")
    if path and _began is not None:
        with open(path, "w") as out:
            out.write(f"{_cpu() - _began:.6f}\n")
