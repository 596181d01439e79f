"""The worker processes behind raft-chaos, and the seeds they are handed.

    explorer = Explorer(workers, peers, record_dir, lags)
    for result in explorer.run(runs, deadline):   runs: (part, seed) pairs
        ...                                        each SeedResult as it ends
    explorer.stop()                                kill what still runs

Each worker (labtools.chaos.worker) gets one seed at a time, and the next
when it answers, so a slow seed holds up no other. A worker is started with
this process's sys.path, so it imports the same raft.py as the command
did (a sandbox's src/ first, say), and is pinned to a CPU slot of its own
(LABRPC_CPU, as raft-stress --sim does). A worker that dies mid-seed (the
simulator's escape report exits the process) is replaced, and its seed
run again: a seed that kills its worker twice yields a failed result,
with the exit status; one that passes the second time was killed from
outside (a signal), which stderr notes.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, IO, Iterator, List, Optional, Tuple

from labtools.chaos.judgement import WORKER_DIED_RULE
from labtools.chaos.scenario import SeedResult, seed_generator

_BOOT = ("import json, sys; sys.path[:] = json.loads(sys.argv[1]); "
         "from labtools.chaos.{module} import main; sys.exit(main(sys.argv[2:]))")


def command_of(module: str, args: List[str]) -> List[str]:
    """A Python process that runs labtools.chaos.<module>.main(args) with this
    process's sys.path (so that it imports the same raft.py)."""
    return [sys.executable, "-c", _BOOT.format(module=module), json.dumps(sys.path), *args]


# How often the explorer looks at the clock while it waits for results.
TICK_S = 0.2


@dataclass(eq=False)
class _Worker:
    slot: int
    process: subprocess.Popen
    running: Optional[Tuple[str, int]] = None
    # This worker runs its seed a second time: the worker before it died.
    again: bool = False


class Explorer:
    def __init__(self, workers: int, peers: Optional[int] = None,
                 record_dir: Optional[Path] = None, lags: bool = False) -> None:
        self.count = workers
        self.options: List[str] = []
        if peers is not None:
            self.options += ["--peers", str(peers)]
        if record_dir is not None:
            self.options += ["--record-failed", str(record_dir.resolve())]
        if lags:
            self.options.append("--lags")
        self.peers = peers
        self._workers: List[_Worker] = []
        self._selector = selectors.DefaultSelector()

    def _start(self, slot: int) -> _Worker:
        env = dict(os.environ, LABRPC_CPU=str(slot))
        process = subprocess.Popen(
            command_of("worker", self.options),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1, env=env)
        worker = _Worker(slot, process)
        self._selector.register(process.stdout, selectors.EVENT_READ, worker)
        self._workers.append(worker)
        return worker

    def run(self, runs: Iterator[Tuple[str, int]],
            deadline: Optional[float] = None) -> Iterator[SeedResult]:
        """Each result as it comes, until runs or the time (a monotonic
        deadline) run out; what runs at the deadline is dropped."""
        try:
            for slot in range(self.count):
                first = next(runs, None)
                if first is None:
                    break  # fewer runs than workers
                self._give(self._start(slot), first)
            while any(worker.running for worker in self._workers):
                if deadline is not None and time.monotonic() >= deadline:
                    return
                for key, _ in self._selector.select(timeout=TICK_S):
                    worker: _Worker = key.data
                    result = self._collect(worker, key.fileobj)
                    if result is not None:
                        yield result
                        self._give(worker, next(runs, None))
                        worker.again = False
        finally:
            self.stop()

    def _give(self, worker: _Worker, nxt: Optional[Tuple[str, int]]) -> None:
        """Hand worker its next seed; with none left, let it end."""
        if nxt is None:
            worker.running = None
            self._retire(worker)
            return
        worker.running = nxt
        worker.process.stdin.write(f"{nxt[0]} {nxt[1]}\n")
        worker.process.stdin.flush()

    def _collect(self, worker: _Worker, stream: IO[str]) -> Optional[SeedResult]:
        """The worker's result; None if it died and a new worker runs its seed again."""
        line = stream.readline()
        if line:
            worker.running = None
            return SeedResult.from_json(json.loads(line))
        part, seed = worker.running
        worker.running = None
        code = worker.process.wait()
        self._retire(worker)
        if not worker.again:
            # A seed is the same run every time: if it kills its worker
            # again, the seed did it; if not, something outside did (a signal).
            print(f"raft-chaos: the worker running seed {seed} of {part} exited with status "
                  f"{code}; running the seed again in a new worker", file=sys.stderr,
                  flush=True)
            again = self._start(worker.slot)
            again.again = True
            self._give(again, (part, seed))
            return None
        return SeedResult(seed, part, self.peers or seed_generator(seed, part)[1], ok=False,
                          rule=WORKER_DIED_RULE,
                          message=f"the worker process running this seed exited with "
                                  f"status {code}, twice (its report is on stderr above)")

    def _retire(self, worker: _Worker) -> None:
        try:
            self._selector.unregister(worker.process.stdout)
        except (KeyError, ValueError):
            pass
        if worker.process.stdin and not worker.process.stdin.closed:
            try:
                worker.process.stdin.close()
            except OSError:
                pass

    def stop(self) -> None:
        """Kill every worker still running, and wait for it."""
        for worker in self._workers:
            self._retire(worker)
            if worker.process.poll() is None:
                worker.process.kill()
            worker.process.wait()
            worker.process.stdout.close()
        self._workers.clear()
        self._selector.close()


def seed_runs(parts: List[str], seeds: Iterator[int]) -> Iterator[Tuple[str, int]]:
    """(part, seed) for each seed, each part in turn."""
    for seed in seeds:
        for part in parts:
            yield part, seed


def count_by_part(results: List[SeedResult]) -> Dict[str, int]:
    """How many results each part has, in part order."""
    counts: Dict[str, int] = {}
    for result in sorted(results, key=lambda result: result.part):
        counts[result.part] = counts.get(result.part, 0) + 1
    return counts
