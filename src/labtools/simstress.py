"""raft-stress --sim: many seeds of the simulation, many seeds to a process.

    raft-stress --sim -n 1000 -k 2A -p 2       seeds 1..1000, 2 processes
    raft-stress --sim --seeds 5000-5999 -k 2C --sim-strategy pct -p 2
    raft-stress --sim -n 1000 -k 2A --first-failure   stop all at the first failing seed

Each process runs `pytest --sim --sim-seeds A-B` over a batch of seeds
(--batch, default 100) and writes one JSON line per run as the run ends;
the loop follows those files, so a failing (test, seed) is printed the
moment its run ends, not when its batch does: with the command that
replays it and its log, --logs DIR/TEST-seed-N.log. The log holds the
run's report at once, then everything the seed's replay with RAFT_DEBUG=1
prints (the seed means the same run with and without debug output; the
replays take the pool's free slots ahead of the batches not yet started).
--first-failure kills every running process at the first failing seed,
then replays that one. With --shrink, the first failing seed is then
shrunk (`pytest --sim-shrink`, labsim.shrink) and its account printed. A
run's outcome does not depend on the runs before it in its process (each
run reseeds the global random, restarts the virtual clock, and tears its
fixtures down). Exits 1 if any run failed.

    run(args)                      the command (args parsed by labtools.stress)
    add_seed_batches(pool, command, seeds, batch, env, folder[, cwd])
                                   queue the batches on a labtools.pool.ProcessPool;
                                   each job's data is a SeedBatch (its seeds,
                                   new_results(), ran_no_test(job));
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from labsim.seeds import parse_seeds
from labtools.pool import Job, ProcessPool, clock

DEFAULT_BATCH = 100


@dataclass
class SeedBatch:
    """The seeds of one `pytest --sim` process and the file of results it
    writes, one JSON line (a dict) per run as the run ends."""
    seeds: List[int]
    results_file: Path
    results: List[Dict[str, Any]] = field(default_factory=list)
    _read_up_to: int = 0  # bytes of results_file already parsed

    def new_results(self) -> List[Dict[str, Any]]:
        """The runs whose lines appeared since the last call. Only whole
        lines: the process may be writing one right now."""
        try:
            with open(self.results_file, "rb") as results:
                results.seek(self._read_up_to)
                chunk = results.read()
        except FileNotFoundError:
            return []  # no run has ended yet
        complete = chunk.rfind(b"\n") + 1
        self._read_up_to += complete
        new = [json.loads(line) for line in chunk[:complete].splitlines() if line.strip()]
        self.results.extend(new)
        return new

    def ran_no_test(self, job: Job) -> bool:
        """pytest ended without a result and not as a test run ends (0 or 1):
        a usage error, an import error, a crash."""
        return not job.killed and not self.results and job.returncode not in (0, 1)


def add_seed_batches(pool: ProcessPool, command: List[str], seeds: List[int], batch: int,
                     env: Dict[str, str], folder: Path, cwd: Optional[Path] = None
                     ) -> List[Job]:
    """Queue `command --sim-seeds=A-B --sim-results=FILE`, batch seeds to a
    process; each job's data is its SeedBatch, its FILE in folder."""
    batch = max(1, batch)
    jobs = []
    for start in range(0, len(seeds), batch):
        chosen = seeds[start:start + batch]
        results = folder / f"seeds-{chosen[0]}-{chosen[-1]}-{start}.jsonl"
        # One token each: pytest reads its paths before it knows a plugin's
        # options, and would take a lone existing file name for a path to test.
        jobs.append(pool.add([*command, f"--sim-seeds={seed_ranges(chosen)}",
                              f"--sim-results={results}"], env, cwd=cwd,
                             data=SeedBatch(chosen, results)))
    return jobs


def seed_ranges(seeds: List[int]) -> str:
    """The seeds as a --sim-seeds list of A-B ranges. Always ranges, a lone
    seed as N-N: a bare N in --sim-seeds means the seeds 1..N."""
    parts: List[str] = []
    start = prev = seeds[0]
    for seed in seeds[1:] + [None]:  # type: ignore[list-item]
        if seed is not None and seed == prev + 1:
            prev = seed
            continue
        parts.append(f"{start}-{prev}")
        if seed is not None:
            start = prev = seed
    if len(parts) == 1 and "-" not in parts[0]:
        return f"{parts[0]}-{parts[0]}"  # a bare N would be the seeds 1..N
    return ",".join(parts)


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


@dataclass
class _Replay:
    """A failing seed replayed with DPrintf on, for its log."""
    result: Dict[str, Any]
    log: Path


