"""Suite-wide defaults.

``gc.freeze()`` after start-up (``shared.app``, on by default in served processes) would, in this one
long-lived test process that starts hundreds of apps, pin every earlier app's objects for good and add a
full collection per app start: tests turn it off. ``tests/unit/shared/test_app_gc.py`` checks it works.
"""

from __future__ import annotations

import os

os.environ.setdefault("ALCHM_GC_FREEZE", "false")
