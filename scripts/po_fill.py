"""Extract messages, fill given zh-Hans translations, compile (run from the repo root).

Usage: .venv/bin/python scripts/po_fill.py '{"msgid": "msgstr", ...}'
"""

import json
import subprocess
import sys

import polib

tr = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
for dom in ("django", "djangojs"):
    subprocess.run(
        [
            "../.venv/bin/django-admin",
            "makemessages",
            "-l",
            "zh_Hans",
            "-d",
            dom,
            "--no-location",
            "--no-obsolete",
        ],
        cwd="yimi",
        check=True,
        capture_output=True,
    )
    po = polib.pofile(f"yimi/locale/zh_Hans/LC_MESSAGES/{dom}.po")
    for e in po:
        if e.msgid in tr:
            if e.msgid_plural:
                e.msgstr_plural = {0: tr[e.msgid]}
            else:
                e.msgstr = tr[e.msgid]
            if "fuzzy" in e.flags:
                e.flags.remove("fuzzy")
            e.previous_msgid = None
            e.previous_msgid_plural = None
    po.save()
    left = [e.msgid for e in po if not e.translated() or "fuzzy" in e.flags]
    print(dom, "untranslated:", left)
subprocess.run(
    ["../.venv/bin/django-admin", "compilemessages"], cwd="yimi", check=True, capture_output=True
)
