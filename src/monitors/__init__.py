"""Raft's rules checked on a run's record: the monitors.

The harness keeps a record of every cluster it makes (labrpc.record: each
RPC, each harness action, each DPrintf line), and the monitors read it as it
grows. A broken rule fails the test at the harness's next check, naming the
rule and the events that broke it.

    monitors.recording   whether a Config keeps a record and is monitored
                         (RAFT_MONITORS, RAFT_RECORD), and who hears of a
                         new record (listen / unlisten)
        record = recording.new_record(test, peers, report, note)
    monitors.rules       the rules themselves: rules.attach(record, peers,
                         report, note); what each checks and why it is sound
    monitors.reply_terms     a higher term in a reply is taken at once (and
                         reply_terms.largest_lag(events), for measuring)
    monitors.leader_votes    a leader was granted votes by a majority in its term
    monitors.pytest_plugin   pytest --no-monitors, --record-failed DIR, and
                         records_of(item) for the timeline

docs/monitors.md describes every rule, its source in the paper, and what
it cannot see.
"""
