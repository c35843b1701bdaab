"""Chinese first, English second; every user-facing string goes through gettext."""

import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[3]
LOCALE = ROOT / "yimi" / "locale"


@pytest.mark.django_db
def test_pages_are_chinese_by_default_and_english_on_request(client):
    zh = client.get("/login/").content.decode()
    assert 'lang="zh-Hans"' in zh and "登录" in zh
    # A browser that asks for English still gets Chinese until the user picks English.
    zh2 = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9").content.decode()
    assert 'lang="zh-Hans"' in zh2
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    en = client.get("/login/").content.decode()
    assert 'lang="en"' in en and "Log in" in en


@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_chinese_catalog_is_complete_and_compiled(domain):
    po_path = LOCALE / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"
    po = polib.pofile(str(po_path))
    untranslated = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not untranslated, f"untranslated in {po_path.name}: {untranslated[:10]}"
    assert not fuzzy, f"fuzzy in {po_path.name}: {fuzzy[:10]}"
    mo = polib.mofile(str(po_path.with_suffix(".mo")))
    assert {e.msgid: e.msgstr for e in mo} == {
        e.msgid: e.msgstr for e in po.translated_entries()
    }, "run `make messages`"


@pytest.mark.skipif(
    shutil.which("xgettext") is None,
    reason="GNU gettext (xgettext) is not installed; .ci/run installs it",
)
@pytest.mark.parametrize("domain", ["django", "djangojs"])
def test_every_string_in_the_code_is_in_the_catalog(tmp_path, domain):
    # Extract the strings afresh into a copy and compare msgids with the committed catalog.
    work = tmp_path / "yimi"
    shutil.copytree(ROOT / "yimi", work, ignore=shutil.ignore_patterns("tests", "__pycache__"))
    subprocess.run(
        [
            sys.executable,
            "-m",
            "django",
            "makemessages",
            "-l",
            "zh_Hans",
            "-d",
            domain,
            "--no-location",
            "--no-obsolete",
        ],
        cwd=work,
        check=True,
        capture_output=True,
        env={"DJANGO_SETTINGS_MODULE": "", "PATH": "/usr/bin:/bin"},
    )
    fresh = polib.pofile(str(work / "locale" / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"))
    committed = polib.pofile(str(LOCALE / "zh_Hans" / "LC_MESSAGES" / f"{domain}.po"))
    missing = {e.msgid for e in fresh} - {e.msgid for e in committed}
    assert not missing, f"strings not in the catalog (run `make messages`): {sorted(missing)[:10]}"
