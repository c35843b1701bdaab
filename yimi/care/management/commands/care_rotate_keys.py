"""``yimi care-rotate-keys [--check]``: re-encrypt every encrypted value under the newest key.

To rotate: put a new key first in ``YIMI_FIELD_KEYS`` (or the key file), keep the old ones after
it, run this command, then ``--check``; when every value decrypts with the first key alone the
old keys may be dropped. Ciphertexts are re-encrypted as they are (no decrypted objects), in one
transaction.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from yimi.care.services.records import keys_check, keys_rotate
from yimi.core.console import StageProgress
from yimi.core.crypto import DecryptionError, KeyConfigError


class Command(BaseCommand):
    help = "Re-encrypt every encrypted column under the first field key, or check that it can."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="only check that every value decrypts with the first key alone",
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, check: bool = False, no_progress: bool = False, **options):
        labels = {
            "rotate": _("Re-encrypting columns"),
            "check": _("Checking columns with the first key"),
        }
        counts = None
        try:
            with StageProgress(labels, enabled=not no_progress) as progress:
                if not check:
                    counts = keys_rotate(progress=progress)
                failures = keys_check(progress=progress)
        except (DecryptionError, KeyConfigError) as exc:
            raise CommandError(str(exc)) from exc
        if counts is not None:
            self.stdout.write(
                _("Re-encrypted %(n)s values in %(c)s columns under the first key.")
                % {"n": sum(counts.values()), "c": len(counts)}
            )
        bad = {col: n for col, n in failures.items() if n}
        if bad:
            for col, n in sorted(bad.items()):
                self.stdout.write(
                    _("  %(column)s: %(n)s values need an older key") % {"column": col, "n": n}
                )
            raise CommandError(
                _("Some values are not under the first key yet: keep the old keys and rotate.")
            )
        self.stdout.write(
            _(
                "Every encrypted value decrypts with the first key alone. You may now remove the "
                "old keys from YIMI_FIELD_KEYS or the key file (keep a backup until you have checked the backups "
                "you still need to read)."
            )
        )
