"""Run kputui with `python -m kputui`."""

from __future__ import annotations

import sys

from kputui.cli import main

sys.exit(main())
