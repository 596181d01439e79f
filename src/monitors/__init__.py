"""Raft's rules checked on a run's record: the monitors.

The harness keeps a record of every cluster it makes (labrpc.record: each
RPC, each harness action, each DPrintf line), and the monitors read it as it
grows. A broken rule fails the test at the harness's next check, naming the
rule and the events that broke it.

    monitors.recording   whether a Config keeps a record and is monitored
                         (RAFT_MONITORS, RAFT_RECORD), and who hears of a
                         new record (listen / unlisten)
        record = recording.new_record(test, peers, report, note)
    monitors.rules       the rules, one module each, and attach(record,
                         peers, report, note), RULES, SOURCES, BATCH_EVENTS
    monitors.rule        what a rule is (Rule: name, source, the events it
                         reads) and how it says it was broken (Violation)
    monitors.dispatch    the record's subscriber: batches the events, hands
                         each rule those it reads, reports the first violation
    monitors.traffic     what one RPC shows under Figure 2's field names
                         (read_call) and of its peers' roles (sightings); the
                         timeline (labtools.timeline_model) reads roles there too
    monitors.pytest_plugin   pytest --no-monitors, --record-failed DIR, and
                         records_of(item) for the timeline

docs/monitors.md describes every rule, its source in the paper, and what
it cannot see.
"""
