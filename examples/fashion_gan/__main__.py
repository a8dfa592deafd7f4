"""``python -m fashion_gan``: the same as the ``fashion-gan`` command."""

import sys

from .cli import main

sys.exit(main())
