"""Settings come from the environment; a generated SECRET_KEY is kept with 0600 permissions."""

import os
import stat
import subprocess
import sys


def _run_settings(data_dir, **extra):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(YIMI_DATA_DIR=str(data_dir), YIMI_IGNORE_DOTENV="1", **extra)
    code = (
        "import yimi.settings as s; print(s.SECRET_KEY); print(s.DATABASES['default']['ENGINE']);"
        "print(s.DATABASES['default']['NAME']); print(s.LANGUAGE_CODE)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return out.stdout.split("\n")


def test_secret_key_generated_once_with_0600(tmp_path):
    key1, engine, name, lang = _run_settings(tmp_path)[:4]
    path = tmp_path / "secret_key"
    assert path.read_text().strip() == key1 and len(key1) >= 50
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key2 = _run_settings(tmp_path)[0]
    assert key2 == key1
    assert engine == "django.db.backends.sqlite3"
    assert name == str(tmp_path / "yimi.sqlite3")
    assert lang == "zh-hans"


def test_environment_overrides(tmp_path):
    out = _run_settings(
        tmp_path, SECRET_KEY="from-env", DATABASE_URL="postgres://u:p@db.example:5432/yimi"
    )
    assert out[0] == "from-env"
    assert out[1] == "django.db.backends.postgresql"
    assert not (tmp_path / "secret_key").exists()


def test_sqlite_file_database_is_in_wal_mode(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DATABASE_URL")}
    env.update(
        YIMI_DATA_DIR=str(tmp_path), YIMI_IGNORE_DOTENV="1", DJANGO_SETTINGS_MODULE="yimi.settings"
    )
    code = (
        "import django; django.setup(); from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0])"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "wal"


def test_env_example_lists_every_variable():
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[3]
    settings_src = (root / "yimi" / "settings.py").read_text()
    used = set(re.findall(r'env\.\w+\(\s*"([A-Z_]+)"', settings_src))
    used |= set(re.findall(r'env\.db\(\s*"([A-Z_]+)"', settings_src))
    listed = set(re.findall(r"^#?\s*([A-Z_]+)=", (root / ".env.example").read_text(), re.M))
    assert used, "no variables found"
    assert used <= listed, f"missing from .env.example: {sorted(used - listed)}"
