"""``python -m codegen.release [--dry-run] [--date YYYY-MM-DD] [--root PATH]``."""

from __future__ import annotations

import sys

from codegen.release import main

sys.exit(main())
