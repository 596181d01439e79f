"""One raft-chaos worker process: seeds in on stdin, results out.

    python -c "...; from labtools.chaos.worker import main; main()" OPTIONS < seeds
    (labtools.chaos.explorer starts it with the parent's sys.path, so the
    worker imports the same raft.py as the command)

Reads one line a seed ("PART SEED"), runs it (labtools.chaos.scenario)
and writes one JSON line (SeedResult.to_json) to the result stream: a copy
of fd 1 taken at start-up. fd 1 itself then points at fd 2, so whatever
raft.py prints goes to the terminal's stderr and cannot corrupt the
results. With RAFT_DEBUG=1, DPrintf lines go to stderr too (for
raft-logview), as they do under `python -m raft --debug`. Ctrl-C is the
command's to handle (it stops the workers): a worker ignores it. Ends at
the end of its input.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from pathlib import Path
from typing import List, Optional

from labtools.chaos.scenario import run_seed
from raft import util


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="raft-chaos worker")
    parser.add_argument("--peers", type=int, default=None)
    parser.add_argument("--record-failed", type=Path, default=None)
    parser.add_argument("--lags", action="store_true")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    results = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if util.Debug:
        logging.basicConfig(stream=sys.stderr, format="%(message)s")
    try:
        for line in sys.stdin:
            if not line.strip():
                continue
            part, seed = line.split()
            result = run_seed(int(seed), part, args.peers, args.record_failed, args.lags)
            results.write(json.dumps(result.to_json()) + "\n")
            results.flush()
    except BrokenPipeError:
        pass  # the command is gone (killed): so is the one who wanted the result
    return 0
