"""DPrintf: debug printing that costs nothing when it is off.

Off by default. Turn it on with the environment variable RAFT_DEBUG=1
(before the test process starts). Lines go to the "raft" logger at DEBUG
level, so pytest shows them under "Captured log call" for a failing test
and keeps them out of the way for passing ones; outside pytest, configure
logging (python -m raft does) to see them.

Like Go's log.Printf, each line starts with its time: milliseconds since the
process started debugging, six digits or more (raft-logview reads
this, whatever else the logging format adds).
"""

from __future__ import annotations

import logging
import os
import time
from typing import Any

import labsim
from labsim.clock import MONOTONIC_ORIGIN

ENV_VAR = "RAFT_DEBUG"

logger = logging.getLogger("raft")

Debug = os.environ.get(ENV_VAR, "").strip().lower() not in ("", "0", "false", "no", "off")
if Debug:
    logger.setLevel(logging.DEBUG)


_START = time.monotonic()


def DPrintf(format: str, *args: Any) -> None:
    """Log format % args, after the time, when debugging is on (Go's DPrintf)."""
    if Debug:
        # Under the simulation (pytest --sim) every run starts its clock at the
        # same virtual instant, so that a seed prints the same lines.
        start = MONOTONIC_ORIGIN if labsim.active() is not None else _START
        elapsed_ms = int((time.monotonic() - start) * 1000)
        logger.debug("%06d " + format, elapsed_ms, *args)
