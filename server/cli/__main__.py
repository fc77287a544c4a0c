"""`python -m server.cli`: the same as the `mecene` script."""

import sys

from server.cli.main import main

sys.exit(main())
