"""The course staff's tools: grading and the student's starter tree.

    raft-grade      labstaff.grade      grade a raft.py; write Gradescope's results.json
    raft-starter    labstaff.starter    export the tree a student receives
                    labstaff.sandbox    (the grader's) where a test runs; its verdict channel
                    labstaff.isolation  (the grader's) the unprivileged user it runs as

This package never ships to students: the starter export is "everything
but labstaff".
"""
