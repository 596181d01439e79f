"""labrpc speed: the Go lab's TestBenchmark, and many clients at once.

    python -m benchmarks.labrpc_calls [--calls 100000] [--clients 20]

Prints microseconds a call for sequential calls on one end (the Go original
made 100,000 and its author measured about 22 us a call in 2016; a good Go
build measures 18-21 us on the course's machines), and calls a second with
20 clients calling at once.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass

import labrpc
from labrpc.affinity import ENV_VAR


@dataclass
class StrReply:
    X: str = ""


class JunkServer:
    def Handler2(self, args: int, reply: StrReply) -> None:
        reply.X = "handler2-" + str(args)


def _network(clients: int) -> tuple:
    net = labrpc.MakeNetwork()
    server = labrpc.MakeServer()
    server.AddService(labrpc.MakeService(JunkServer()))
    net.AddServer("server99", server)
    ends = []
    for i in range(clients):
        ends.append(net.MakeEnd(f"end{i}"))
        net.Connect(f"end{i}", "server99")
        net.Enable(f"end{i}", True)
    return net, ends


def sequential(calls: int) -> float:
    """Microseconds a call, one call after another on one end."""
    net, (end,) = _network(1)
    try:
        t0 = time.perf_counter()
        for _ in range(calls):
            reply = StrReply()
            end.Call("JunkServer.Handler2", 111, reply)
            if reply.X != "handler2-111":
                raise SystemExit("wrong reply from Handler2")
        return (time.perf_counter() - t0) / calls * 1e6
    finally:
        net.Cleanup()


def concurrent(clients: int, calls_each: int) -> float:
    """Calls a second with `clients` threads calling at once."""
    net, ends = _network(clients)
    start = threading.Barrier(clients + 1)

    def client(end: labrpc.ClientEnd) -> None:
        start.wait()
        for i in range(calls_each):
            end.Call("JunkServer.Handler2", i, StrReply())

    threads = [threading.Thread(target=client, args=(end,)) for end in ends]
    for th in threads:
        th.start()
    start.wait()
    t0 = time.perf_counter()
    for th in threads:
        th.join()
    elapsed = time.perf_counter() - t0
    net.Cleanup()
    return clients * calls_each / elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--calls-each", type=int, default=2_000)
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, "
          f"{ENV_VAR}={os.environ.get(ENV_VAR, 'auto')}")
    t0 = time.process_time()
    per_call = sequential(args.calls)
    cpu = (time.process_time() - t0) / args.calls * 1e6
    print(f"sequential: {per_call:.1f} us a call over {args.calls} calls "
          f"({cpu:.1f} us of CPU a call)")
    rate = concurrent(args.clients, args.calls_each)
    print(f"concurrent: {rate:,.0f} calls a second with {args.clients} clients "
          f"({args.calls_each} calls each)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
