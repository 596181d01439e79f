"""labrpc's tests, ported from the Go lab's labrpc/test_test.go, and the
Python port's own: fatal mistakes are loud, Cleanup ends everything."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, List

import pytest

import labrpc
from labrpc import LabrpcError, MakeNetwork, MakeServer, MakeService


@dataclass
class JunkArgs:
    X: int = 0


@dataclass
class JunkReply:
    X: str = ""


@dataclass
class IntReply:
    X: int = 0


@dataclass
class StrReply:
    X: str = ""


class JunkServer:
    def __init__(self) -> None:
        self.mu = threading.Lock()
        self.log1: List[str] = []
        self.log2: List[int] = []
        # Handler3 "sleeps 20 s"; the test lets it go at the end, so that
        # its thread does not outlive the test.
        self.release = threading.Event()

    def Handler1(self, args: str, reply: IntReply) -> None:
        with self.mu:
            self.log1.append(args)
            reply.X = int(args)

    def Handler2(self, args: int, reply: StrReply) -> None:
        with self.mu:
            self.log2.append(args)
            reply.X = "handler2-" + str(args)

    def Handler3(self, args: int, reply: IntReply) -> None:
        with self.mu:
            self.release.wait(20)
            reply.X = -args

    def Handler4(self, args: JunkArgs, reply: JunkReply) -> None:
        reply.X = "dataclass"

    def Handler5(self, args: dict, reply: JunkReply) -> None:
        reply.X = "dict"

    def Handler6(self, args: str, reply: IntReply) -> None:
        with self.mu:
            reply.X = len(args)

    def Handler7(self, args: int, reply: StrReply) -> None:
        with self.mu:
            reply.X = "y" * args

    # Not handlers: the wrong shape, a failure, a value returned.
    def Status(self) -> str:
        return "fine"

    def HandlerRaises(self, args: int, reply: IntReply) -> None:
        raise ValueError(f"boom {args}")

    def HandlerReturns(self, args: int, reply: IntReply) -> int:
        return args


def one_server(rn: labrpc.Network, endname: Any, servername: Any) -> tuple:
    e = rn.MakeEnd(endname)
    js = JunkServer()
    rs = MakeServer()
    rs.AddService(MakeService(js))
    rn.AddServer(servername, rs)
    rn.Connect(endname, servername)
    return e, js


def run_concurrently(n: int, body: Callable[[int], int]) -> List[int]:
    """Run body(i) on n threads (Go's goroutines); re-raise the first failure."""
    results: List[Any] = [None] * n

    def wrapper(i: int) -> None:
        try:
            results[i] = body(i)
        except BaseException as err:  # reported in the test's own thread below
            results[i] = err

    threads = [threading.Thread(target=wrapper, args=(i,)) for i in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results


def TestBasic() -> None:
    with MakeNetwork() as rn:
        e, _ = one_server(rn, "end1-99", "server99")
        rn.Enable("end1-99", True)

        reply = StrReply()
        e.Call("JunkServer.Handler2", 111, reply)
        assert reply.X == "handler2-111", "wrong reply from Handler2"

        reply = IntReply()
        e.Call("JunkServer.Handler1", "9099", reply)
        assert reply.X == 9099, "wrong reply from Handler1"


def TestTypes() -> None:
    """Go checks pointer and non-pointer args; Python's twins are an object
    and a plain dict."""
    with MakeNetwork() as rn:
        e, _ = one_server(rn, "end1-99", "server99")
        rn.Enable("end1-99", True)

        reply = JunkReply()
        e.Call("JunkServer.Handler4", JunkArgs(), reply)
        assert reply.X == "dataclass", "wrong reply from Handler4"

        reply = JunkReply()
        e.Call("JunkServer.Handler5", {"X": 1}, reply)
        assert reply.X == "dict", "wrong reply from Handler5"


def TestDisconnect() -> None:
    """Does Enable(endname, False) really disconnect a client?"""
    with MakeNetwork() as rn:
        e, _ = one_server(rn, "end1-99", "server99")

        reply = StrReply()
        assert not e.Call("JunkServer.Handler2", 111, reply)
        assert reply.X == "", "unexpected reply from Handler2"

        rn.Enable("end1-99", True)

        reply = IntReply()
        e.Call("JunkServer.Handler1", "9099", reply)
        assert reply.X == 9099, "wrong reply from Handler1"


def TestCounts() -> None:
    with MakeNetwork() as rn:
        e, _ = one_server(rn, "end1-99", 99)
        rn.Enable("end1-99", True)

        for i in range(17):
            reply = StrReply()
            e.Call("JunkServer.Handler2", i, reply)
            wanted = "handler2-" + str(i)
            assert reply.X == wanted, f"wrong reply {reply.X} from Handler2, expecting {wanted}"

        n = rn.GetCount(99)
        assert n == 17, f"wrong GetCount() {n}, expected 17"


def TestBytes() -> None:
    with MakeNetwork() as rn:
        e, _ = one_server(rn, "end1-99", 99)
        rn.Enable("end1-99", True)

        for _ in range(17):
            args = "x" * 72
            args = args + args
            args = args + args
            reply = IntReply()
            e.Call("JunkServer.Handler6", args, reply)
            assert reply.X == len(args), f"wrong reply {reply.X} from Handler6"

        n = rn.GetTotalBytes()
        assert 4828 <= n <= 6000, f"wrong GetTotalBytes() {n}, expected about 5000"

        for _ in range(17):
            args7 = 107
            reply7 = StrReply()
            e.Call("JunkServer.Handler7", args7, reply7)
            assert len(reply7.X) == args7, f"wrong reply len={len(reply7.X)} from Handler7"

        nn = rn.GetTotalBytes() - n
        assert 1800 <= nn <= 2500, f"wrong GetTotalBytes() {nn}, expected about 2000"


def TestConcurrentMany() -> None:
    """RPCs from concurrent ClientEnds."""
    with MakeNetwork() as rn:
        js = JunkServer()
        rs = MakeServer()
        rs.AddService(MakeService(js))
        rn.AddServer(1000, rs)

        nclients = 20
        nrpcs = 10

        def client(i: int) -> int:
            n = 0
            e = rn.MakeEnd(i)
            rn.Connect(i, 1000)
            rn.Enable(i, True)
            for j in range(nrpcs):
                arg = i * 100 + j
                reply = StrReply()
                e.Call("JunkServer.Handler2", arg, reply)
                wanted = "handler2-" + str(arg)
                assert reply.X == wanted, f"wrong reply {reply.X} from Handler2, expecting {wanted}"
                n += 1
            return n

        total = sum(run_concurrently(nclients, client))
        assert total == nclients * nrpcs, (
            f"wrong number of RPCs completed, got {total}, expected {nclients * nrpcs}"
        )
        n = rn.GetCount(1000)
        assert n == total, f"wrong GetCount() {n}, expected {total}"


def TestUnreliable() -> None:
    with MakeNetwork() as rn:
        rn.Reliable(False)
        js = JunkServer()
        rs = MakeServer()
        rs.AddService(MakeService(js))
        rn.AddServer(1000, rs)

        nclients = 300

        def client(i: int) -> int:
            e = rn.MakeEnd(i)
            rn.Connect(i, 1000)
            rn.Enable(i, True)
            arg = i * 100
            reply = StrReply()
            if e.Call("JunkServer.Handler2", arg, reply):
                wanted = "handler2-" + str(arg)
                assert reply.X == wanted, f"wrong reply {reply.X} from Handler2, expecting {wanted}"
                return 1
            return 0

        total = sum(run_concurrently(nclients, client))
        assert total not in (0, nclients), "all RPCs succeeded despite unreliable"


def TestConcurrentOne() -> None:
    """Concurrent RPCs from a single ClientEnd."""
    with MakeNetwork() as rn:
        e, js = one_server(rn, "c", 1000)
        rn.Enable("c", True)

        nrpcs = 20

        def call(i: int) -> int:
            arg = 100 + i
            reply = StrReply()
            e.Call("JunkServer.Handler2", arg, reply)
            wanted = "handler2-" + str(arg)
            assert reply.X == wanted, f"wrong reply {reply.X} from Handler2, expecting {wanted}"
            return 1

        total = sum(run_concurrently(nrpcs, call))
        assert total == nrpcs, f"wrong number of RPCs completed, got {total}, expected {nrpcs}"
        with js.mu:
            assert len(js.log2) == nrpcs, "wrong number of RPCs delivered"
        n = rn.GetCount(1000)
        assert n == total, f"wrong GetCount() {n}, expected {total}"


def TestRegression1() -> None:
    """An RPC delayed while its end is disabled must not delay later RPCs
    (e.g. after the end is enabled again)."""
    with MakeNetwork() as rn:
        e, js = one_server(rn, "c", 1000)

        # Start some RPCs while the ClientEnd is disabled; they'll be delayed.
        rn.Enable("c", False)
        nrpcs = 20
        parked = []

        def park(i: int) -> None:
            e.Call("JunkServer.Handler2", 100 + i, StrReply())  # returns False

        for i in range(nrpcs):
            th = threading.Thread(target=park, args=(i,))
            th.start()
            parked.append(th)

        time.sleep(0.100)

        # Now enable the ClientEnd and check that an RPC completes quickly.
        t0 = time.monotonic()
        rn.Enable("c", True)
        reply = StrReply()
        e.Call("JunkServer.Handler2", 99, reply)
        assert reply.X == "handler2-99", f"wrong reply {reply.X} from Handler2"
        dur = time.monotonic() - t0
        assert dur <= 0.03, f"RPC took too long ({dur}) after Enable"

        for th in parked:
            th.join()
        with js.mu:
            assert len(js.log2) == 1, f"wrong number ({len(js.log2)}) of RPCs delivered, expected 1"
        n = rn.GetCount(1000)
        assert n == 1, f"wrong GetCount() {n}, expected 1"


def TestKilled() -> None:
    """If an RPC is stuck in a server and the server is killed with
    DeleteServer(), does the RPC get un-stuck?"""
    with MakeNetwork() as rn:
        e, js = one_server(rn, "end1-99", "server99")
        rn.Enable("end1-99", True)
        try:
            done: List[bool] = []
            caller = threading.Thread(
                target=lambda: done.append(e.Call("JunkServer.Handler3", 99, IntReply()))
            )
            caller.start()

            time.sleep(1.0)
            caller.join(0.1)
            assert not done, "Handler3 should not have returned yet"

            rn.DeleteServer("server99")
            caller.join(0.1 + labrpc.DEAD_CHECK_INTERVAL_S)
            assert done, "Handler3 should return after DeleteServer()"
            assert done[0] is False, "Handler3 returned successfully despite DeleteServer()"
        finally:
            js.release.set()


# --- The port's own tests: mistakes are loud, and nothing is left running. ---


def connected_end(rn: labrpc.Network) -> Any:
    e, _ = one_server(rn, "end", "server")
    rn.Enable("end", True)
    return e


def test_unknown_service_names_it_and_lists_the_known_ones() -> None:
    with MakeNetwork() as rn:
        e = connected_end(rn)
        with pytest.raises(LabrpcError, match=r"unknown service 'Raft'.*\['JunkServer'\]"):
            e.Call("Raft.RequestVote", 1, IntReply())
        assert "unknown service 'Raft'" in rn.fatal_error()


def test_unknown_method_lists_the_handlers() -> None:
    with MakeNetwork() as rn:
        e = connected_end(rn)
        with pytest.raises(LabrpcError, match=r"unknown method 'Nope'.*'Handler1', 'Handler2'"):
            e.Call("JunkServer.Nope", 1, IntReply())


def test_method_of_the_wrong_shape_is_not_a_handler() -> None:
    with MakeNetwork() as rn:
        e = connected_end(rn)
        with pytest.raises(LabrpcError, match=r"Status is not a handler: it takes \(\)"):
            e.Call("JunkServer.Status", 1, IntReply())


def test_handler_exception_shows_its_traceback() -> None:
    with MakeNetwork() as rn:
        e = connected_end(rn)
        with pytest.raises(LabrpcError, match=r"(?s)HandlerRaises raised.*ValueError: boom 7"):
            e.Call("JunkServer.HandlerRaises", 7, IntReply())


def test_handler_returning_a_value_is_an_error() -> None:
    with MakeNetwork() as rn:
        e = connected_end(rn)
        with pytest.raises(LabrpcError, match="returned 7; handlers fill in their reply"):
            e.Call("JunkServer.HandlerReturns", 7, IntReply())


def test_fatal_error_on_a_background_thread_is_kept_by_the_network() -> None:
    with MakeNetwork() as rn:
        e = connected_end(rn)
        errors: List[BaseException] = []

        def background() -> None:
            try:
                e.Call("JunkServer.Missing", 1, IntReply())
            except LabrpcError as err:
                errors.append(err)

        th = threading.Thread(target=background)
        th.start()
        th.join()
        assert errors and "unknown method 'Missing'" in rn.fatal_error()


def test_bad_input_gets_clear_errors() -> None:
    with MakeNetwork() as rn:
        e = connected_end(rn)
        with pytest.raises(LabrpcError, match="'end' already exists"):
            rn.MakeEnd("end")
        with pytest.raises(LabrpcError, match="no end named 'ghost'"):
            rn.Enable("ghost", True)
        with pytest.raises(TypeError, match="needs a reply object"):
            e.Call("JunkServer.Handler2", 1, 0)
        with pytest.raises(LabrpcError, match=r"_thread.lock at args"):
            e.Call("JunkServer.Handler2", threading.Lock(), StrReply())
        with pytest.raises(LabrpcError, match="malformed method name 'Handler2'"):
            e.Call("Handler2", 1, StrReply())


def test_cleanup_fails_pending_and_later_calls_at_once_and_ends_threads() -> None:
    rn = MakeNetwork()
    rn.LongDelays(True)
    e, js = one_server(rn, "stuck", "server")
    parked_end = rn.MakeEnd("parked")  # disabled: its calls wait up to 7 s
    rn.Connect("parked", "server")
    rn.Enable("stuck", True)
    results: List[bool] = []
    callers = [
        threading.Thread(
            target=lambda: results.append(e.Call("JunkServer.Handler3", 1, IntReply()))
        ),
    ] + [
        threading.Thread(
            target=lambda: results.append(parked_end.Call("JunkServer.Handler2", 1, StrReply()))
        )
        for _ in range(5)
    ]
    for th in callers:
        th.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    rn.Cleanup()
    for th in callers:
        th.join(0.05)
    assert results == [False] * 6
    assert time.monotonic() - t0 < 0.1

    assert e.Call("JunkServer.Handler2", 1, StrReply()) is False
    js.release.set()  # the handler itself returns; then its thread ends too
    deadline = time.monotonic() + 1
    while any(th.name.startswith("labrpc-") for th in threading.enumerate()):
        assert time.monotonic() < deadline, "a labrpc thread outlived Cleanup()"
        time.sleep(0.01)


def test_long_reordering_delivers_every_reply_eventually() -> None:
    with MakeNetwork() as rn:
        rn.LongReordering(True)
        e = connected_end(rn)

        def call(i: int) -> int:
            reply = StrReply()
            assert e.Call("JunkServer.Handler2", i, reply)
            assert reply.X == f"handler2-{i}"
            return 1

        t0 = time.monotonic()
        assert sum(run_concurrently(30, call)) == 30
        # Most of the 30 replies were held back 200 ms or more.
        assert time.monotonic() - t0 >= 0.2


# --- the fault source (labrpc.faults) ----------------------------------------------------


def test_random_faults_draw_as_the_go_lab_does() -> None:
    """The default source answers each question with the global random's draws,
    in the order the network asks them (a seeded run keeps its faults)."""
    from labrpc.faults import CallPath, RandomFaults

    call = CallPath(0, 1, "Raft.RequestVote")
    faults = RandomFaults()
    random.seed(5)
    answers = [faults.timeout_ms(call, 100), faults.delay_ms(call, 27),
               faults.dropped(call, "request", 100), faults.dropped(call, "reply", 100),
               faults.reordered(call, 600), faults.reorder_ms(call, 200, 2000)]
    random.seed(5)
    timeout, delay = random.randrange(100), random.randrange(27)
    request, reply = random.randrange(1000) < 100, random.randrange(1000) < 100
    late = random.randrange(900) < 600
    spread = random.randrange(2000)
    assert answers == [timeout, delay, request, reply, late, 200 + random.randrange(1 + spread)]


def test_the_fault_source_can_be_replaced_and_restored() -> None:
    from labrpc import faults

    class LoseEveryRequest(faults.RandomFaults):
        def __init__(self) -> None:
            self.asked: List[Any] = []

        def delay_ms(self, call: Any, limit: int) -> int:
            return 0

        def dropped(self, call: Any, which: str, per_mille: int) -> bool:
            self.asked.append((call, which))
            return which == "request"

    source = LoseEveryRequest()
    with MakeNetwork() as rn:
        rn.Reliable(False)
        e, js = one_server(rn, "end1-99", "server99")
        rn.Enable("end1-99", True)
        faults.use(source)
        try:
            assert all(not e.Call("JunkServer.Handler1", "7", IntReply()) for _ in range(5))
        finally:
            faults.use(None)
        assert isinstance(faults.source, faults.RandomFaults) and faults.source is not source
        assert source.asked == [(faults.CallPath("end1-99", "server99", "JunkServer.Handler1"),
                                 "request")] * 5
        assert js.log1 == []    # no request reached the handler
        rn.Reliable(True)
        assert e.Call("JunkServer.Handler1", "7", IntReply())
