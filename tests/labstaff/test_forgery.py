"""Hostile submissions, graded: none earns a point, and results.json stays the grader's.

Each is the student's starter raft.py (which fails every 2A test) or the
solution, with a cheat added in Make or at import. As root with a Python
the sandbox user can run, the tests run as that user; the tests that need
that layer are skipped otherwise, and say why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path
from typing import Iterator, List

import pytest

from labstaff.isolation import Isolation
from labstaff.sandbox import Verdict, parse_verdict
from labstaff.starter import cut

REPO = Path(__file__).resolve().parents[2]
SOLUTION = REPO / "src" / "raft" / "raft.py"
MAKE = "    rf = Raft(peers, me, persister, applyCh)\n"
ONE_TEST = ("--test", "TestInitialElection2A")
HARNESS_CHANGED = "the submission changed the test harness"

ISOLATION = Isolation.for_this_process()
ISOLATION.release()  # the graders these tests start need a user of their own
isolated = pytest.mark.skipif(ISOLATION.user is None,
                              reason=f"needs the grader's isolation: {ISOLATION.problem}")


def hostile(tmp_path: Path, name: str, in_make: str = "", at_import: str = "",
            base: str = "starter") -> Path:
    """A raft.py: the starter (or solution) with code put first in Make and at the end."""
    text = SOLUTION.read_text()
    if base == "starter":
        text = cut(text)
    assert MAKE in text
    cheat = textwrap.indent(textwrap.dedent(in_make), "    ")
    text = text.replace(MAKE, cheat + MAKE) + textwrap.dedent(at_import)
    path = tmp_path / name / "raft.py"
    path.parent.mkdir()
    path.write_text(text)
    return path


@pytest.fixture
def results_dir() -> Iterator[Path]:
    """A results folder others may enter and read, as Gradescope's is."""
    folder = Path(tempfile.mkdtemp(prefix="forgery-results-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def grade(path: Path, out: Path, *args: str) -> "tuple[dict, str]":
    result = subprocess.run(
        [sys.executable, "-m", "labstaff.grade", str(path), "--out", str(out), *args],
        capture_output=True, text=True, cwd=path.parent, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    results = json.loads(out.read_text())
    assert set(results) >= {"score", "tests", "execution_time"}
    return results, result.stdout


def running(pid: int) -> bool:
    """Whether a process exists and is not a zombie (which runs nothing)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def reasons(results: dict) -> List[str]:
    """Each test's one-line cause (results.json shows it as "**Failed:** cause")."""
    return [test["output"].splitlines()[0].removeprefix("**Failed:** ")
            for test in results["tests"]]


# --- ending the process before the harness reports -------------------------------


def test_exit_0_in_make_fails_every_test(tmp_path: Path) -> None:
    cheat = hostile(tmp_path, "exit0", "import os\nos._exit(0)\n")
    results, table = grade(cheat, tmp_path / "results.json")
    assert results["score"] == 0 and len(results["tests"]) == 3
    assert reasons(results) == [
        "the test process exited with status 0 before the test finished"] * 3
    assert "FAIL" in table and "PASS" not in table


def test_system_exit_0_in_make_and_at_import_fail(tmp_path: Path) -> None:
    in_make = hostile(tmp_path, "sysexit", "raise SystemExit(0)\n")
    results, _ = grade(in_make, tmp_path / "r1.json", *ONE_TEST)
    assert results["score"] == 0
    at_import = hostile(tmp_path, "sysexit-import", at_import="raise SystemExit(0)\n")
    results, _ = grade(at_import, tmp_path / "r2.json", *ONE_TEST)
    assert results["score"] == 0
    assert reasons(results)[0].startswith("the test process exited with status")


def test_killing_its_own_process_fails(tmp_path: Path) -> None:
    cheat = hostile(tmp_path, "kill", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
                    base="solution")
    results, _ = grade(cheat, tmp_path / "results.json", *ONE_TEST)
    assert results["score"] == 0
    assert reasons(results) == ["the test process was killed by SIGKILL before the test finished"]


def test_silencing_the_channel_and_forging_a_line_fails(tmp_path: Path) -> None:
    # The solution passes, but it writes a line of its own into every pipe
    # it holds and closes them: the harness's report never arrives.
    silence = """\
        import os
        for fd in map(int, os.listdir("/proc/self/fd")):
            try:
                if os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:"):
                    os.write(fd, b"0123 TestInitialElection2A passed\\n")
                    os.close(fd)
            except OSError:
                pass
        """
    cheat = hostile(tmp_path, "silence", silence, base="solution")
    results, _ = grade(cheat, tmp_path / "results.json", *ONE_TEST)
    assert results["score"] == 0
    assert reasons(results) == ["the test process exited with status 0 before the test finished"]


# --- changing the harness ------------------------------------------------------------

PATCH_CHECKS = """\
    import raft.config
    for check in ("checkOneLeader", "checkTerms", "checkNoLeader"):
        setattr(raft.config.Config, check, lambda self, *args: 1)
    raft.config.Config.end = lambda self: self.t.Log("  ... Passed --   3.0  3   60   12306    0")
    """


def test_patching_the_harness_checks_is_reported_as_a_harness_change(tmp_path: Path) -> None:
    # The example: it earned 3/3 before.
    cheat = hostile(tmp_path, "checks", PATCH_CHECKS)
    results, _ = grade(cheat, tmp_path / "results.json")
    assert results["score"] == 0 and len(results["tests"]) == 3
    for reason in reasons(results):
        assert reason.startswith(f"{HARNESS_CHANGED}: Config.checkOneLeader, "
                                 "Config.checkTerms, Config.checkNoLeader, Config.end")


# The harness's Config, found up the stack from Make (which it calls).
FRAME = ("import sys\nframe = sys._getframe(1)\n"
         "while type(frame.f_locals.get('self')).__name__ != 'Config':\n"
         "    frame = frame.f_back\n"
         "cfg = frame.f_locals['self']\n")
CHANGES = {
    "Config.checkOneLeader": "import raft.config\n"
                             "raft.config.Config.checkOneLeader = lambda self: 0\n",
    "Config.checkTerms": "import raft.config\n"
                         "raft.config.Config.checkTerms = lambda self: 1\n",
    "Config.checkNoLeader": "import raft.config\n"
                            "raft.config.Config.checkNoLeader = lambda self: None\n",
    "Config.end": "import raft.config\n"
                  "raft.config.Config.end = lambda self: None\n",
    # The check is wrapped (the record notes each check): change the code inside.
    "Config.checkOneLeader (its code)": "import raft.config\n"
                                        "raft.config.Config.checkOneLeader.__wrapped__"
                                        ".__code__ = (lambda self: 0).__code__\n",
    "Config.checkOneLeader (on an instance)": FRAME + "cfg.checkOneLeader = lambda: 0\n",
    "T.Fatal (on an instance)": FRAME + "cfg.t.Fatal = lambda message: None\n",
    "Network.GetTotalCount": "import labrpc\n"
                             "labrpc.Network.GetTotalCount = lambda self: 0\n",
    "labgob.NewDecoder": "import labgob\nlabgob.NewDecoder = lambda stream: None\n",
    "Persister.RaftStateSize": "import raft.persister\n"
                               "raft.persister.Persister.RaftStateSize = lambda self: 0\n",
    "pytest plugin flip": textwrap.dedent("""\
        import gc
        import _pytest.config
        import pytest
        class Flip:
            @pytest.hookimpl(hookwrapper=True)
            def pytest_runtest_makereport(self, item, call):
                outcome = yield
                outcome.get_result().outcome = "passed"
        for found in gc.get_objects():
            if isinstance(found, _pytest.config.Config) and \\
                    not found.pluginmanager.has_plugin("flip"):
                found.pluginmanager.register(Flip(), "flip")
        """),
}


@pytest.mark.parametrize("changed", sorted(CHANGES))
def test_a_changed_harness_fails_the_test_and_says_what(tmp_path: Path, changed: str) -> None:
    cheat = hostile(tmp_path, "changed", CHANGES[changed])
    results, table = grade(cheat, tmp_path / "results.json", *ONE_TEST,
                           "--test-timeout", "30")
    assert results["score"] == 0
    (reason,) = reasons(results)
    assert reason.startswith(f"{HARNESS_CHANGED}: ")
    assert changed.replace(" (its code)", "") in reason
    assert HARNESS_CHANGED in table


def test_skipping_the_test_body_passes_pytest_but_not_the_harness(tmp_path: Path) -> None:
    # pytest's own machinery is not watched, but the harness must still
    # print its Passed line (cfg.end()) for the test to pass.
    skip = """\
        import _pytest.python
        _pytest.python.Function.runtest = lambda self: None
        """
    cheat = hostile(tmp_path, "skip", at_import=skip)
    results, _ = grade(cheat, tmp_path / "results.json", *ONE_TEST)
    assert results["score"] == 0
    assert reasons(results) == [
        "pytest passed the test, but the harness never printed its Passed line"]


def test_wrapping_t_fatalf_to_do_nothing_is_a_harness_change(tmp_path: Path) -> None:
    quiet = """\
        import labtest.testing
        labtest.testing.T.Fatalf = lambda self, format, *args: None
        """
    cheat = hostile(tmp_path, "fatalf", at_import=quiet)
    results, _ = grade(cheat, tmp_path / "results.json", *ONE_TEST)
    assert results["score"] == 0
    assert reasons(results) == [f"{HARNESS_CHANGED}: T.Fatalf"]


def test_a_change_made_after_the_last_check_still_fails(tmp_path: Path) -> None:
    # The solution passes every check; its Kill, which the harness calls
    # while cleaning up after cfg.end(), then changes a check. The report
    # comes after the cleanup, so it sees the change.
    late = """\
        _kill = Raft.Kill
        def _kill_and_change(self):
            import raft.config
            raft.config.Config.checkTerms = lambda self: 1
            _kill(self)
        Raft.Kill = _kill_and_change
        """
    cheat = hostile(tmp_path, "late", at_import=late, base="solution")
    results, _ = grade(cheat, tmp_path / "results.json", *ONE_TEST)
    assert results["score"] == 0
    assert reasons(results) == [f"{HARNESS_CHANGED}: Config.checkTerms"]


# --- files: the tests, the results, the grader -------------------------------------

EDIT_FILES = """\
    import os, raft.config, raft.test_raft
    harness = os.path.dirname(raft.config.__file__)
    for name in ("test_raft.py", "config.py", "testing.py", "__init__.py"):
        path = os.path.join(harness, name)
        try:
            with open(path, "w") as out:
                out.write("def TestInitialElection2A(t):\\n    t.Log('  ... Passed --')\\n")
        except OSError:
            pass
    for path in (os.path.join(harness, "persister.py"),
                 os.path.join(os.path.dirname(harness), "..", "pytest.ini")):
        try:
            os.remove(path)
        except OSError:
            pass
    """


def test_editing_and_deleting_the_test_files_changes_no_grade(tmp_path: Path) -> None:
    cheat = hostile(tmp_path, "edit", EDIT_FILES)
    results, _ = grade(cheat, tmp_path / "results.json")
    assert results["score"] == 0 and len(results["tests"]) == 3
    if ISOLATION.user is not None:
        # Read-only to the test's user: every test fails on its own merits.
        for reason in reasons(results):
            assert reason.endswith("expected one leader, got none")
    else:
        # Same user: each test that changed the files is caught, and the
        # files are put back before the next.
        for reason in reasons(results):
            assert reason.startswith(f"{HARNESS_CHANGED}: ")
            assert "src/raft/test_raft.py" in reason


@isolated
def test_the_grader_s_own_files_are_read_only_to_the_submission(tmp_path: Path) -> None:
    probe = REPO / "src" / "raft" / "forgery-probe.txt"
    cheat = hostile(tmp_path, "probe", f"""\
        for path in ({str(probe)!r}, {str(SOLUTION)!r}):
            try:
                open(path, "a").close()
            except OSError:
                pass
        """)
    try:
        results, _ = grade(cheat, tmp_path / "results.json", *ONE_TEST)
        assert not probe.exists()
        assert results["score"] == 0
    finally:
        probe.unlink(missing_ok=True)


FAKE_RESULTS = """\
    import json, os
    fake = json.dumps({"score": 100, "tests": [], "execution_time": 1})
    found = []
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as cmdline:
            argv = cmdline.read().decode().split("\\0")
        found.append(argv[argv.index("--out") + 1])
    except (OSError, ValueError, IndexError):
        pass
    for path in ["results.json", *found]:
        try:
            with open(path, "w") as out:
                out.write(fake)
        except OSError:
            pass
    os._exit(0)
    """


def test_a_fake_results_json_is_never_the_grade(tmp_path: Path, results_dir: Path) -> None:
    cheat = hostile(tmp_path, "fake", FAKE_RESULTS)
    out = results_dir / "results.json"
    results, _ = grade(cheat, out)
    assert results["score"] == 0 and len(results["tests"]) == 3
    assert '"score": 100' not in out.read_text()
    if ISOLATION.user is not None:
        owners = {path.stat().st_uid for path in results_dir.iterdir()}
        assert owners == {os.getuid()}


@isolated
def test_a_results_folder_the_sandbox_user_could_write_is_warned_about(
        tmp_path: Path, results_dir: Path) -> None:
    broken = tmp_path / "raft.py"
    broken.write_text("def Make(:\n")
    results_dir.chmod(0o777)
    _, table = grade(broken, results_dir / "results.json", *ONE_TEST)
    assert f"warning: {results_dir} is writable by raft-sandbox" in table
    results_dir.chmod(0o755)
    _, table = grade(broken, results_dir / "results.json", *ONE_TEST)
    assert "warning" not in table


@isolated
def test_killing_the_grader_as_the_sandbox_user_fails_and_the_grader_goes_on(
        tmp_path: Path, results_dir: Path) -> None:
    kill = """\
        import os, signal
        if os.getuid() != 0:  # never as root: this must be the sandbox's user
            for target in (os.getppid(), 1):
                for sig in (signal.SIGKILL, signal.SIGTERM):
                    try:
                        os.kill(target, sig)
                    except OSError:
                        pass
        os._exit(0)
        """
    cheat = hostile(tmp_path, "killer", kill, base="solution")
    out = results_dir / "results.json"
    results, table = grade(cheat, out)
    assert results["score"] == 0 and len(results["tests"]) == 3
    assert "score: 0/3" in table


@isolated
def test_processes_a_test_leaves_behind_are_ended(tmp_path: Path) -> None:
    # A daemon that leaves the test's session would outlive it and could
    # wait to overwrite results.json: the grader ends every process of the
    # sandbox's user after each test.
    drop = Path(tempfile.mkdtemp(prefix="forgery-drop-"))
    drop.chmod(0o777)
    pid_file = drop / "daemon.pid"
    daemon = f"""\
        import subprocess, sys
        if me == 0 and not getattr(sys, "_daemon_started", False):
            sys._daemon_started = True
            subprocess.Popen([sys.executable, "-c",
                              "import os, time; "
                              "open({str(pid_file)!r}, 'w').write(str(os.getpid())); "
                              "time.sleep(60)"],
                             start_new_session=True)
        """
    cheat = hostile(tmp_path, "daemon", daemon, base="solution")
    try:
        grade(cheat, tmp_path / "results.json", *ONE_TEST)
        pid = int(pid_file.read_text())  # it did start
        assert not running(pid), "the daemon outlived its test"
    finally:
        shutil.rmtree(drop, ignore_errors=True)


# --- the solution, plain pytest, the verdict's parser ---------------------------------


def test_the_solution_still_earns_every_point(tmp_path: Path, results_dir: Path) -> None:
    results, table = grade(SOLUTION, results_dir / "results.json")
    assert results["score"] == 3, table
    assert ("isolation on" if ISOLATION.user else "isolation off") in table


@isolated
def test_without_root_the_grader_says_isolation_is_off(results_dir: Path) -> None:
    results_dir.chmod(0o777)
    broken = results_dir / "raft.py"
    broken.write_text("def Make(:\n")
    broken.chmod(0o644)
    out = results_dir / "results.json"
    result = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
         sys.executable, "-m", "labstaff.grade", str(broken), "--out", str(out), *ONE_TEST],
        capture_output=True, text=True, cwd=results_dir, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith(
        "isolation off: the grader is not running as root; the submission runs as the "
        "grader's user")
    assert json.loads(out.read_text())["score"] == 0


def test_plain_pytest_has_no_grader_guard(request: pytest.FixtureRequest) -> None:
    assert "RAFT_GRADER_CHANNEL" not in os.environ
    assert request.config.pluginmanager.get_plugin("raft-grader-guard") is None


def test_only_a_line_with_the_secret_and_the_test_s_name_counts() -> None:
    secret = b"s3cret"
    assert parse_verdict(b"s3cret T1 passed\n", secret, "T1") == Verdict("passed")
    assert parse_verdict(b"guess T1 passed\n", secret, "T1") is None
    assert parse_verdict(b"s3cret T2 passed\n", secret, "T1") is None
    assert parse_verdict(b"garbage\n\x00\xff\n", secret, "T1") is None
    both = b"s3cret T1 passed\ns3cret T1 failed\n"
    assert parse_verdict(both, secret, "T1") == Verdict("failed")
    changed = b"s3cret T1 harness-changed T.Fatalf\ns3cret T1 passed\n"
    assert parse_verdict(changed, secret, "T1") == Verdict("harness-changed", "T.Fatalf")
    assert parse_verdict(b"s3cret T1 weird\n", secret, "T1") == Verdict("failed")
