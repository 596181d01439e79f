"""The course staff's tools: grading, the Gradescope bundle, the student's starter tree.

    raft-grade      labstaff.grade       grade a raft.py; write Gradescope's results.json
    raft-grade --bundle / --try-bundle
                    labstaff.bundle      build a Gradescope autograder zip; run one locally
                    labstaff.autograder  what the bundle's run_autograder runs
                    labstaff.results     results.json: weights, numbers, Markdown, leaderboard
                    labstaff.reasons     a failed test's cause in one line, and its detail
    raft-starter    labstaff.starter     export the tree a student receives

This package never ships to students: the starter export is "everything
but labstaff".
"""
