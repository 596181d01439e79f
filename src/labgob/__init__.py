"""labgob: the encoder for everything that crosses labrpc or goes to a Persister.

    data = dumps(value)              -- encode plain data (pickle, checked)
    data = dumps_fields(obj)         -- encode only obj's fields (a reply)
    value = loads(data)              -- decode; refuses anything that is code
    decode_into(target, data)        -- decode an object into an existing one
                                        (how labrpc fills the caller's reply)
    Register(value)                  -- trust value's class for decoding
    encode_as_plain(cls, base)       -- encode a list/dict subclass as a plain list/dict
    e = NewEncoder(buf); e.Encode(v) -- Go-style stream API over a file object
    d = NewDecoder(buf); v = d.Decode()
    errorCount()                     -- how many warnings labgob has raised

Why not bare pickle: the simulated network must hand the server a copy that
shares nothing with the caller, and the decoder must never run code chosen
by the sender. The Go labgob also catches two classic student bugs; their
Python twins are:

* encoding live program state (a lock, thread, queue, function, open file):
  an EncodeError that names the class and where it sits, e.g.
  ``args.Entries[3].Command.mu``;
* decoding into a reply that already holds non-default values (reusing one
  reply object for several calls): a LabgobWarning naming the field, once
  per field, counted by errorCount().

Which classes may be decoded: the built-in containers and scalars, the
classes this process has encoded (a class is registered the first time one
of its instances is encoded), and classes given to Register. Classes whose
pickling runs their own code (a custom ``__reduce__``) must be registered
explicitly before they can be encoded.
"""

from __future__ import annotations

import io
import pickle
import queue
import threading
import types
import warnings
from typing import Any, BinaryIO, Dict, Iterator, Optional, Set, Tuple

__all__ = [
    "EncodeError",
    "DecodeError",
    "LabgobWarning",
    "Register",
    "encode_as_plain",
    "dumps",
    "loads",
    "decode_into",
    "dumps_fields",
    "NewEncoder",
    "NewDecoder",
    "LabEncoder",
    "LabDecoder",
    "errorCount",
]

_PROTOCOL = pickle.HIGHEST_PROTOCOL


class EncodeError(TypeError):
    """A value that is not plain data was given to the encoder."""


class DecodeError(pickle.UnpicklingError):
    """Bytes that labgob will not, or cannot, turn back into a value."""


class LabgobWarning(UserWarning):
    """A likely bug that labgob can survive (the Go lab prints these)."""


_registry_lock = threading.Lock()
# (module, qualname) -> class, for every class that may be decoded.
_trusted: Dict[Tuple[str, str], type] = {("builtins", "complex"): complex}
# Classes with their own pickling code that the program chose to trust.
_registered_custom: Set[type] = set()
_warned_fields: Set[Tuple[type, str]] = set()
# list/dict subclasses encoded as their plain base (encode_as_plain).
_as_plain: Dict[type, type] = {}
_error_count = 0

# Live program state: sending any of these is a bug, whatever pickle thinks.
_LIVE_STATE_TYPES: Tuple[Tuple[type, str], ...] = (
    (type(threading.Lock()), "a lock"),
    (type(threading.RLock()), "a lock"),
    (threading.Condition, "a condition variable"),
    (threading.Event, "an event"),
    (threading.Semaphore, "a semaphore"),
    (threading.Thread, "a thread"),
    (queue.Queue, "a queue"),
    (queue.SimpleQueue, "a queue"),
    (io.IOBase, "an open file or stream"),
    (types.FunctionType, "a function"),
    (types.BuiltinFunctionType, "a function"),
    (types.MethodType, "a bound method"),
    (types.ModuleType, "a module"),
    (types.GeneratorType, "a generator"),
)


def errorCount() -> int:
    """How many warnings labgob has raised in this process (Go's errorCount)."""
    return _error_count


def _trust(cls: type) -> None:
    key = (cls.__module__, cls.__qualname__)
    if _trusted.get(key) is not cls:
        with _registry_lock:
            _trusted[key] = cls


def Register(value: Any) -> None:
    """Trust the class of value (or value itself, if it is a class).

    Needed only for classes that define their own pickling (a custom
    ``__reduce__``, an Enum, ...); plain classes are trusted as soon as one
    of their instances is encoded.
    """
    cls = value if isinstance(value, type) else type(value)
    if "<locals>" in cls.__qualname__:
        raise EncodeError(
            f"labgob.Register: {cls.__qualname__} is defined inside a function; "
            "define it at module level so the decoder can find it"
        )
    with _registry_lock:
        _registered_custom.add(cls)
    _trust(cls)


