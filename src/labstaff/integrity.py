"""Has the test harness been changed? A snapshot of it, and what differs since.

    snap = Snapshot()
    snap.add_module(raft.config)        -- its functions, classes, constants,
                                           and every attribute of its classes
    snap.add_object("pytest.fail", pytest, "fail")
    snap.add_plugins(config.pluginmanager)  -- every hook implementation now
    snap.changes()                      -- ["Config.checkOneLeader", ...]: what
                                           was replaced, wrapped, added or removed

The grader's test process takes the snapshot before a submission's code runs
(labstaff.verdict does) and compares at the end of every test. It sees a name
bound to another object, a function whose code or defaults were swapped,
a class attribute added or deleted, a method shadowed on an instance of a
watched class (cfg.checkOneLeader = ... on the Config object), and a pytest
plugin or hook implementation that was not there, or not pytest's own.

It compares identities, so a check costs a few hundred `is` tests, and one
walk over the objects the garbage collector tracks to find the instances.
It cannot see changes inside objects it does not watch (Python itself, the
standard library, pytest's and pluggy's internals); docs/grader-defences.md
lists what that leaves open.
"""

from __future__ import annotations

import gc
import types
from typing import Any, Dict, Iterable, List, Optional, Tuple

# Where pytest's own plugins live: a plugin registered after the snapshot
# must come from here (pytest registers its terminal reporter, fixture
# manager and the like after start-up).
PYTEST_MODULES = ("_pytest.", "pytest_timeout.")

# An entry: a label for reports, the object found, and for a function the
# parts that can be swapped without replacing it.
_Entry = Tuple[str, Any, Tuple[Any, ...]]


def _parts(value: Any) -> Tuple[Any, ...]:
    """What can be changed inside a function without replacing it: its code
    and defaults, and those of every function it wraps (a decorator's
    __wrapped__, or a function held in its closure), which only it reaches."""
    parts = []
    seen = set()
    todo = [getattr(value, "__func__", value)]  # classmethod, staticmethod
    while todo:
        function = todo.pop()
        if not isinstance(function, types.FunctionType) or id(function) in seen:
            continue
        seen.add(id(function))
        parts.append((function.__code__, function.__defaults__, function.__kwdefaults__))
        todo.append(getattr(function, "__wrapped__", None))
        for cell in function.__closure__ or ():
            try:
                todo.append(cell.cell_contents)
            except ValueError:  # a cell not filled yet
                pass
    return tuple(parts)


class Snapshot:
    """Identities of the harness's objects at one moment."""

    def __init__(self) -> None:
        self._namespaces: List[Tuple[str, Any, Dict[str, _Entry]]] = []
        self._objects: List[Tuple[str, Any, str, Any]] = []
        self._classes: List[Tuple[str, type]] = []
        self._hooks: Optional[Dict[str, List[Tuple[str, Any]]]] = None
        self._plugins: Dict[str, Any] = {}
        self._pluginmanager: Any = None

    # --- taking it ------------------------------------------------------------------

    def add_module(self, module: types.ModuleType, skip: Iterable[str] = ()) -> None:
        """A module's names (not dunders, not `skip`) and its own classes."""
        skipped = set(skip)
        self._namespaces.append(
            (module.__name__, module, self._entries(module.__name__, vars(module), skipped))
        )
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == module.__name__:
                self.add_class(value)

    def add_class(self, cls: type) -> None:
        """Every attribute in the class's own dict; instances may not shadow its methods."""
        self._namespaces.append((cls.__qualname__, cls, self._entries(cls.__qualname__,
                                                                      vars(cls), set())))
        self._classes.append((cls.__qualname__, cls))

    def add_object(self, label: str, holder: Any, name: str) -> None:
        """One attribute of something not watched as a whole (pytest.fail)."""
        self._objects.append((label, holder, name, getattr(holder, name)))

    def add_plugins(self, pluginmanager: Any) -> None:
        """Every pytest plugin and hook implementation registered now."""
        self._pluginmanager = pluginmanager
        self._plugins = dict(pluginmanager.list_name_plugin())
        self._hooks = self._hook_table()

    @staticmethod
    def _entries(prefix: str, namespace: Any, skip: set) -> Dict[str, _Entry]:
        return {
            name: (f"{prefix}.{name}", value, _parts(value))
            for name, value in list(namespace.items())
            if not (name.startswith("__") and name.endswith("__")) and name not in skip
        }

    def _hook_table(self) -> Dict[str, List[Tuple[str, Any]]]:
        hook = self._pluginmanager.hook
        table = {}
        for name in dir(hook):
            caller = getattr(hook, name)
            if not name.startswith("_") and hasattr(caller, "get_hookimpls"):
                table[name] = [(impl.plugin_name, impl.function) for impl in caller.get_hookimpls()]
        return table

    # --- comparing ------------------------------------------------------------------

    def changes(self) -> List[str]:
        """What differs from the snapshot, one label each, in a stable order."""
        changed: List[str] = []
        for prefix, holder, entries in self._namespaces:
            namespace = vars(holder)
            for name, (label, value, parts) in entries.items():
                now = namespace.get(name, _MISSING)
                if now is not value or _parts(now) != parts:
                    changed.append(label)
            for name in list(namespace):
                if name not in entries and not name.startswith("__") and \
                        isinstance(holder, type):
                    changed.append(f"{prefix}.{name}")
        for label, holder, name, value in self._objects:
            if getattr(holder, name, _MISSING) is not value:
                changed.append(label)
        changed.extend(self._shadowed_methods())
        changed.extend(self._plugin_changes())
        return changed

    def _shadowed_methods(self) -> List[str]:
        """Methods replaced on an instance of a watched class."""
        watched = {cls: label for label, cls in self._classes}
        found: List[str] = []
        for obj in gc.get_objects():
            label = watched.get(type(obj))
            if label is None:
                continue
            own = getattr(obj, "__dict__", None)
            if not own:
                continue
            cls = type(obj)
            for name in own:
                if callable(getattr(cls, name, None)):
                    found.append(f"{label}.{name} (on an instance)")
        return sorted(set(found))

    def _plugin_changes(self) -> List[str]:
        if self._pluginmanager is None or self._hooks is None:
            return []
        changed: List[str] = []
        plugins = dict(self._pluginmanager.list_name_plugin())
        for name, plugin in plugins.items():
            if name in self._plugins:
                if plugin is not self._plugins[name]:
                    changed.append(f"pytest plugin {name}")
            elif not _from_pytest(plugin):
                changed.append(f"pytest plugin {name}")
        for name in self._plugins:
            if name not in plugins:
                changed.append(f"pytest plugin {name} (unregistered)")
        now = self._hook_table()
        for hook, impls in now.items():
            before = self._hooks.get(hook, [])
            kept = [(plugin, function) for plugin, function in impls
                    if plugin in self._plugins]
            added = [function for plugin, function in impls if plugin not in self._plugins]
            if len(kept) != len(before) or any(
                    p != q or f is not g for (p, f), (q, g) in zip(kept, before)):
                changed.append(f"pytest hook {hook}")
            elif not all(_from_pytest(function) for function in added):
                changed.append(f"pytest hook {hook}")
        return changed


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


def _from_pytest(obj: Any) -> bool:
    """Whether a plugin (or hook function) is pytest's own."""
    if isinstance(obj, types.ModuleType):
        module = obj.__name__
    else:
        function = getattr(obj, "__func__", obj)
        module = getattr(function, "__module__", None) or type(obj).__module__
        if not isinstance(function, types.FunctionType):
            module = type(obj).__module__
    return (module + ".").startswith(PYTEST_MODULES)
