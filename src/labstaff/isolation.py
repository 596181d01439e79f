"""Whom the grader runs a submission as, and the processes and files that user reaches.

    isolation = Isolation.for_this_process()   -- as root: an unprivileged user,
                                                  held for this grading; else off
    isolation = Isolation.for_this_process("nobody")   -- that user (waited for)
    print(isolation.describe())                -- "isolation on: ..." / "off: why"
    isolation.release()                        -- let another grading have the user
    kill_all_processes_of(uid)                 -- after each test: nothing outlives it
    exposed_files(isolation, root, packages, results)  -- warnings: what it could write

The default user is `raft-sandbox`, or the next free one of a pool
(`raft-sandbox-1`, ...) when other gradings run, created when missing. A
user serves one grading at a time, held by a lock file in LOCK_DIR (root's
own), because the grader kills every process of that user after each test.
Isolation is off, and says why, when the grader is not root, or when the
user cannot run the grader's Python (one under /root, say).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import signal
import stat
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, List, Optional, Sequence

DEFAULT_USER = "raft-sandbox"
POOL_SIZE = 8  # raft-sandbox, raft-sandbox-1, ... for gradings side by side
# Root's own: which sandbox users are in use (a lock file each).
LOCK_DIR = Path("/run/raft-grade")


@dataclass
class SandboxUser:
    name: str
    uid: int
    gid: int


@dataclass
class Isolation:
    """Whether the submission runs as another user, and which.

    A user serves one grading at a time (the grader kills all its processes
    after each test): it is held with a lock in LOCK_DIR until release() or
    the grader's exit. The default users are a pool, so gradings can run
    side by side; a user named with --sandbox-user is waited for.
    """

    user: Optional[SandboxUser]
    problem: str = ""  # why it does not, when it should
    lock: Optional[int] = field(default=None, repr=False)

    @classmethod
    def for_this_process(cls, name: Optional[str] = None) -> "Isolation":
        if os.geteuid() != 0:
            return cls(None, "the grader is not running as root")
        if name is None:
            user, lock = _free_pool_user()
        else:
            user = _sandbox_user(name, create=False)
            lock = _lock_user(user.name, wait=True)
        problem = _cannot_run_tests(user)
        if problem:
            os.close(lock)
            return cls(None, problem)
        # Anything left over from a grading that died with this user.
        kill_all_processes_of(user.uid)
        return cls(user, lock=lock)

    def release(self) -> None:
        """Let another grading use this user."""
        if self.lock is not None:
            os.close(self.lock)
            self.lock = None

    def describe(self) -> str:
        if self.user is None:
            return (f"isolation off: {self.problem}; the submission runs as the grader's "
                    "user and could change any file that user can write")
        return (f"isolation on: tests run as user {self.user.name} (uid {self.user.uid}); "
                "the harness, tests and results are read-only to it")


def _cannot_run_tests(user: SandboxUser) -> str:
    """Why `user` cannot run this Python with pytest, or ''."""
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-c", "import pytest, pytest_timeout"], cwd="/",
            capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
            user=user.uid, group=user.gid, extra_groups=[],
        )
    except OSError as err:
        return f"user {user.name} cannot run {sys.executable} ({err.strerror})"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return f"user {user.name} cannot run pytest with {sys.executable} ({last})"
    return ""


def _free_pool_user() -> "tuple[SandboxUser, int]":
    """The first user of the pool no other grading holds (created if missing)."""
    names = [DEFAULT_USER] + [f"{DEFAULT_USER}-{i}" for i in range(1, POOL_SIZE)]
    for name in names:
        lock = _lock_user(name, wait=False)
        if lock is not None:
            return _sandbox_user(name, create=True), lock
    print(f"raft-grade: {POOL_SIZE} gradings are running; waiting for {names[0]}", flush=True)
    lock = _lock_user(names[0], wait=True)
    return _sandbox_user(names[0], create=True), lock


def _lock_user(name: str, wait: bool) -> Optional[int]:
    """Hold `name` for this grading; None if another holds it and wait is False."""
    LOCK_DIR.mkdir(mode=0o700, exist_ok=True)
    os.chmod(LOCK_DIR, 0o700)
    fd = os.open(LOCK_DIR / f"{name}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _sandbox_user(name: str, create: bool) -> SandboxUser:
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        if not create:
            raise SystemExit(f"raft-grade: no such user {name!r} for --sandbox-user") from None
        _create_user(name)
        entry = pwd.getpwnam(name)
    if entry.pw_uid == 0:
        raise SystemExit(f"raft-grade: --sandbox-user {name!r} is root; pick an unprivileged user")
    return SandboxUser(name, entry.pw_uid, entry.pw_gid)


def _create_user(name: str) -> None:
    command = ["useradd", "--system", "--user-group", "--no-create-home",
               "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except OSError as err:
        raise SystemExit(f"raft-grade: cannot create the user {name!r} to run tests as "
                         f"({err}); create one, or pass --sandbox-user nobody") from None
    # Another grader may have created it at the same moment (exit 9: exists).
    if done.returncode not in (0, 9):
        raise SystemExit(f"raft-grade: cannot create the user {name!r} to run tests as: "
                         f"{done.stderr.strip()}; create one, or pass --sandbox-user nobody")


def kill_all_processes_of(uid: int, rounds: int = 50) -> None:
    """SIGKILL every process whose real or effective uid is `uid`, until none is left.

    Zombies are left alone: they run nothing, and only their parent (or
    init) can remove them.
    """
    for _ in range(rounds):
        pids = [pid for pid in _pids() if uid in _live_uids(pid)]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.01)


def _pids() -> Iterable[int]:
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            yield int(entry)


def _live_uids(pid: int) -> List[int]:
    """The real and effective uid of a process that is not a zombie (else [])."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("State:") and line.split()[1] == "Z":
                    return []
                if line.startswith("Uid:"):
                    return [int(field) for field in line.split()[1:3]]
    except OSError:
        pass
    return []


