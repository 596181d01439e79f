"""Where a submission's code runs, and how the grader hears the harness's verdict.

    box = Sandbox(submission, package_root, packages, pytest_ini, isolation)
    run = box.run_test(pytest_args, name, timeout)  -- Run: status, output,
                                                   verdict (or None), seconds
    run = box.run_python(code, timeout)           -- the import check
    box.tampered()                                -- harness files changed since built
    box.restore()                                 -- put them back
    box.close()

Every run of the submission's code is a fresh `python -I -B -u` process in
its own session, in a fresh working folder, with the harness and the tests
in a folder beside it. The verdict comes over a pipe the process inherits
(labstaff.verdict is the other end): the grader writes a new secret into one
pipe and closes it, and reads "SECRET TEST passed|failed|harness-changed
WHAT" lines from another. The environment says only which descriptors
they are; the test process reads and removes that before the submission's
code runs. Exit status is never a verdict.

With isolation on (labstaff.isolation: as root, another user) the harness,
the tests and the sandbox folder belong to root and are read-only to that
user, the working folder is its own, and after each run every process of
that user is killed. With it off the sandbox's files are fingerprinted,
and a test that changed them is caught and the files put back.
"""

from __future__ import annotations

import compileall
import hashlib
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from labstaff.channel import (CHANNEL_ENV, FAILED, HARNESS_CHANGED_WORD, PASSED,
                              STACKS_SIGNAL)
from labstaff.isolation import Isolation, kill_all_processes_of

# How long a process may take to exit once it has sent its verdict. The lab's
# pytest plugin ends a process whose threads outlive the tests within a few
# seconds; a starved machine (Gradescope's half a CPU, shared) needs longer.
EXIT_AFTER_VERDICT_S = 15.0
# A process still running then is asked for every thread's stack
# (channel.STACKS_SIGNAL) and given this long to write them before it is killed.
STACKS_AT_EXIT_S = 2.0
# More verdict bytes than this are a submission flooding the pipe.
VERDICT_LIMIT = 1 << 16
POLL_S = 0.2

# Runs pytest (or the import check) with the sandbox's packages first on
# sys.path, so that the submission's raft.py is the one imported. `-I` keeps
# the working folder, PYTHON* variables and the user's site-packages out;
# `-B` writes no bytecode (the sandbox is compiled when it is built); `-u`
# keeps the output of a process that has to be killed (one that hangs at
# exit on its threads never flushes its buffers).
RUNNER = ("import sys; sys.path.insert(0, {src!r}); import pytest; "
          "sys.exit(pytest.main(sys.argv[1:]))")


@dataclass
class Verdict:
    """What the harness said about one test."""

    word: str  # passed, failed or harness-changed
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.word == PASSED


@dataclass
class Run:
    """One process: how it ended, what it printed, what the harness said."""

    status: Optional[int]  # exit status; negative: killed by that signal; None: we killed it
    output: str
    verdict: Optional[Verdict]
    seconds: float
    # What a process that would not exit after its verdict wrote when asked
    # for its threads' stacks (STACKS_SIGNAL); "" otherwise.
    stacks: str = ""

    def ending(self) -> str:
        """How the process ended, in words."""
        if self.status is None:
            return "was stopped by the grader"
        if self.status < 0:
            try:
                name = signal.Signals(-self.status).name
            except ValueError:
                name = f"signal {-self.status}"
            return f"was killed by {name}"
        return f"exited with status {self.status}"


def parse_verdict(data: bytes, secret: bytes, name: str) -> Optional[Verdict]:
    """The harness's verdict on test `name`; any failure beats a pass.

    Lines without the secret, or about another test, are ignored: the
    submission can write into the pipe, but cannot make a line count.
    """
    found: Optional[Verdict] = None
    for line in data.splitlines():
        fields = line.split(b" ", 3)
        if len(fields) < 3 or not secrets.compare_digest(fields[0], secret):
            continue
        if fields[1].decode(errors="replace") != name:
            continue
        word = fields[2].decode(errors="replace")
        detail = fields[3].decode(errors="replace") if len(fields) > 3 else ""
        verdict = Verdict(word if word in (PASSED, HARNESS_CHANGED_WORD) else FAILED, detail)
        if found is None or found.passed or verdict.word == HARNESS_CHANGED_WORD:
            found = verdict
    return found


