"""labrpc: a simulated network for the Raft lab.

It can lose requests, lose replies, delay messages, reorder replies, and cut
off individual hosts. Every call is encoded with labgob, so a server never
shares an object with its caller.

    net = MakeNetwork()                 -- holds the ends, servers and switches
    end = net.MakeEnd(endname)          -- a client end, to talk to one server
    net.AddServer(servername, server)   -- put a server on the network
    net.DeleteServer(servername)        -- take it off (its calls fail)
    net.Connect(endname, servername)    -- wire an end to a server
    net.Enable(endname, True/False)     -- plug an end in, or pull it out
    net.Reliable(False)                 -- drop and delay some messages
    net.LongDelays(True)                -- calls on a pulled end take up to 7 s
    net.LongReordering(True)            -- deliver some replies very late
    net.GetCount(servername), net.GetTotalCount(), net.GetTotalBytes()
    net.Cleanup()                       -- every pending and later call fails
    open_networks()                     -- the networks not yet cleaned up
    net.attach_record(record)           -- add an "rpc" event to a labrpc.record.Record
                                           for each call (see below)
    net.label_end(endname, **fields)    -- fields added to the events of calls on that end
    labrpc.faults.use(source)           -- where the faults' random choices come from (the
                                           global random by default; labsim's shrinker
                                           watches and edits them through its own source)
    server.labels = {...}               -- fields added to the events of calls it serves

    ok = end.Call("Raft.AppendEntries", args, reply)
        "Raft" is the service (the class name of the object given to
        MakeService) and "AppendEntries" its handler. True means the server
        ran the handler and reply now holds its answer; False means no answer
        (request or reply lost, server dead or unreachable). Several calls may
        be in flight on one end at once, and may be delivered out of order.
        Call always returns, perhaps after a delay, unless the handler itself
        never returns.

    server = MakeServer()
    server.AddService(MakeService(obj)) -- obj's handlers serve RPCs; a server
                                           may hold several services
    Handlers are public methods taking exactly (args, reply) and returning
    None. The reply object the handler fills is a fresh instance of the
    handler's annotated reply type (or, unannotated, of the caller's),
    zeroed as Go's are (see labrpc.replies: required dataclass fields get
    their type's zero value).

With a record attached, each Call adds one "rpc" event when it returns: the
method, the args' and the handler's reply's fields (labrpc.record.plain),
when it was sent, handled and done, and its outcome ("ok", "request_dropped",
"reply_dropped", "disconnected", "dead_server", "cleanup"), and whether
the request reached the server ("delivered": its handler ran, or runs
after the caller stopped waiting, its reply then unknown). Without one, a
call costs one attribute test more.

A mistake that the Go lab treats as fatal (an unknown service or method, a
handler that raises or returns a value, an end name used twice) raises
LabrpcError in the caller and is kept by the network (fatal_error()), so the
test harness fails the test that caused it even when the caller was a
background thread.
"""

from __future__ import annotations

import inspect
import itertools
import threading
import traceback
import typing
import weakref
from queue import Empty, SimpleQueue
from typing import Any, Callable, Dict, Hashable, List, Optional

import labgob
from labrpc import faults
from labrpc.affinity import pin_to_one_cpu
from labrpc.record import Record, plain
from labrpc.replies import ReplyTypeError, new_reply
from labrpc.shadow import hint_if_shadowed

# A raft.py in the current folder may hide the `raft` package: say what to run.
hint_if_shadowed()

__all__ = [
    "LabrpcError",
    "ClientEnd",
    "Network",
    "Server",
    "Service",
    "MakeNetwork",
    "MakeServer",
    "MakeService",
]

# --- The Go lab's numbers, each with what it simulates. ---------------------

