"""``python -m anpr_edge.cli``: the ``anpr-edge`` command."""

import sys

from anpr_edge.cli.main import main

sys.exit(main())
