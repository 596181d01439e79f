"""python -m raft: watch a simulated cluster elect leaders (see labtools.demo)."""

import sys

from labtools.demo import main

sys.exit(main())