# Unreliable network: a request sits in a queue somewhere for 0..26 ms.
UNRELIABLE_MAX_DELAY_MS = 27
# Unreliable network: 100 requests in 1000 are lost on the way to the server.
REQUEST_DROP_PER_MILLE = 100
# Unreliable network: 100 replies in 1000 are lost on the way back.
REPLY_DROP_PER_MILLE = 100
# An end that is disabled or leads nowhere: the caller gives up after a
# timeout of 0..99 ms. Key/value clients rely on this being short.
SHORT_TIMEOUT_MS = 100
# The same with long delays on: 0..6999 ms, which lets the Raft tests catch a
# leader that waits for one RPC before sending the next.
LONG_TIMEOUT_MS = 7000
# Long reordering: 600 replies in 900 arrive late, after 200 + r ms, where r
# is uniform in 0..k and k uniform in 0..1999 (mostly short, sometimes 2 s).
REORDER_PER_900 = 600
REORDER_MIN_MS = 200
REORDER_SPREAD_MS = 2000
# While a handler runs, how often the caller checks whether the server died.
DEAD_CHECK_INTERVAL_S = 0.1


class LabrpcError(RuntimeError):
    """A fatal mistake in how the network or an RPC handler is used."""

    # True when the network keeps it too (Network.fatal_error()): the harness
    # then fails the test with it, and the thread it killed need not say so.
    kept_by_network = False


_CLOSED = object()  # put in a pending call's queue by Cleanup()

# What became of a call (the "outcome" of its rpc event); only OK is True.
OK = "ok"
REQUEST_DROPPED = "request_dropped"
REPLY_DROPPED = "reply_dropped"
DISCONNECTED = "disconnected"
DEAD_SERVER = "dead_server"
CLEANUP = "cleanup"
_UNCONNECTED = object()  # the server name of an end not yet connected
_NO_LABELS: Dict[str, Any] = {}


class _HandlerFailed:
    """A handler (or the dispatch to it) went wrong; carries the message."""

    def __init__(self, message: str) -> None:
        self.message = message


class _Reply:
    """What a finished handler sends back to the waiting caller."""

    __slots__ = ("payload", "started", "finished", "fields")

    def __init__(self, payload: bytes, started: float = 0.0, finished: float = 0.0,
                 fields: Any = None) -> None:
        self.payload = payload
        # Only when a record is attached: when the handler ran, and the
        # reply's fields as it left them.
        self.started = started
        self.finished = finished
        self.fields = fields


class ClientEnd:
    """One client's end of a connection to a server."""

    def __init__(self, endname: Hashable, net: "Network") -> None:
        self._endname = endname
        self._net = net

    def Call(self, svcMeth: str, args: Any, reply: Any) -> bool:
        """Send an RPC and wait for its reply; see the module docstring."""
        if not isinstance(svcMeth, str):
            raise TypeError(
                f"labrpc: Call wants 'Service.Method' as a str, got {svcMeth!r}"
            )
        if reply is None or isinstance(reply, (int, float, str, bytes, tuple, bool)):
            raise TypeError(
                f"labrpc: Call({svcMeth!r}) needs a reply object the handler can fill "
                f"in, got {type(reply).__name__}"
            )
        record = self._net.record
        if record is not None:
            sent = record.clock()
            fields = plain(args)
        try:
            payload = labgob.dumps(args, root_name="args")
        except labgob.EncodeError as err:
            raise self._net._fatal(f"labrpc: Call({svcMeth!r}): {err}") from None
        if record is None:
            return self._net._process(self._endname, svcMeth, payload, reply) == OK
        trace: Dict[str, Any] = {}
        outcome = self._net._process(self._endname, svcMeth, payload, reply, trace)
        self._net._record_call(record, self._endname, svcMeth, fields, len(payload), sent,
                               outcome, trace)
        return outcome == OK