def encode_as_plain(cls: type, base: type) -> None:
    """Encode instances of cls, a subclass of list or dict, as a plain base.

    For wrappers that must persist as what they stand for: the race
    checker's watched lists and dicts. The decoder gets a plain base.
    """
    if base not in (list, dict) or not (isinstance(cls, type) and issubclass(cls, base)):
        raise TypeError(f"labgob.encode_as_plain: {cls!r} is not a subclass of list or dict "
                        f"named as its base (got base {base!r})")
    with _registry_lock:
        _as_plain[cls] = base
    _trust(base)


def _uses_default_reduce(cls: type) -> bool:
    return (
        getattr(cls, "__reduce_ex__", None) is object.__reduce_ex__
        and getattr(cls, "__reduce__", None) is object.__reduce__
    )


def _live_state_kind(obj: Any) -> Optional[str]:
    for cls, kind in _LIVE_STATE_TYPES:
        if isinstance(obj, cls):
            return kind
    return None


class _Refused(Exception):
    """Raised inside the pickler; turned into an EncodeError with a path."""

    def __init__(self, culprit: Any, reason: str) -> None:
        super().__init__(reason)
        self.culprit = culprit
        self.reason = reason


class _CheckingPickler(pickle.Pickler):
    """A pickler that lets through plain data only."""

    def __init__(self, file: BinaryIO) -> None:
        super().__init__(file, protocol=_PROTOCOL)
        # Pickle writes an instance's class reference right after the
        # instance; that one class object is data's shape, not a value.
        self._expected_class: Optional[type] = None

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type):
            if obj is self._expected_class:
                self._expected_class = None
                return NotImplemented
            raise _Refused(obj, "a class is code, not data")
        base = _as_plain.get(type(obj))
        if base is not None:
            self._expected_class = base  # the class this reduction names first
            return base, (base(obj),)
        kind = _live_state_kind(obj)
        if kind is not None:
            raise _Refused(obj, f"{kind} is live program state, not data")
        cls = type(obj)
        if cls.__qualname__.find("<locals>") >= 0:
            raise _Refused(
                obj, "its class is defined inside a function, so no decoder could find it"
            )
        if not (_uses_default_reduce(cls) or cls is complex or cls in _registered_custom):
            raise _Refused(
                obj,
                "its class has its own pickling code; call labgob.Register() "
                "on it if it is safe to decode",
            )
        self._expected_class = cls
        _trust(cls)
        return NotImplemented


