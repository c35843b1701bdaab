"""Loaded by pytest before Django's settings (``-p yimi_pytest_env``): an isolated data directory.

Every test run gets its own YIMI_DATA_DIR, so tests never touch a developer's data, and a fixed
SECRET_KEY so no key file is generated there.
"""

import os
import tempfile

if "YIMI_TEST_KEEP_ENV" not in os.environ:
    os.environ["YIMI_DATA_DIR"] = tempfile.mkdtemp(prefix="yimi-test-data-")
    os.environ["SECRET_KEY"] = "test-secret-key-not-for-production-0123456789abcdef"  # noqa: S105
    os.environ["YIMI_IGNORE_DOTENV"] = "1"
    os.environ.setdefault("YIMI_TASKS", "immediate")
