"""The course staff's tools: grading and the student's starter tree.

    raft-grade      labstaff.grade      grade a raft.py; write Gradescope's results.json
    raft-starter    labstaff.starter    export the tree a student receives, built from:
                    labstaff.parts      the parts a course chooses, and their record
                    labstaff.skeleton   raft.py cut to its skeleton by the SOLUTION marks
                    labstaff.testcut    the Go tests cut to the chosen parts
                    labstaff.handout    the student's README, from handout/README.md.in
                    labstaff.leaks      the check that nothing of the solution ships
                    labstaff.sandbox    (the grader's) where a test runs; its verdict channel
                    labstaff.isolation  (the grader's) the unprivileged user it runs as

This package never ships to students: the starter export is "everything
but labstaff".
"""
