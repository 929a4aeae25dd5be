"""``python -m recommender.cli``: the same as ``kgrec``."""

import sys

from recommender.cli import main

sys.exit(main())
