"""raft-chaos: a cluster of the student's Raft driven through random faults,
seed after seed, judged by Raft's rules.

    raft-chaos --parts 2B [-p 2] [--time 60] [--seeds A-B] [--peers 5]
               [--record-failed DIR]

Modules, one job each:
    cli         the command: arguments, the run's summary, exit codes
    explorer    worker processes, seeds handed out, stop at the first failure
    worker      one worker process: seeds in, results out (JSON lines)
    scenario    one seed under the simulation: cluster, workload, nemesis,
                calms that owe liveness; its SeedResult
    cluster     the harness's Config with any partition on top
    nemesis     the faults, drawn from the seed's generator; crash hooks
    workload    the clients offering commands through Start
    parts       what each part's seeds do (FEATURES), the --parts choice
    judgement   the rule a failed seed broke

docs/chaos.md says what it does, what it judges, and its figures.
"""
