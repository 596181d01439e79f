"""The students' tools for finding bugs in their Raft.

Each tool is a console command (installed with the package; the current
folder cannot shadow it, as it can `python -m raft....` when it holds a
student's raft.py) and a module:

    raft-stress     labtools.stress     run tests many times, keep failed runs' logs
    raft-logview    labtools.logview    DPrintf lines as one column per peer
    raft-demo       labtools.demo       the main job (also `python -m raft`)
                    labtools.racecheck  the lockset race checker behind `pytest --race`

Nothing here is needed to pass the lab; the harness uses the race checker
only when it is asked for.
"""
