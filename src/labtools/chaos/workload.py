"""The clients: threads that offer commands to random peers through Start.

    clients = Clients(cfg, seed_name, count)   count threads, started at once
    clients.stop()                             end them and wait for them

Each client draws from its own generator (seeded from the seed's name and
its number), so what it does never depends on how its draws interleave
with the nemesis's. It offers each command to one peer, whichever it is
(crashed peers excepted): a follower says no, a deposed leader may take it
and lose it, as clients of a real cluster see. Commands are distinct ints,
so the harness's checks tell any two apart.
"""

from __future__ import annotations

import random
import threading
import time
from typing import List

from raft.config import Config

# A client waits this long between two commands (seconds).
GAP_MIN_S = 0.005
GAP_MAX_S = 0.08
# Client c's k-th command is c * CLIENT_SPAN + k; commands given to one()
# start at ONE_BASE, above every client's.
CLIENT_SPAN = 10_000_000
ONE_BASE = 1_000_000_000


class Clients:
    def __init__(self, cfg: Config, seed_name: str, count: int) -> None:
        self.cfg = cfg
        self._stopping = False
        self._threads: List[threading.Thread] = []
        for number in range(count):
            rng = random.Random(f"{seed_name} client {number}")
            thread = threading.Thread(target=self._run, args=(number, rng),
                                      name=f"chaos-client-{number}", daemon=True)
            self._threads.append(thread)
            thread.start()

    def _run(self, number: int, rng: random.Random) -> None:
        sent = 0
        while not self._stopping:
            peer = rng.randrange(self.cfg.n)
            with self.cfg.mu:
                rf = self.cfg.rafts[peer]
            if rf is not None:
                sent += 1
                rf.Start((number + 1) * CLIENT_SPAN + sent)
            time.sleep(rng.uniform(GAP_MIN_S, GAP_MAX_S))

    def stop(self) -> None:
        self._stopping = True
        for thread in self._threads:
            thread.join()
