"""Child processes run a few at a time: the pool behind both stress loops
(labtools.stress's real-time runs, labtools.simstress's seed batches) and
benchmarks.sim_fidelity.

    pool = ProcessPool(parallel=2)        at most 2 children at a time
    pool.add(command, env, data=...)      queue a job (first=True: ahead of the queue)
    for job in pool.finished(watch=fn):   each job as it ends; fn(job) is called
        job.returncode, job.output()      for each running job every tick, and
                                          once more as it ends, before it is yielded
    pool.stop()                           kill and reap every running child and
                                          drop the queue; returns how many were killed
    pool.started                          every job started so far (job.process: its Popen)
    clock(seconds)                        "H:MM:SS", the loops' time stamps

Leaving finished() early (break, an exception, Ctrl-C) stops the pool, and
so does leaving `with ProcessPool(...) as pool:`; no child outlives it.
Jobs added after stop() run at the next finished() (or in the one still
iterating): a loop can stop the other runs, then replay the failing one.

Each child gets LABRPC_CPU=SLOT, its slot 0..parallel-1, unless pin is
False, so that parallel children spread over the CPUs (labrpc.affinity).
Its stdout and stderr go to a temporary file, read with job.output().
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Callable, Dict, Iterator, List, Optional, Sequence

# How often the running children are polled: short beside a test's seconds.
TICK_S = 0.05


def clock(seconds: float) -> str:
    """Seconds as H:MM:SS."""
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60:d}:{minutes % 60:02d}:{secs:02d}"


@dataclass(eq=False)
class Job:
    """One child process: queued, running, then ended (returncode set) or
    killed by stop() (killed True)."""
    command: List[str]
    env: Dict[str, str]
    cwd: Optional[Path] = None
    data: Any = None  # the caller's own: what the job is for
    slot: Optional[int] = None
    process: Optional[subprocess.Popen] = None
    started: float = 0.0  # time.monotonic() at start
    ended: float = 0.0
    killed: bool = False
    _output: Optional[IO[bytes]] = field(default=None, repr=False)

    @property
    def returncode(self) -> Optional[int]:
        return None if self.process is None else self.process.returncode

    @property
    def took(self) -> float:
        return (self.ended or time.monotonic()) - self.started

    def output(self) -> str:
        """What the child printed so far (all of it, once it has ended)."""
        if self._output is None:
            return ""
        self._output.seek(0)
        return self._output.read().decode(errors="replace")

    def _close(self) -> None:
        if self._output is not None:
            self._output.close()
            self._output = None


class ProcessPool:
    """Runs queued jobs as child processes, parallel at a time."""

    def __init__(self, parallel: int, pin: bool = True) -> None:
        if parallel < 1:
            raise ValueError(f"a pool needs at least 1 process at a time, got {parallel}")
        self.parallel = parallel
        self.pin = pin
        self.pending: List[Job] = []
        self.running: List[Job] = []
        self.started: List[Job] = []
        self._free = list(range(parallel))

    def __enter__(self) -> "ProcessPool":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def add(self, command: Sequence[str], env: Dict[str, str], cwd: Optional[Path] = None,
            data: Any = None, first: bool = False) -> Job:
        job = Job(list(command), env, cwd, data)
        if first:
            self.pending.insert(0, job)
        else:
            self.pending.append(job)
        return job

    def finished(self, watch: Optional[Callable[[Job], None]] = None) -> Iterator[Job]:
        """Start queued jobs as slots free up; yield each job as it ends.
        watch(job), if given, sees each running job every tick and each
        ended job once before it is yielded; it may add jobs or stop()."""
        try:
            while self.pending or self.running:
                while self.pending and self._free:
                    self._start(self.pending.pop(0), self._free.pop(0))
                time.sleep(TICK_S)
                for job in list(self.running):
                    if job not in self.running:
                        continue  # stopped by a watch of this tick
                    if job.process.poll() is None:
                        if watch is not None:
                            watch(job)
                        continue
                    job.ended = time.monotonic()
                    self.running.remove(job)
                    self._free.append(job.slot)
                    try:
                        if watch is not None:
                            watch(job)
                        yield job
                    finally:
                        job._close()
        finally:
            self.stop()

    def stop(self) -> int:
        """Drop the queue; kill every running child and wait for each (no
        zombie, no orphan). Returns how many were running."""
        self.pending.clear()
        stopping, self.running = self.running, []
        for job in stopping:
            job.process.kill()
        for job in stopping:
            job.process.wait()
            job.ended = time.monotonic()
            job.killed = True
            job._close()
            self._free.append(job.slot)
        return len(stopping)

    def _start(self, job: Job, slot: int) -> None:
        job.slot = slot
        job._output = tempfile.TemporaryFile()
        env = dict(job.env, LABRPC_CPU=str(slot)) if self.pin else job.env
        try:
            job.process = subprocess.Popen(job.command, stdout=job._output,
                                           stderr=subprocess.STDOUT, cwd=job.cwd, env=env)
        except BaseException:
            job._close()
            self._free.append(slot)
            raise
        job.started = time.monotonic()
        self.running.append(job)
        self.started.append(job)
