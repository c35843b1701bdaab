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
    # Fixed test keys, so no key file is generated in the developer's config directory.
    os.environ["YIMI_FIELD_KEYS"] = "tWQ3JmWvR1nW2mN9yD4jE6rU8oC0pL5aK7sH3gF1bZ0="  # noqa: S105
    os.environ["YIMI_HASH_KEY"] = "test-hash-key-not-for-production-0123"  # noqa: S105
    os.environ["YIMI_KEY_DIR"] = tempfile.mkdtemp(prefix="yimi-test-keys-")