class _SimStress:
    """One raft-stress --sim: the pool, what it found, and the printing."""

    def __init__(self, args: Any, seeds: List[int], folder: Path) -> None:
        self.args = args
        self.seeds = seeds
        self.folder = folder
        self.command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        "--sim", f"--sim-strategy={args.sim_strategy}", *args.pytest_args]
        if args.race:
            self.command.append("--race")
        self.env = dict(os.environ)
        self.env.pop("RAFT_DEBUG", None)
        self.pool = ProcessPool(args.parallel)
        self.begun = time.monotonic()
        self.runs = self.passed = self.seeds_done = 0
        self.failures: List[Tuple[Dict[str, Any], Path]] = []
        self.stopped = False  # by --first-failure

    def run(self) -> int:
        args = self.args
        jobs = add_seed_batches(self.pool, [*self.command, "-k", args.expr], self.seeds,
                                args.batch, self.env, self.folder)
        print(f"stress --sim: seeds {seed_ranges(self.seeds)} of `pytest -k {args.expr}` "
              f"(strategy {args.sim_strategy}), {len(jobs)} batch(es), "
              f"{min(args.parallel, len(jobs))} at a time; failing seeds' logs in "
              f"{args.logs}/", flush=True)
        try:
            for job in self.pool.finished(watch=self._follow):
                if isinstance(job.data, _Replay):
                    self._keep_replay(job)
                else:
                    self._batch_ended(job)
        except KeyboardInterrupt:
            self.pool.stop()
            print("\nstress --sim: interrupted", flush=True)
        wall = time.monotonic() - self.begun
        print(f"stress --sim: {self.passed}/{self.runs} runs passed, {len(self.failures)} "
              f"failed in {clock(wall)} ({wall:.1f} s)")
        for result, log in self.failures:
            print(f"  {result['name']} seed {result['seed']}: {result['replay']}\n"
                  f"    log: {log}")
        first = next((result for result, _ in self.failures if result["name"] != "(batch)"),
                     None)
        if getattr(args, "shrink", False) and first is not None:
            self._shrink(first)
        return 1 if self.failures or self.seeds_done < len(self.seeds) else 0

    def _shrink(self, result: Dict[str, Any]) -> None:
        """Shrink one failing seed in a pytest of its own; print its account."""
        folder = self.args.logs / "shrunk"
        command = [*self.command, "-k", result["name"], f"--sim-seed={result['seed']}",
                   "--sim-shrink", f"--shrink-dir={folder}"]
        print(f"\nstress --sim: shrinking {result['name']} seed {result['seed']} "
              f"(pytest --sim-shrink) ...", flush=True)
        done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              env=self.env)
        lines = done.stdout.decode(errors="replace").splitlines()
        heads = [i for i, line in enumerate(lines) if "labsim: shrunk runs" in line]
        if not heads:
            print("stress --sim: the shrink gave no account:\n" + "\n".join(lines[-30:]),
                  flush=True)
            return
        account = []
        for line in lines[heads[0] + 1:]:
            if line.startswith("===="):
                break
            account.append(line)
        print("\n".join(account), flush=True)

    def _follow(self, job: Job) -> None:
        if isinstance(job.data, SeedBatch):
            for result in job.data.new_results():
                self._take(result)

    def _take(self, result: Dict[str, Any]) -> None:
        if self.stopped:
            return  # only the first failure counts with --first-failure
        self.runs += 1
        if result["outcome"] != "failed":
            self.passed += 1
            return
        log = self.args.logs / f"{result['name']}-seed-{result['seed']}.log"
        report = result.get("report", "")
        log.write_text(f"# replay: {result['replay']}\n{report}")
        self.failures.append((result, log))
        debug = "" if self.args.no_debug else " (then its replay with DPrintf on)"
        print(f"FAIL {result['name']} seed {result['seed']} at "
              f"{clock(time.monotonic() - self.begun)}: {_reason(report)}\n"
              f"    replay: {result['replay']}\n    log: {log}{debug}", flush=True)
        if self.args.first_failure:
            self.stopped = True
            killed = self.pool.stop()
            print(f"stress --sim: --first-failure: stopped {killed} running "
                  "process(es)", flush=True)
        if not self.args.no_debug:
            self.pool.add([*self.command, "-k", result["name"],
                           f"--sim-seed={result['seed']}"],
                          dict(self.env, RAFT_DEBUG="1"), data=_Replay(result, log),
                          first=True)

    def _batch_ended(self, job: Job) -> None:
        batch: SeedBatch = job.data
        if batch.ran_no_test(job):
            tail = job.output()[-2000:]
            print(f"stress --sim: the batch of seeds {seed_ranges(batch.seeds)} ran no "
                  f"test (exit {job.returncode}):\n{tail}", flush=True)
            self.failures.append(({"name": "(batch)", "seed": batch.seeds[0],
                                   "replay": "", "report": tail}, Path("-")))
        self.seeds_done += len(batch.seeds)
        print(f"[{self.seeds_done}/{len(self.seeds)} seeds] {self.runs} runs, "
              f"{self.passed} passed, {len(self.failures)} failed, "
              f"{clock(time.monotonic() - self.begun)}", flush=True)

    @staticmethod
    def _keep_replay(job: Job) -> None:
        replay: _Replay = job.data
        note = "" if job.returncode != 0 else (
            "NOTE: the replay with RAFT_DEBUG=1 passed; the failing run's report follows.\n"
            + replay.result.get("report", "") + "\n\n")
        replay.log.write_text(f"# replay: {replay.result['replay']}\n{note}{job.output()}")


def run(args: Any) -> int:
    """The --sim path of raft-stress (args from labtools.stress)."""
    try:
        seeds = seed_list(args)
    except ValueError as err:
        print(f"raft-stress: {err}", file=sys.stderr)
        return 2
    args.logs.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="simstress-") as folder:
        return _SimStress(args, seeds, Path(folder)).run()
