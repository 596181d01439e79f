"""The students' tools for finding bugs in their Raft.

Each tool is a console command (installed with the package; the current
folder cannot shadow it, as it can `python -m ...` when it holds a student's
raft.py) and a module:

    raft-demo       labtools.demo             the main job: a cluster electing leaders
    raft-stress     labtools.stress           run tests many times, keep failed runs' logs
                    labtools.simstress        raft-stress --sim: many seeds per process
                    labtools.pool             the child processes of both, N at a time
    raft-logview    labtools.logview          DPrintf lines as one column per peer
    raft-timeline   labtools.timeline         a run's record drawn as a page
    raft-chaos      labtools.chaos            seeded clusters through random faults,
                                              judged by Raft's rules (under labsim)
                    labtools.timeline_plugin  pytest --timeline DIR

Nothing here is needed to pass the lab.
"""
