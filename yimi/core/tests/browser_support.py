"""What every browser-test module shares: Debian's Chromium, the screenshot folder, the marks."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# Screenshots of every run (git-ignored); reviewed copies for the docs live in docs/img/.
SHOTS = Path(__file__).resolve().parents[3] / "screenshots"

# `pytestmark = BROWSER_MARKS` in a browser-test module: marked, and skipped with a reason when
# Debian's Chromium is missing (CI installs it; see README, 'Two commands').
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None and not Path(CHROMIUM).exists(),
        reason="Debian's chromium is not installed (see README, 'Two commands')",
    ),
]

# Playwright's sync API runs an event loop in the test's thread; the ORM calls are safe there.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
