"""labstaff.integrity: a snapshot of the harness sees each way of changing it, and nothing else."""

from __future__ import annotations

import types

import pluggy

from labstaff.integrity import Snapshot

SOURCE = '''
LIMIT = 120

class Config:
    def checkOneLeader(self):
        return 1

    def end(self, passed=True):
        return passed

def make_config():
    return Config()
'''


def harness() -> types.ModuleType:
    module = types.ModuleType("fake_harness")
    exec(compile(SOURCE, "fake_harness.py", "exec"), vars(module))
    return module


def snapshot_of(module: types.ModuleType) -> Snapshot:
    snap = Snapshot()
    snap.add_module(module)
    return snap


def test_an_untouched_harness_has_no_changes() -> None:
    module = harness()
    snap = snapshot_of(module)
    cfg = module.make_config()
    cfg.n = 3  # instance state is the harness's business
    assert cfg.checkOneLeader() == 1
    assert snap.changes() == []


def test_each_way_of_changing_a_method_is_seen() -> None:
    module = harness()
    snap = snapshot_of(module)
    module.Config.checkOneLeader = lambda self: 0
    assert snap.changes() == ["Config.checkOneLeader"]

    module = harness()
    snap = snapshot_of(module)
    module.Config.checkOneLeader.__code__ = (lambda self: 0).__code__
    assert snap.changes() == ["Config.checkOneLeader"]

    module = harness()
    snap = snapshot_of(module)
    module.Config.end.__defaults__ = (False,)
    assert snap.changes() == ["Config.end"]

    module = harness()
    snap = snapshot_of(module)
    del module.Config.end
    module.Config.extra = staticmethod(lambda: None)
    assert snap.changes() == ["Config.end", "Config.extra"]


def test_module_names_and_instances_are_watched() -> None:
    module = harness()
    snap = snapshot_of(module)
    module.LIMIT = 10 ** 9
    module.make_config = lambda: None
    assert snap.changes() == ["fake_harness.LIMIT", "fake_harness.make_config"]

    module = harness()
    snap = snapshot_of(module)
    cfg = module.make_config()
    cfg.checkOneLeader = lambda: 0
    assert snap.changes() == ["Config.checkOneLeader (on an instance)"]
    del cfg


def test_one_object_and_a_skipped_name() -> None:
    holder = types.SimpleNamespace(fail=print)
    module = harness()
    snap = Snapshot()
    snap.add_module(module, skip=("LIMIT",))
    snap.add_object("holder.fail", holder, "fail")
    module.LIMIT = 1  # rebound by the harness itself, say
    assert snap.changes() == []
    holder.fail = len
    assert snap.changes() == ["holder.fail"]


hookspec = pluggy.HookspecMarker("probe")
hookimpl = pluggy.HookimplMarker("probe")


class Spec:
    @hookspec
    def pytest_runtest_makereport(self, item):  # noqa: ANN001 - a hook's signature
        """A hook."""


class Harness:
    @hookimpl
    def pytest_runtest_makereport(self, item):  # noqa: ANN001
        return "harness"


class Forger:
    @hookimpl
    def pytest_runtest_makereport(self, item):  # noqa: ANN001
        return "passed"


def test_plugins_registered_later_must_be_pytest_s_own() -> None:
    manager = pluggy.PluginManager("probe")
    manager.add_hookspecs(Spec)
    manager.register(Harness(), "harness")
    snap = Snapshot()
    snap.add_plugins(manager)
    assert snap.changes() == []

    pytest_own = types.ModuleType("_pytest.probe")
    manager.register(pytest_own, "pytest-own")  # no hooks, but from pytest
    assert snap.changes() == []

    manager.register(Forger(), "forger")
    assert snap.changes() == ["pytest plugin forger", "pytest hook pytest_runtest_makereport"]

    manager.unregister(name="forger")
    manager.unregister(name="harness")
    assert snap.changes() == ["pytest plugin harness (unregistered)",
                              "pytest hook pytest_runtest_makereport"]