def _fingerprint(root: Path) -> Dict[str, str]:
    """A digest of every file under root; links and other kinds by what they are."""
    prints = {}
    for path in sorted(root.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            prints[str(path.relative_to(root))] = hashlib.sha256(path.read_bytes()).hexdigest()
        elif stat.S_ISLNK(mode):
            prints[str(path.relative_to(root))] = "link to " + os.readlink(path)
        elif not stat.S_ISDIR(mode):  # a pipe or device must never be read
            prints[str(path.relative_to(root))] = f"special file {stat.S_IFMT(mode):o}"
    return prints


class Sandbox:
    """A folder with the lab's packages, the submission's raft.py, and a work folder."""

    def __init__(self, submission: Path, package_root: Path, packages: Sequence[str],
                 pytest_ini: str, isolation: Isolation) -> None:
        self.isolation = isolation
        self.root = Path(tempfile.mkdtemp(prefix="raft-grade-"))
        self.harness = self.root / "harness"
        self.src = self.harness / "src"
        self.ini = self.harness / "pytest.ini"
        self.work = self.root / "work"
        self._package_root = package_root
        self._packages = tuple(packages)
        self._submission = submission
        self._pytest_ini = pytest_ini
        self._spoiled = 0
        self._build()

    def _build(self) -> None:
        ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
        for package in self._packages:
            shutil.copytree(self._package_root / package, self.src / package, ignore=ignore)
        shutil.copyfile(self._submission, self.src / "raft" / "raft.py")
        self.ini.write_text(self._pytest_ini)
        # Compiled here, so the test processes never need to write beside
        # the sources (compiling runs none of the submission's code).
        compileall.compile_dir(str(self.src), quiet=2)
        if self.isolation.user is not None:
            os.chmod(self.root, 0o755)
            self._make_read_only(self.harness)
        self._prints = _fingerprint(self.harness)

    @staticmethod
    def _make_read_only(root: Path) -> None:
        """Root owns it all; others may read and enter, never write."""
        for folder, dirs, files in os.walk(root):
            for name in [folder, *(os.path.join(folder, d) for d in dirs)]:
                os.chown(name, 0, 0)
                os.chmod(name, 0o755)
            for name in files:
                path = os.path.join(folder, name)
                os.chown(path, 0, 0, follow_symlinks=False)
                os.chmod(path, 0o644)

    def tampered(self) -> List[str]:
        """The harness files changed, added or removed since the sandbox was built."""
        now = _fingerprint(self.harness)
        return sorted(name for name in set(now) | set(self._prints)
                      if now.get(name) != self._prints.get(name))

    def restore(self) -> None:
        """Rebuild the harness folder as it was.

        The changed one is moved aside, not deleted: the submission may have
        made parts of it impossible to delete; close() removes what it can.
        """
        self._spoiled += 1
        self.harness.rename(self.root / f"spoiled-{self._spoiled}")
        self._build()

    def close(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    # --- running the submission's code ---------------------------------------------

    def _fresh_work(self) -> None:
        """A new, empty working folder that the test's user owns."""
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(mode=0o700)
        user = self.isolation.user
        if user is not None:
            os.chown(self.work, user.uid, user.gid)

    def run_test(self, pytest_args: Sequence[str], name: str, timeout: float) -> Run:
        """One pytest process for test `name`; its verdict comes over the channel."""
        args = ["-c", str(self.ini), "--rootdir", str(self.harness), "--noconftest",
                *pytest_args]
        return self._run(["-c", RUNNER.format(src=str(self.src)), *args], timeout, name)

    def run_python(self, code: str, timeout: float) -> Run:
        """A short program with the sandbox's packages first on sys.path."""
        code = f"import sys; sys.path.insert(0, {str(self.src)!r}); {code}"
        return self._run(["-c", code], timeout, None)

    def _run(self, argv: List[str], timeout: float, name: Optional[str]) -> Run:
        self._fresh_work()
        secret = secrets.token_hex(16).encode()
        secret_r, secret_w = os.pipe()
        os.write(secret_w, secret + b"\n")
        os.close(secret_w)
        verdict_r, verdict_w = os.pipe()
        os.set_blocking(verdict_r, False)
        env = dict(os.environ, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1",
                   HOME=str(self.work), TMPDIR=str(self.work))
        env.pop(CHANNEL_ENV, None)
        if name is not None:
            env[CHANNEL_ENV] = f"{secret_r}:{verdict_w}"
        user = self.isolation.user
        as_user = {} if user is None else {"user": user.uid, "group": user.gid,
                                           "extra_groups": []}
        received = bytearray()
        t0 = time.monotonic()
        with tempfile.TemporaryFile() as output:
            try:
                process = subprocess.Popen(
                    [sys.executable, "-I", "-B", "-u", *argv], cwd=self.work, env=env,
                    stdout=output, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                    start_new_session=True, pass_fds=(secret_r, verdict_w), umask=0o077,
                    **as_user,
                )
            finally:
                os.close(secret_r)
                os.close(verdict_w)
            try:
                status, stacks_at = self._wait(process, timeout, verdict_r, received, secret,
                                               name, output.fileno())
            finally:
                self._end_everything(process)
                _drain(verdict_r, received)
                os.close(verdict_r)
            output.seek(0)
            text = output.read().decode(errors="replace")
        verdict = parse_verdict(bytes(received), secret, name) if name is not None else None
        stacks = "" if stacks_at is None else text[stacks_at:]
        return Run(status, text[:stacks_at], verdict, time.monotonic() - t0, stacks)

    def _wait(self, process: subprocess.Popen, timeout: float, verdict_r: int,
              received: bytearray, secret: bytes, name: Optional[str],
              output: int) -> Tuple[Optional[int], Optional[int]]:
        """(The exit status, or None if the process had to be stopped; where in
        the output the stacks it was asked for begin, if it was asked)."""
        deadline = time.monotonic() + timeout
        heard = False
        while True:
            try:
                return process.wait(timeout=POLL_S), None
            except subprocess.TimeoutExpired:
                pass
            _drain(verdict_r, received)
            if not heard and name is not None and parse_verdict(bytes(received), secret, name):
                heard = True
                deadline = min(deadline, time.monotonic() + EXIT_AFTER_VERDICT_S)
            if time.monotonic() >= deadline:
                if heard and STACKS_SIGNAL is not None:
                    return None, self._ask_for_stacks(process, output)
                return None, None

    def _ask_for_stacks(self, process: subprocess.Popen, output: int) -> int:
        """Have a process that will not exit write where its threads are; where
        in its output that begins."""
        begins = os.fstat(output).st_size
        try:
            process.send_signal(STACKS_SIGNAL)
            process.wait(timeout=STACKS_AT_EXIT_S)
        except (ProcessLookupError, PermissionError, subprocess.TimeoutExpired):
            pass  # (killed next either way)
        return begins

    def _end_everything(self, process: subprocess.Popen) -> None:
        """Kill the process, its group, and (as root) everything its user runs."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait()
        if self.isolation.user is not None:
            kill_all_processes_of(self.isolation.user.uid)


def _drain(fd: int, into: bytearray) -> None:
    while len(into) < VERDICT_LIMIT:
        try:
            chunk = os.read(fd, 4096)
        except BlockingIOError:
            return
        if not chunk:
            return
        into.extend(chunk)
