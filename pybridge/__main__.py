"""``python -m pybridge`` runs the command line (see :mod:`pybridge.cli`)."""

import sys

from .cli import main

sys.exit(main())
