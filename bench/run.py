"""Entry point of ``make bench``: run every scenario against Myelin and Synapse.

Run as a script (``python bench/run.py [--quick] ...``); the repository root is put on
``sys.path`` so the ``bench`` package imports absolutely. ``--help`` lists every flag.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
