"""The text modules are a plain library: importing them must not pull in Django."""

from __future__ import annotations

import subprocess
import sys


def test_text_modules_import_without_django() -> None:
    code = (
        "import sys\n"
        "import yimi.voice.text.pii, yimi.voice.text.screening\n"
        "import yimi.voice.text.triage, yimi.voice.text.routing\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'django'))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert out.stdout.strip() == "[]"
