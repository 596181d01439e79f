"""What broke in a failed seed: the rule, named from how the seed failed.

    Failure(rule, message)          a seed's failure (raised by the checks of
                                    labtools.chaos.scenario, which name their rule)
    rule_of(message)                the rule a harness failure's message names
    sim_rule(failure)               the rule a labsim failure names
    LEADER_BOUND_S, LEADER_RULE, AGREEMENT_RULE, SETTLE_S, STABLE_S, STABLE_RULE, THREADS_RULE,
    THREAD_RAISED, ESCAPE_RULE, WORKER_DIED_RULE

A seed fails through the harness (a monitor's violation or an apply error
kept from another thread, a Go check's t.Fatal), through the simulator (a
deadlock, a busy loop), or through raft-chaos's own checks (liveness, and
threads that outlive Kill()). The harness raises the earliest failure
first, so a message's first line names the cause.
"""

from __future__ import annotations

import re

from labsim import (SimBusyLoop, SimDeadlock, SimEscape, SimFailure, SimTimeLimit,
                    SimTooManyThreads)
from labtest import lockwatch, peercalls

# What a quiet majority is owed: a leader within LEADER_BOUND_S (the Go
# tester's checkOneLeader gives up after about 5 s too), and a command
# committed within one()'s 10 s.
LEADER_BOUND_S = 5.0
LEADER_RULE = f"liveness: a leader within {LEADER_BOUND_S:g} s of a quiet majority"
AGREEMENT_RULE = "liveness: a command committed within 10 s of a quiet majority (one())"
# ... and, once every member has had an election timeout's worth of quiet
# (the tester's RaftElectionTimeout, 1 s), elects at most once more in the
# next STABLE_S: the Go tests fail a cluster whose term keeps changing with
# no fault ("term changed too often"). (Once, not never: a member whose timer
# ran out just before the new leader's first heartbeat may start one more.)
SETTLE_S = 1.0
STABLE_S = 1.0
STABLE_RULE = "stability: a quiet majority stops holding elections"
THREADS_RULE = "every thread ends after Kill()"
# Two failures the seed does not decide: a block only real time saw (the
# simulator's watchdog), and a worker process's death (labtools.chaos.explorer).
ESCAPE_RULE = "no block the simulator cannot see"
WORKER_DIED_RULE = "the worker process ended mid-seed"
THREAD_RAISED = "no thread raises"

_SAME_COMMAND = "every peer applies the same command at an index (State Machine Safety)"
_MESSAGES = [
    (re.compile(r"^Raft rule broken: ([^:]+):"), None),
    (re.compile(r"^applyCh deadlock"), "applyCh deadlock"),
    (re.compile(r"^apply error: commit index="), _SAME_COMMAND),
    (re.compile(r"^committed values do not match"), _SAME_COMMAND),
    (re.compile(r"apply out of order"), "commands applied in log order"),
    (re.compile(r"^apply error: .* on applyCh, not an ApplyMsg"), "only ApplyMsg on applyCh"),
    (re.compile(r"snapshot"), "snapshots the service can read"),
    (re.compile(r"^term \d+ has \d+ \(>1\) leaders"), "election safety (the tester's check)"),
    (re.compile(r"^servers disagree on term"), STABLE_RULE),
    (re.compile(r"^race on "), "shared state is read and written with the peer's lock held "
                               "(race checker)"),
    (re.compile(r" called while holding "), "the lock is never held across a sleep, an RPC or "
                                            "a put on applyCh (race checker)"),
    (re.compile(r"failed to reach agreement"), AGREEMENT_RULE),
    (re.compile(r"^thread .* raised"), THREAD_RAISED),
    (re.compile(r"^labrpc: handler"), "RPC handlers return normally"),
    (re.compile("^" + re.escape(lockwatch.REPORT_START)),
     "the lock is never held across a sleep, an RPC or a wait (lock watchdog)"),
    (re.compile("^" + re.escape(peercalls.REPORT_START)),
     "the tester's calls into a peer return (call watchdog)"),
]
_SIM_RULES = [
    (SimDeadlock, "no deadlock (the simulator: every thread waits)"),
    (SimBusyLoop, "no busy loop (the simulator)"),
    (SimTimeLimit, "the seed's time limit (the simulator)"),
    (SimTooManyThreads, "a bounded number of threads (the simulator)"),
    (SimEscape, ESCAPE_RULE),
]


class Failure(Exception):
    """A seed's failure, with the rule it broke."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message


def rule_of(message: str) -> str:
    """The rule a harness failure's message names (its first line decides)."""
    lines = message.strip().splitlines()
    first = lines[0] if lines else ""
    for pattern, rule in _MESSAGES:
        found = pattern.search(first)
        if found:
            return rule if rule is not None else found.group(1)
    return f"the tester's check: {first[:80]}"


def sim_rule(failure: SimFailure) -> str:
    for kind, rule in _SIM_RULES:
        if isinstance(failure, kind):
            return rule
    return f"the simulator: {type(failure).__name__}"
