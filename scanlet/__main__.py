"""``python -m scanlet``: the same program as the ``scanlet`` command."""

import sys

from scanlet.launch import main

sys.exit(main())
