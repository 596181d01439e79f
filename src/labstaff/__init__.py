"""The course staff's tools: grading, the Gradescope bundle, the student's starter tree.

    raft-grade      labstaff.grade       the command: grading (the default), bundle, try-bundle
                    labstaff.grading     the grading core: each test in the sandbox, judged
                    labstaff.sandbox     where a test runs; its verdict channel
                    labstaff.channel     the channel's words, shared by both its ends
                    labstaff.verdict     the test process's end (a pytest plugin, loaded with -p)
                    labstaff.integrity   its check that the harness is unchanged
                    labstaff.isolation   the unprivileged user it runs as
                    labstaff.results     results.json: weights, numbers, Markdown, leaderboard
                    labstaff.reasons     a failed test's cause in one line, and its detail
    raft-grade bundle / try-bundle
                    labstaff.bundle      build a Gradescope autograder zip; run one locally
                    labstaff.autograder  what the bundle's run_autograder runs
    raft-starter    labstaff.starter     export the tree a student receives, built from:
                    labstaff.parts       the parts a tree assigns, recorded in its setup.cfg
                                         (the parts themselves: labtools.parts)
                    labstaff.skeleton    raft.py cut to its skeleton by the SOLUTION marks
                    labstaff.testcut     the Go tests cut to the chosen parts
                    labstaff.handout     the student's README, from handout/README.md.in
                    labstaff.leaks       the check that nothing of the solution ships

This package never ships to students: the starter export is "everything
but labstaff".
"""
