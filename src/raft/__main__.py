"""python -m raft: watch a simulated cluster elect leaders (see raft.demo)."""

import sys

from raft.demo import main

sys.exit(main())