class _HandlerPool:
    """Threads that run handlers: reused when idle, grown when all are busy.

    The pool has no upper bound on purpose: a handler that never returns
    (or sleeps for 20 s) holds one thread, and every other call still finds
    one. Workers end at shutdown, or after their handler once shut down.
    """

    def __init__(self) -> None:
        self._jobs: SimpleQueue = SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0
        self._closed = False
        self._numbers = itertools.count(1)

    def submit(self, job: Callable[[], None]) -> bool:
        """Run job on some worker; False if the pool is shut down."""
        with self._lock:
            if self._closed:
                return False
            if self._idle > 0:
                self._idle -= 1
            else:
                worker = threading.Thread(
                    target=self._work, name=f"labrpc-handler-{next(self._numbers)}",
                    daemon=True,
                )
                worker.start()
            self._jobs.put(job)
        return True

    def _work(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                break
            job()
            with self._lock:
                if self._closed:
                    break
                self._idle += 1

    def shutdown(self) -> None:
        """Idle workers end at once; busy ones when their handler returns.

        Nothing is joined: a handler may never return, and Cleanup() must not
        wait for it.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            idle, self._idle = self._idle, 0
            for _ in range(idle):
                self._jobs.put(None)


class Network:
    """The simulated network: ends, servers, and the faults between them.

    Also a context manager: ``with MakeNetwork() as net:`` cleans up at the end.
    """

    def __init__(self) -> None:
        self._mu = threading.Lock()
        self._reliable = True
        self._long_delays = False
        self._long_reordering = False
        self._ends: Dict[Hashable, ClientEnd] = {}
        self._enabled: Dict[Hashable, bool] = {}
        self._servers: Dict[Hashable, Optional[Server]] = {}
        self._connections: Dict[Hashable, Any] = {}
        self._count = 0
        self._bytes = 0
        self._closed = threading.Event()
        # Calls waiting for their reply, in the order they began (a dict, not
        # a set: Cleanup wakes them in this order, and under --sim a set's
        # order, which follows memory addresses, would change the run).
        self._pending: Dict[SimpleQueue, None] = {}
        self._pool = _HandlerPool()
        self._fatal_errors: List[str] = []
        # The record of the run, if one is attached, and what it knows of ends.
        self.record: Optional[Record] = None
        self._end_labels: Dict[Hashable, Dict[str, Any]] = {}
        self._call_ids = itertools.count(1)
        _open.add(self)

    def __enter__(self) -> "Network":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.Cleanup()

    # --- switches and wiring -------------------------------------------------

    def Reliable(self, yes: bool) -> None:
        with self._mu:
            self._reliable = bool(yes)

    def LongDelays(self, yes: bool) -> None:
        with self._mu:
            self._long_delays = bool(yes)

    def LongReordering(self, yes: bool) -> None:
        with self._mu:
            self._long_reordering = bool(yes)

    def MakeEnd(self, endname: Hashable) -> ClientEnd:
        """A new end: disabled and connected to nothing."""
        with self._mu:
            if endname in self._ends:
                raise self._fatal_locked(f"labrpc: MakeEnd: {endname!r} already exists")
            end = ClientEnd(endname, self)
            self._ends[endname] = end
            self._enabled[endname] = False
            self._connections[endname] = _UNCONNECTED
            return end

    def AddServer(self, servername: Hashable, server: "Server") -> None:
        if not isinstance(server, Server):
            raise TypeError(
                f"labrpc: AddServer({servername!r}) wants a Server (MakeServer()), "
                f"got {type(server).__name__}"
            )
        with self._mu:
            self._servers[servername] = server

    def DeleteServer(self, servername: Hashable) -> None:
        with self._mu:
            self._servers[servername] = None

    def Connect(self, endname: Hashable, servername: Hashable) -> None:
        with self._mu:
            self._check_end_locked(endname, "Connect")
            self._connections[endname] = servername

    def Enable(self, endname: Hashable, enabled: bool) -> None:
        with self._mu:
            self._check_end_locked(endname, "Enable")
            self._enabled[endname] = bool(enabled)

    def _check_end_locked(self, endname: Hashable, what: str) -> None:
        if endname not in self._ends:
            raise LabrpcError(f"labrpc: {what}: no end named {endname!r}; MakeEnd it first")

    # --- the record ---------------------------------------------------------------

    def attach_record(self, record: Optional[Record]) -> None:
        """Add an "rpc" event to record for every later call (None: stop)."""
        self.record = record

    def label_end(self, endname: Hashable, **fields: Any) -> None:
        """Fields (say src=2) to put in the rpc events of calls made on endname."""
        with self._mu:
            self._end_labels[endname] = fields

    def _record_call(self, record: Record, endname: Hashable, svc_meth: str, args: Any,
                     nbytes: int, sent: float, outcome: str, trace: Dict[str, Any]) -> None:
        done = record.clock()
        reply = trace.get("reply")
        with self._mu:
            labels = self._end_labels.get(endname, {})
        began = record.began
        record.add(
            "rpc", id=next(self._call_ids), src=labels.get("src"), dst=trace.get("dst"),
            method=svc_meth, args=args, reply=None if reply is None else reply.fields,
            bytes=nbytes, sent=sent - began,
            handled=None if reply is None else reply.started - began,
            handler_done=None if reply is None else reply.finished - began,
            done=done - began, outcome=outcome, reordered=trace.get("reordered", False),
            delivered=trace.get("delivered", False),
            **{key: value for key, value in labels.items() if key != "src"},
            **trace.get("server_labels", {}),
        )

    # --- statistics ------------------------------------------------------------

    def GetCount(self, servername: Hashable) -> int:
        """How many RPCs the named server has received."""
        with self._mu:
            server = self._servers.get(servername)
        if server is None:
            raise LabrpcError(f"labrpc: GetCount: no server named {servername!r}")
        return server.GetCount()

    def GetTotalCount(self) -> int:
        with self._mu:
            return self._count

    def GetTotalBytes(self) -> int:
        with self._mu:
            return self._bytes

    # --- errors and shutdown -------------------------------------------------------

    def fatal_error(self) -> Optional[str]:
        """The first fatal mistake seen on this network, if any."""
        with self._mu:
            return self._fatal_errors[0] if self._fatal_errors else None

    def _fatal(self, message: str) -> LabrpcError:
        with self._mu:
            return self._fatal_locked(message)

    def _fatal_locked(self, message: str) -> LabrpcError:
        self._fatal_errors.append(message)
        error = LabrpcError(message)
        error.kept_by_network = True
        return error

    def Cleanup(self) -> None:
        """Fail every pending call now, and every later one at once."""
        with self._mu:
            self._closed.set()
            pending, self._pending = self._pending, {}
        _open.discard(self)
        for replies in pending:
            replies.put(_CLOSED)
        self._pool.shutdown()

    # --- the life of one request ---------------------------------------------------

    def _sleep(self, seconds: float) -> bool:
        """Wait, unless the network is cleaned up first; True if it was."""
        return self._closed.wait(seconds)

    def _process(self, endname: Hashable, svc_meth: str, payload: bytes, reply: Any,
                 trace: Optional[Dict[str, Any]] = None) -> str:
        """Deliver one call; returns its outcome (OK, or why it failed).

        trace is None unless a record is attached; then it collects what the
        rpc event needs (where the call went, the handler's reply, lateness).
        """
        # 1. The network accepts the request and looks up where it goes.
        with self._mu:
            if self._closed.is_set():
                return CLEANUP
            self._count += 1
            self._bytes += len(payload)
            enabled = self._enabled[endname]
            servername = self._connections[endname]
            server = None if servername is _UNCONNECTED else self._servers.get(servername)
            reliable = self._reliable
            long_reordering = self._long_reordering
            long_delays = self._long_delays
            # Where the call goes, for the fault source (labrpc.faults), when
            # the network will ask it anything about this call.
            call = None
            if not (enabled and server is not None and reliable and not long_reordering):
                src = self._end_labels.get(endname, _NO_LABELS).get("src", endname)
                call = faults.CallPath(src, servername, svc_meth)

        if trace is not None and servername is not _UNCONNECTED:
            trace["dst"] = servername
            if server is not None:
                trace["server_labels"] = server.labels

        # 2. Nobody to talk to: the caller times out, after a while.
        if not enabled or server is None:
            timeout_ms = LONG_TIMEOUT_MS if long_delays else SHORT_TIMEOUT_MS
            if self._sleep(faults.source.timeout_ms(call, timeout_ms) / 1000):
                return CLEANUP
            return DISCONNECTED if not enabled else DEAD_SERVER

        # 3. An unreliable network delays the request, and may lose it.
        if not reliable:
            if self._sleep(faults.source.delay_ms(call, UNRELIABLE_MAX_DELAY_MS) / 1000):
                return CLEANUP
            if faults.source.dropped(call, "request", REQUEST_DROP_PER_MILLE):
                return REQUEST_DROPPED

        # 4. The server runs the handler while we watch for its death.
        replies: SimpleQueue = SimpleQueue()
        with self._mu:
            if self._closed.is_set():
                return CLEANUP
            self._pending[replies] = None
        reply_type = type(reply)
        clock = None if trace is None else self.record.clock

        def run_handler() -> None:
            replies.put(server._dispatch(svc_meth, payload, reply_type, clock))

        outcome: Any = None
        if self._pool.submit(run_handler):
            if trace is not None:
                trace["delivered"] = True  # its handler runs, whether we wait or not
            while outcome is None:
                try:
                    outcome = replies.get(timeout=DEAD_CHECK_INTERVAL_S)
                except Empty:
                    if self._is_server_dead(endname, servername, server):
                        break
        if isinstance(outcome, _HandlerFailed):
            with self._mu:
                self._pending.pop(replies, None)
            raise self._fatal(outcome.message)
        if trace is not None and isinstance(outcome, _Reply):
            trace["reply"] = outcome

        # 5. A server that died meanwhile gives no answer: its state may
        #    already be superseded by a restarted instance.
        with self._mu:
            self._pending.pop(replies, None)
            dead = self._why_dead_locked(endname, servername, server)
            if dead is not None:
                return dead
            if not isinstance(outcome, _Reply):
                return CLEANUP
            # 6. An unreliable network may lose the reply.
            if not reliable and faults.source.dropped(call, "reply", REPLY_DROP_PER_MILLE):
                return REPLY_DROPPED
            # 7. Long reordering delivers some replies late...
            late = long_reordering and faults.source.reordered(call, REORDER_PER_900)
            if not late:
                # 8. ...the rest arrive now.
                self._bytes += len(outcome.payload)
        if late:
            if trace is not None:
                trace["reordered"] = True
            late_ms = faults.source.reorder_ms(call, REORDER_MIN_MS, REORDER_SPREAD_MS)
            if self._sleep(late_ms / 1000):
                return CLEANUP
            with self._mu:
                self._bytes += len(outcome.payload)
        try:
            labgob.decode_into(reply, outcome.payload)
        except labgob.DecodeError as err:
            raise self._fatal(f"labrpc: Call({svc_meth!r}): decoding the reply: {err}") from None
        return OK

    def _is_server_dead(self, endname: Hashable, servername: Any, server: "Server") -> bool:
        with self._mu:
            return self._is_server_dead_locked(endname, servername, server)

    def _is_server_dead_locked(self, endname: Hashable, servername: Any, server: "Server") -> bool:
        return self._why_dead_locked(endname, servername, server) is not None

    def _why_dead_locked(self, endname: Hashable, servername: Any,
                         server: "Server") -> Optional[str]:
        """Why a reply from server can no longer reach the caller, or None."""
        if self._closed.is_set():
            return CLEANUP
        if not self._enabled[endname]:
            return DISCONNECTED
        if self._servers.get(servername) is not server:
            return DEAD_SERVER
        return None


class Server:
    """A set of services reached through one network address."""

    def __init__(self) -> None:
        self._mu = threading.Lock()
        self._services: Dict[str, Service] = {}
        self._count = 0
        # Fields for the rpc events of calls this server handles (see
        # Network.attach_record), e.g. which incarnation of a peer it is.
        self.labels: Dict[str, Any] = {}

    def AddService(self, svc: "Service") -> None:
        if not isinstance(svc, Service):
            raise TypeError(
                f"labrpc: AddService wants a Service (MakeService(obj)), got "
                f"{type(svc).__name__}"
            )
        with self._mu:
            self._services[svc.name] = svc

    def GetCount(self) -> int:
        with self._mu:
            return self._count

    def _dispatch(self, svc_meth: str, payload: bytes, reply_type: type,
                  clock: Optional[Callable[[], float]] = None) -> Any:
        """Run one call; returns a _Reply or a _HandlerFailed, never raises.

        With a clock (a record is attached), the _Reply also says when the
        handler ran and what it left in the reply.
        """
        with self._mu:
            self._count += 1
            service_name, dot, method_name = svc_meth.rpartition(".")
            service = self._services.get(service_name)
            known = sorted(self._services)
        if not dot:
            return _HandlerFailed(
                f"labrpc: malformed method name {svc_meth!r}: expected 'Service.Method'"
            )
        if service is None:
            return _HandlerFailed(
                f"labrpc: unknown service {service_name!r} in {svc_meth!r}; "
                f"expecting one of {known}"
            )
        if clock is None:
            return service._dispatch(method_name, svc_meth, payload, reply_type, clock)
        _handling.labels = self.labels
        try:
            return service._dispatch(method_name, svc_meth, payload, reply_type, clock)
        finally:
            _handling.labels = None


class Service:
    """An object whose handler methods can be called through the network."""

    def __init__(self, rcvr: Any) -> None:
        self.name = type(rcvr).__name__
        self._rcvr = rcvr
        self._methods: Dict[str, Callable[[Any, Any], Any]] = {}
        self._reply_types: Dict[str, Optional[type]] = {}
        self._not_handlers: Dict[str, str] = {}
        for method_name in dir(type(rcvr)):
            # Look on the class, so that properties are not run to find out.
            if method_name.startswith("_") or not inspect.isfunction(
                getattr(type(rcvr), method_name)
            ):
                continue
            method = getattr(rcvr, method_name)
            shape = _handler_shape_problem(method)
            if shape is None:
                self._methods[method_name] = method
                self._reply_types[method_name] = _annotated_reply_type(method)
            else:
                self._not_handlers[method_name] = shape

    def _dispatch(self, method_name: str, svc_meth: str, payload: bytes, reply_type: type,
                  clock: Optional[Callable[[], float]] = None) -> Any:
        method = self._methods.get(method_name)
        if method is None:
            why = self._not_handlers.get(method_name)
            detail = f" ({method_name} is not a handler: {why})" if why else ""
            return _HandlerFailed(
                f"labrpc: unknown method {method_name!r} in {svc_meth!r}{detail}; "
                f"expecting one of {sorted(self._methods)}"
            )
        try:
            args = labgob.loads(payload)
            reply = new_reply(self._reply_types[method_name] or reply_type)
            started = clock() if clock is not None else 0.0
            returned = method(args, reply)
            if returned is not None:
                return _HandlerFailed(
                    f"labrpc: handler {svc_meth} returned {returned!r}; handlers fill "
                    "in their reply argument and return None"
                )
            if clock is None:
                return _Reply(labgob.dumps_fields(reply, root_name="reply"))
            finished = clock()
            return _Reply(labgob.dumps_fields(reply, root_name="reply"), started, finished,
                          plain(reply))
        except ReplyTypeError as err:
            return _HandlerFailed(f"labrpc: handler {svc_meth}: {err}")
        except Exception as err:
            return _HandlerFailed(_handler_raised(svc_meth, err))


def _handler_raised(svc_meth: str, err: Exception) -> str:
    """What a handler raised: the exception first, then its traceback from the
    handler's own frame on (this module's dispatch is of no interest)."""
    tb = err.__traceback__.tb_next if err.__traceback__ is not None else None
    trace = "".join(traceback.format_exception(type(err), err, tb))
    cause = "".join(traceback.format_exception_only(type(err), err)).strip()
    return f"labrpc: handler {svc_meth} raised {cause}\n{trace}"


_handling = threading.local()  # .labels: those of the server whose handler runs here
# Networks made and not yet cleaned up: their handler threads may still run
# (the pytest glue asks before it calls a test's threads left behind).
_open: "weakref.WeakSet[Network]" = weakref.WeakSet()


def open_networks() -> List["Network"]:
    """The networks made and not yet cleaned up."""
    return list(_open)


def handling_labels() -> Optional[Dict[str, Any]]:
    """With a record attached: the labels of the server whose handler runs in this thread."""
    return getattr(_handling, "labels", None)


def _handler_shape_problem(method: Callable[..., Any]) -> Optional[str]:
    """None if method looks like a handler, else what is wrong with it."""
    try:
        params = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return "its signature cannot be read"
    positional = [
        p for p in params
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(positional) != 2 or len(params) != 2:
        return f"it takes ({', '.join(p.name for p in params)}) but handlers take (args, reply)"
    return None


def _annotated_reply_type(method: Callable[..., Any]) -> Optional[type]:
    try:
        hints = typing.get_type_hints(method)
    except Exception:
        return None
    reply_name = list(inspect.signature(method).parameters)[1]
    hinted = hints.get(reply_name)
    return hinted if isinstance(hinted, type) else None


def MakeNetwork() -> Network:
    """A new network; pins the calling thread to one CPU (see labrpc.affinity)."""
    pin_to_one_cpu()
    return Network()


def MakeServer() -> Server:
    return Server()


def MakeService(rcvr: Any) -> Service:
    return Service(rcvr)