def _children(value: Any) -> Iterator[Tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield f"[{key!r}]", item
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield f"[{i}]", item
    elif isinstance(value, (set, frozenset)):
        for item in value:
            yield "{...}", item
    else:
        for name, item in _fields(value).items():
            yield f".{name}", item


def _path_to(root: Any, culprit: Any, root_name: str) -> str:
    """Where culprit sits inside root, as Python would spell the access."""
    seen: Set[int] = set()
    stack = [(root_name, root)]
    while stack:
        path, value = stack.pop()
        if value is culprit:
            return path
        if id(value) in seen or isinstance(value, (str, bytes, int, float)):
            continue
        seen.add(id(value))
        for step, child in _children(value):
            stack.append((path + step, child))
    return root_name + "..."


# Values pickle writes directly, with no class to check or trust.
_SCALARS = frozenset({int, float, str, bytes, bool, type(None)})


def dumps(value: Any, root_name: str = "value") -> bytes:
    """Encode plain data; root_name is how errors refer to value."""
    if type(value) in _SCALARS:
        return pickle.dumps(value, _PROTOCOL)
    buf = io.BytesIO()
    try:
        _CheckingPickler(buf).dump(value)
    except _Refused as refused:
        cls = refused.culprit if isinstance(refused.culprit, type) else type(refused.culprit)
        where = _path_to(value, refused.culprit, root_name)
        raise EncodeError(
            f"labgob: cannot encode {cls.__module__}.{cls.__qualname__} "
            f"at {where}: {refused.reason}"
        ) from None
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as err:
        raise EncodeError(f"labgob: cannot encode {root_name}: {err}") from err
    return buf.getvalue()


class _SafeUnpickler(pickle.Unpickler):
    """Finds only trusted classes; never a function, never an arbitrary class."""

    def find_class(self, module: str, name: str) -> Any:
        cls = _trusted.get((module, name))
        if cls is None:
            raise DecodeError(
                f"labgob: refusing to decode {module}.{name}: only plain data and "
                "classes this program encoded or registered may be decoded"
            )
        return cls

    def persistent_load(self, pid: Any) -> Any:
        raise DecodeError("labgob: refusing a persistent id; labgob never writes one")


def loads(data: bytes) -> Any:
    """Decode bytes written by dumps."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"labgob.loads: expected bytes, got {type(data).__name__}")
    return _load_from(io.BytesIO(data))


def _load_from(stream: BinaryIO) -> Any:
    try:
        return _SafeUnpickler(stream).load()
    except DecodeError:
        raise
    except EOFError:
        raise
    except Exception as err:
        raise DecodeError(f"labgob: cannot decode: {err}") from err


_defaults_cache: Dict[type, Optional[Dict[str, Any]]] = {}


def _fields(obj: Any) -> Dict[str, Any]:
    found = dict(getattr(obj, "__dict__", {}))
    for cls in type(obj).__mro__:
        for name in getattr(cls, "__slots__", ()):
            if name not in ("__dict__", "__weakref__") and hasattr(obj, name):
                found[name] = getattr(obj, name)
    return found


def _defaults_of(cls: type) -> Optional[Dict[str, Any]]:
    if cls not in _defaults_cache:
        try:
            _defaults_cache[cls] = _fields(cls())
        except Exception:
            # A class that cannot be built without arguments has no defaults
            # to compare with; the check is skipped for it.
            _defaults_cache[cls] = None
    return _defaults_cache[cls]


def _warn_non_default(target: Any) -> None:
    global _error_count
    defaults = _defaults_of(type(target))
    if defaults is None:
        return
    for name, current in _fields(target).items():
        if name in defaults and current != defaults[name]:
            with _registry_lock:
                _error_count += 1
                first_time = (type(target), name) not in _warned_fields
                _warned_fields.add((type(target), name))
            if first_time:
                warnings.warn(
                    f"labgob: decoding into {type(target).__qualname__}.{name}, which "
                    f"already holds the non-default value {current!r}; use a fresh "
                    "reply object for every call",
                    LabgobWarning,
                    stacklevel=4,
                )
            return


def dumps_fields(obj: Any, root_name: str = "value") -> bytes:
    """Encode only obj's fields, as a dict: what a reply sends back.

    Like gob, the receiver already knows the type it decodes into, so the
    class need not travel (and its name does not count as RPC bytes).
    """
    fields = obj if isinstance(obj, dict) else _fields(obj)
    return dumps(fields, root_name=root_name)


def decode_into(target: Any, data: bytes) -> None:
    """Decode an object, or fields from dumps_fields, into target (a reply)."""
    _copy_into(target, loads(data))


def _copy_into(target: Any, value: Any) -> None:
    if isinstance(target, dict):
        if not isinstance(value, dict):
            raise DecodeError(
                f"labgob: cannot decode a {type(value).__qualname__} into a dict"
            )
        target.clear()
        target.update(value)
        return
    if isinstance(value, dict):
        fields = value
    elif type(value) is type(target):
        fields = _fields(value)
    else:
        raise DecodeError(
            f"labgob: cannot decode a {type(value).__qualname__} into a "
            f"{type(target).__qualname__}"
        )
    known = _defaults_of(type(target))
    if known is not None:
        unknown = sorted(set(fields) - set(known))
        if unknown:
            raise DecodeError(
                f"labgob: {type(target).__qualname__} has no field "
                f"{', '.join(unknown)}; the handler's reply type differs from the caller's"
            )
    _warn_non_default(target)
    for name, field in fields.items():
        setattr(target, name, field)


class LabEncoder:
    """Go's labgob.Encoder: Encode values one after another onto a stream."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def Encode(self, value: Any) -> None:
        self._stream.write(dumps(value))


class LabDecoder:
    """Go's labgob.Decoder: Decode the values Encode wrote, in order."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream

    def Decode(self, into: Any = None) -> Any:
        """Return the next value; if into is given, also copy it there."""
        value = _load_from(self._stream)
        if into is not None:
            _copy_into(into, value)
        return value


def NewEncoder(stream: BinaryIO) -> LabEncoder:
    return LabEncoder(stream)


def NewDecoder(stream: BinaryIO) -> LabDecoder:
    return LabDecoder(stream)
