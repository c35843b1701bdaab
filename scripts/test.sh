#!/usr/bin/env bash
# Install what the tests need, then run the whole suite: on SQLite (everything, the browser tests
# included), then the core and places tests again on a real PostgreSQL server.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh

# System packages: Debian's Chromium for the browser tests, CJK and emoji fonts for screenshots, GNU gettext
# for the catalogue check, PostgreSQL for the second run. Installed when we are root with apt;
# otherwise the tests that need them say what is missing.
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v xgettext >/dev/null 2>&1 || need+=(gettext)
[ -d /usr/share/fonts/opentype/noto ] || need+=(fonts-noto-cjk)
# The children's pages use emoji as pictures; without a colour emoji font Chromium draws boxes.
[ -f /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] || need+=(fonts-noto-color-emoji)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
[ -n "$pg_bin" ] || need+=(postgresql)
if [ ${#need[@]} -gt 0 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing ${need[*]} (apt)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
fi

echo "== lint (ruff) =="
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "== migrations are up to date =="
YIMI_DATA_DIR=$(mktemp -d) SECRET_KEY=check "$VENV/bin/yimi" makemigrations --check --dry-run >/dev/null

echo "== tests on SQLite =="
"$VENV/bin/python" -m pytest "$@"

if [ -n "$pg_bin" ] && [ -z "${YIMI_SKIP_POSTGRES:-}" ]; then
  echo "== core, places, access and the care, voice and practices tests with database-specific code on PostgreSQL =="
  . scripts/postgres.sh
  start_postgres "$pg_bin"
  trap stop_postgres EXIT
  # care: raw SQL (key rotation, retention), executemany bulk inserts (ledger, re-matching),
  # encrypted bytes in bytea, partial unique indexes (orders, worklist, pairings).
  care_pg="yimi/care/tests/test_foundation.py yimi/care/tests/test_rotation.py
    yimi/care/tests/test_retention.py yimi/care/tests/test_ledger.py yimi/care/tests/test_orders.py
    yimi/care/tests/test_worklist.py yimi/care/tests/test_volunteers.py"
  # voice: row locks under area scopes (routing, answers, disclosures), event capacity, statistics
  # aggregations; practices: the catalogue sync and substring search over Chinese text.
  voice_pg="yimi/voice/tests/test_scoping.py yimi/voice/tests/test_handling.py
    yimi/voice/tests/test_handling_disclosure.py yimi/voice/tests/test_moderation.py
    yimi/voice/tests/test_cobuilding.py yimi/voice/tests/test_stats.py
    yimi/voice/tests/test_actions.py yimi/practices/tests/test_library.py
    yimi/practices/tests/test_progress.py"
  # shellcheck disable=SC2086
  DATABASE_URL="$PG_URL" "$VENV/bin/python" -m pytest yimi/core yimi/places yimi/access $care_pg $voice_pg \
    -m "not browser" "$@"
else
  echo "PostgreSQL is not installed: the PostgreSQL run was skipped (see README, 'Tests')." >&2
  [ -n "${CI:-}" ] && exit 1
fi
