"""python -m bench: the benchmark runner (bash bench/run.sh installs what it needs first)."""

import sys

from bench.run import main

sys.exit(main())
