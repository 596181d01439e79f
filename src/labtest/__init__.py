"""What Go's testing package and `go test` give the lab's tests.

    labtest.testing        T, Go's *testing.T: t.Fatalf fails the test; a
                           failure seen on another thread is kept
                           (t.fail_later) and raised at the harness's next check
    labtest.applych        ApplyChannel, Go's unbuffered channel, as applyCh;
                           a peer that puts while holding the lock the reader
                           needs is reported as a deadlock
    labtest.pytest_plugin  the fixture `t`, the thread-leak check, the Passed
                           lines at the end, --race; it loads the plugins of
                           the monitors, the race checker and the simulation

The harness (raft.config) is built on these; nothing here knows Raft.
"""
