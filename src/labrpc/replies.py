"""A handler's fresh reply, built as Go builds one: every field at its zero value.

    from labrpc.replies import new_reply, ReplyTypeError
    reply = new_reply(RequestVoteReply)

In Go a reply starts zeroed (`reply := RequestVoteReply{}`); in Python the
server calls the reply class with no arguments. A dataclass with required
fields (`Term: int` with no default) cannot be called that way, so its
missing fields get the zero value of their annotated type, as in Go:
0, 0.0, False, "", b"", an empty list/dict/tuple/set, None for anything
else (Optional[...] included), a nested dataclass built the same way. A
class that still cannot be built is a ReplyTypeError naming the class and
what to change.
"""

from __future__ import annotations

import dataclasses
import typing
from typing import Any, Dict

_ZERO_OF_TYPE = {int: 0, float: 0.0, bool: False, str: "", bytes: b""}
_EMPTY_OF_ORIGIN = {list: list, dict: dict, tuple: tuple, set: set}
# Annotations written as strings (from __future__ import annotations) that
# typing cannot resolve are matched by name.
_ZERO_OF_NAME = {"int": 0, "float": 0.0, "bool": False, "str": "", "bytes": b""}


class ReplyTypeError(TypeError):
    """A reply class that cannot be built without arguments, even with zero values."""


def _zero(annotation: Any, depth: int) -> Any:
    if annotation in _ZERO_OF_TYPE:
        return _ZERO_OF_TYPE[annotation]
    if annotation in _EMPTY_OF_ORIGIN:
        return _EMPTY_OF_ORIGIN[annotation]()
    origin = typing.get_origin(annotation)
    if origin in _EMPTY_OF_ORIGIN:
        return _EMPTY_OF_ORIGIN[origin]()
    if isinstance(annotation, str):
        base = annotation.split("[", 1)[0].strip()
        if base in _ZERO_OF_NAME:
            return _ZERO_OF_NAME[base]
        if base in ("list", "List"):
            return []
        if base in ("dict", "Dict"):
            return {}
        return None
    if isinstance(annotation, type) and dataclasses.is_dataclass(annotation) and depth < 5:
        return _zeroed(annotation, depth + 1)
    return None


def _zeroed(cls: type, depth: int = 0) -> Any:
    try:
        hints: Dict[str, Any] = typing.get_type_hints(cls)
    except Exception:
        hints = {}
    missing = {}
    for field in dataclasses.fields(cls):
        required = (field.init and field.default is dataclasses.MISSING
                    and field.default_factory is dataclasses.MISSING)
        if required:
            missing[field.name] = _zero(hints.get(field.name, field.type), depth)
    return cls(**missing)


def new_reply(cls: type) -> Any:
    """An instance of cls for a handler to fill in; see the module docstring."""
    try:
        return cls()
    except TypeError as err:
        first_error = err
    if dataclasses.is_dataclass(cls):
        try:
            return _zeroed(cls)
        except Exception:  # fall through to the message that says what to change
            pass
    name = getattr(cls, "__qualname__", repr(cls))
    raise ReplyTypeError(
        f"labrpc: cannot build a reply of class {name} without arguments ({first_error}). "
        f"A reply starts empty, as in Go: give every field of {name} a default "
        "(e.g. `Term: int = 0`), or an __init__ that takes no arguments."
    ) from None
