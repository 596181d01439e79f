"""What Go's testing package and `go test` give the lab's tests.

    labtest.testing        T, Go's *testing.T: t.Fatalf fails the test; a
                           failure seen on another thread is kept
                           (t.fail_later) and raised at the harness's next check
    labtest.applych        ApplyChannel, Go's unbuffered channel, as applyCh;
                           a peer that puts while holding the lock the reader
                           needs is reported as a deadlock
    labtest.pytest_plugin  the fixture `t`, the Passed lines at the end, --race;
                           it loads the plugins below and those of the
                           monitors, the race checker and the simulation
    labtest.lab_tests      which tests are the lab's (they use the harness):
                           the checks and messages below are for those alone
    labtest.leftover_threads  a lab test whose threads outlive it fails
    labtest.failures       a lab test's failure reported cause first, once
    labtest.next_steps     each failure ends with what to run next
    labtest.run_header     one header line naming the lab's options that are on
    labtest.path_options   a path option in two words that misled pytest
                           (`--timeline DIR`) stops the run, naming `--timeline=DIR`

The harness (raft.config) is built on these; nothing here knows Raft.
"""
