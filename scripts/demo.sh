#!/usr/bin/env bash
# Install Yimi into .venv and run the main job: `yimi demo` (SQLite, the real sample data, the web
# app on http://127.0.0.1:8000). Extra arguments go to `yimi demo` (e.g. --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
export YIMI_DATA_DIR=${YIMI_DATA_DIR:-$PWD/var}
exec "$VENV/bin/yimi" demo "$@"