def writable_by(user: SandboxUser, paths: Iterable[Path]) -> List[Path]:
    """Which of these files and folders `user` could change (by mode and owner)."""
    groups = {user.gid} | {g for g in _groups_of(user.name)}
    found = []
    for path in paths:
        try:
            info = os.lstat(path)
        except OSError:
            continue
        mode = info.st_mode
        if (info.st_uid == user.uid and mode & stat.S_IWUSR) or \
                (info.st_gid in groups and mode & stat.S_IWGRP) or mode & stat.S_IWOTH:
            found.append(path)
    return found


def exposed_files(isolation: Isolation, package_root: Path, packages: Sequence[str],
                  results: Path) -> List[str]:
    """Warnings for the grader's files and results folder the test user could change."""
    user = isolation.user
    if user is None:
        return []
    paths: List[Path] = [results.resolve().parent]
    # An ancestor such as /tmp is writable by all but sticky: the user cannot
    # move or remove what another owns in it, so the grader's folder is safe.
    paths += [folder for folder in [package_root, *package_root.parents]
              if not _sticky_for(user, folder)]
    for package in packages:
        paths += [package_root / package, *(package_root / package).rglob("*")]
    # A file dropped into site-packages (a .pth) would run in every test process.
    import site
    paths += [Path(folder) for folder in site.getsitepackages()]
    return [f"{path} is writable by {user.name}" for path in writable_by(user, paths)]


def _sticky_for(user: SandboxUser, folder: Path) -> bool:
    """Whether folder is sticky and not user's (its entries safe from user)."""
    try:
        info = os.stat(folder)
    except OSError:
        return False
    return bool(info.st_mode & stat.S_ISVTX) and info.st_uid != user.uid


def _groups_of(name: str) -> List[int]:
    import grp
    return [g.gr_gid for g in grp.getgrall() if name in g.gr_mem]
