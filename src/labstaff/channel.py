"""What the grader and the harness in a test process say to each other.

    CHANNEL_ENV        the variable naming the channel's two descriptors, "R:W"
    PASSED, FAILED, HARNESS_CHANGED_WORD
                       the verdict words of a "SECRET TESTNAME WORD [DETAIL]" line
    HARNESS_CHANGED    the cause a changed harness fails a test with
    STACKS_SIGNAL      the signal that has a graded process write its stacks

Both ends import these: labstaff.sandbox (the grader's end, which reads the
verdicts) and labstaff.verdict (the harness's end, which writes them), so
neither can drift from the other. Only the standard library, and nothing of
the lab: the test process loads it before any of the submission's code.
"""

import signal

CHANNEL_ENV = "RAFT_GRADER_CHANNEL"
# The signal on which a graded process writes every thread's stack to its
# stderr (faulthandler.register): the grader sends it to a process that
# will not exit after its verdict.
STACKS_SIGNAL = getattr(signal, "SIGUSR2", None)
PASSED = "passed"
FAILED = "failed"
HARNESS_CHANGED_WORD = "harness-changed"
HARNESS_CHANGED = "the submission changed the test harness"
