"""raft-stress --sim: many seeds of the simulation, many seeds to a process.

    raft-stress --sim -n 1000 -k 2A -p 2       seeds 1..1000, 2 processes
    raft-stress --sim --seeds 5000-5999 -k 2C --sim-strategy pct -p 2

Each process runs `pytest --sim --sim-seeds A-B` over a batch of seeds
(--batch, default 100) and writes one JSON line per run. A run's outcome
does not depend on the runs before it in its process (each run reseeds the
global random, restarts the virtual clock, and tears its fixtures down).
Every failing (test, seed) is printed with the one command that replays
it, and replayed once with RAFT_DEBUG=1 to keep its full log in
--logs DIR as TEST-seed-N.log (the seed means the same run with and
without debug output). With --shrink, the first failing seed is then
shrunk (`pytest --sim-shrink`, labsim.shrink) and its account printed.
Exits 1 if any run failed.

    run(args)                      the command (args parsed by labtools.stress)
    SeedBatches(command, seeds, batch, parallel, env[, cwd])
                                   the process pool behind it: iterate for each
                                   finished Batch (seeds, results, returncode);
                                   benchmarks/sim_fidelity.py uses it too
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

from labsim.seeds import parse_seeds

DEFAULT_BATCH = 100


@dataclass
class Batch:
    """One finished `pytest --sim` process: its seeds, the JSON results it
    wrote (one dict a run), its exit status and the tail of its output."""
    seeds: List[int]
    results: List[Dict[str, Any]]
    returncode: int
    output_tail: str

    @property
    def ran_no_test(self) -> bool:
        """pytest ended without a result and not as a test run ends (0 or 1):
        a usage error, an import error, a crash."""
        return not self.results and self.returncode not in (0, 1)


@dataclass(eq=False)
class _Running:
    seeds: List[int]
    slot: int
    process: subprocess.Popen
    results: Path
    output: Any


class SeedBatches:
    """Runs `command --sim-seeds=... --sim-results=...` over seeds, batch
    seeds to a process and parallel processes at a time (each pinned to its
    own CPU slot through LABRPC_CPU, unless pin is False); iterate to get
    each batch as it ends.
    stop() kills what still runs (iteration then ends)."""

    def __init__(self, command: List[str], seeds: List[int], batch: int, parallel: int,
                 env: Dict[str, str], cwd: Optional[Path] = None, pin: bool = True) -> None:
        batch = max(1, batch)
        self.command = command
        self.env = env
        self.cwd = cwd
        self.pin = pin
        self.parallel = max(1, parallel)
        self._pending = [seeds[i:i + batch] for i in range(0, len(seeds), batch)]
        self._running: List[_Running] = []
        self.batch_count = len(self._pending)

    def __iter__(self) -> Iterator[Batch]:
        free = list(range(self.parallel))
        try:
            while self._pending or self._running:
                while self._pending and free:
                    self._start(self._pending.pop(0), free.pop(0))
                time.sleep(0.05)
                for job in [j for j in self._running if j.process.poll() is not None]:
                    if job not in self._running:
                        continue  # stop() was called at the previous yield
                    self._running.remove(job)
                    free.append(job.slot)
                    yield self._collect(job)
        finally:
            self.stop()

    def stop(self) -> None:
        self._pending.clear()
        for job in self._running:
            job.process.kill()
            job.process.wait()
            job.output.close()
            job.results.unlink(missing_ok=True)
        self._running.clear()

    def _start(self, seeds: List[int], slot: int) -> None:
        handle, name = tempfile.mkstemp(prefix="simstress-", suffix=".jsonl")
        os.close(handle)
        output = tempfile.TemporaryFile()
        process = subprocess.Popen(
            # One token each: pytest reads its paths before it knows a
            # plugin's options, and would take a lone existing file name
            # for a path to test.
            [*self.command, f"--sim-seeds={_ranges(seeds)}", f"--sim-results={name}"],
            stdout=output, stderr=subprocess.STDOUT, cwd=self.cwd,
            env=dict(self.env, LABRPC_CPU=str(slot)) if self.pin else self.env)
        self._running.append(_Running(seeds, slot, process, Path(name), output))

    @staticmethod
    def _collect(job: _Running) -> Batch:
        try:
            lines = job.results.read_text().splitlines()
            job.output.seek(0)
            tail = job.output.read().decode(errors="replace")[-2000:]
        finally:
            job.results.unlink(missing_ok=True)
            job.output.close()
        return Batch(job.seeds, [json.loads(line) for line in lines],
                     job.process.returncode, tail)


def _ranges(seeds: List[int]) -> str:
    """A compact --sim-seeds list for these seeds."""
    parts: List[str] = []
    start = prev = seeds[0]
    for seed in seeds[1:] + [None]:  # type: ignore[list-item]
        if seed is not None and seed == prev + 1:
            prev = seed
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if seed is not None:
            start = prev = seed
    return ",".join(parts)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes // 60:d}:{minutes % 60:02d}:{secs:02d}"


def _reason(report: str) -> str:
    for line in report.splitlines():
        stripped = line.strip()
        if stripped.startswith("E ") and ("Error" in stripped or "Failure" in stripped
                                          or "Sim" in stripped or "fail" in stripped):
            return stripped[1:].strip()[:200]
    for line in report.splitlines():
        if line.strip().startswith("E "):
            return line.strip()[1:].strip()[:200]
    return "failed"


def seed_list(args: Any) -> List[int]:
    if args.seeds:
        return parse_seeds(args.seeds)
    return list(range(1, args.runs + 1))


def run(args: Any) -> int:
    """The --sim path of raft-stress (args from labtools.stress)."""
    try:
        seeds = seed_list(args)
    except ValueError as err:
        print(f"raft-stress: {err}", file=sys.stderr)
        return 2
    base = [sys.executable, "-m", "pytest", "-k", args.expr, "-q", "-p", "no:cacheprovider",
            "--sim", f"--sim-strategy={args.sim_strategy}", *args.pytest_args]
    if args.race:
        base.append("--race")
    env = dict(os.environ)
    env.pop("RAFT_DEBUG", None)
    args.logs.mkdir(parents=True, exist_ok=True)
    batches = SeedBatches(base, seeds, args.batch, args.parallel, env)
    print(f"stress --sim: seeds {_ranges(seeds)} of `pytest -k {args.expr}` (strategy "
          f"{args.sim_strategy}), {batches.batch_count} batch(es), {batches.parallel} at a "
          f"time; failing seeds' logs in {args.logs}/", flush=True)
    begun = time.monotonic()
    runs = passed = seeds_done = 0
    failures: List[Tuple[Dict[str, Any], Path]] = []
    try:
        for batch in batches:
            if batch.ran_no_test:
                print(f"stress --sim: the batch of seeds {_ranges(batch.seeds)} ran no "
                      f"test (exit {batch.returncode}):\n{batch.output_tail}", flush=True)
                failures.append(({"name": "(batch)", "seed": batch.seeds[0],
                                  "replay": "", "report": batch.output_tail}, Path("-")))
            for result in batch.results:
                runs += 1
                if result["outcome"] != "failed":
                    passed += 1
                    continue
                log = _keep_log(args, result, base, env)
                failures.append((result, log))
                print(f"FAIL {result['name']} seed {result['seed']} at "
                      f"{_clock(time.monotonic() - begun)}: "
                      f"{_reason(result.get('report', ''))}\n"
                      f"    replay: {result['replay']}\n    log: {log}", flush=True)
            seeds_done += len(batch.seeds)
            print(f"[{seeds_done}/{len(seeds)} seeds] {runs} runs, {passed} passed, "
                  f"{len(failures)} failed, {_clock(time.monotonic() - begun)}", flush=True)
            if args.first_failure and failures:
                batches.stop()
    except KeyboardInterrupt:
        batches.stop()
        print("\nstress --sim: interrupted", flush=True)
    wall = time.monotonic() - begun
    print(f"stress --sim: {passed}/{runs} runs passed, {len(failures)} failed in "
          f"{_clock(wall)} ({wall:.1f} s)")
    for result, log in failures:
        print(f"  {result['name']} seed {result['seed']}: {result['replay']}\n    log: {log}")
    first = next((result for result, _ in failures if result["name"] != "(batch)"), None)
    if getattr(args, "shrink", False) and first is not None:
        _shrink(args, first, base, env)
    return 1 if failures or seeds_done < len(seeds) else 0


def _shrink(args: Any, result: Dict[str, Any], base: List[str], env: Dict[str, str]) -> None:
    """Shrink one failing seed in a pytest of its own; print its account."""
    folder = args.logs / "shrunk"
    command = [*base, "-k", result["name"], f"--sim-seed={result['seed']}", "--sim-shrink",
               "--shrink-dir", str(folder)]
    print(f"\nstress --sim: shrinking {result['name']} seed {result['seed']} "
          f"(pytest --sim-shrink) ...", flush=True)
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env)
    text = done.stdout.decode(errors="replace")
    lines = text.splitlines()
    heads = [i for i, line in enumerate(lines) if "labsim: shrunk runs" in line]
    if not heads:
        print(f"stress --sim: the shrink gave no account:\n{text[-2000:]}", flush=True)
        return
    account = []
    for line in lines[heads[0] + 1:]:
        if line.startswith("===="):
            break
        account.append(line)
    print("\n".join(account), flush=True)


def _keep_log(args: Any, result: Dict[str, Any], base: List[str],
              env: Dict[str, str]) -> Path:
    """Replay the failing seed with DPrintf on; keep what it printed."""
    log = args.logs / f"{result['name']}-seed-{result['seed']}.log"
    command = [*base, "-k", result["name"], f"--sim-seed={result['seed']}"]
    if args.no_debug:
        log.write_text(result.get("report", ""))
        return log
    replay = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=dict(env, RAFT_DEBUG="1"), timeout=600)
    text = replay.stdout.decode(errors="replace")
    note = "" if replay.returncode != 0 else (
        "NOTE: the replay with RAFT_DEBUG=1 passed; the failing run's report follows.\n"
        + result.get("report", "") + "\n\n")
    log.write_text(f"# replay: {result['replay']}\n{note}{text}")
    return log
