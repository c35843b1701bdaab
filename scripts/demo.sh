#!/usr/bin/env bash
# Install Yimi into .venv and run the main job: `yimi demo` (SQLite, the real sample data, the web
# app on http://127.0.0.1:8000). Extra arguments go to `yimi demo` (e.g. --no-serve).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/venv.sh
export YIMI_DATA_DIR=${YIMI_DATA_DIR:-$PWD/var}
# Offline machines (and this project's CI) pre-seed the data cache from a neighbouring copy of
# shared/data/osm; `yimi demo` checks the sha256 either way and downloads only when it is absent.
sample=../shared/data/osm/beijing-haidian-wudaokou.osm
if [ -f "$sample" ] && [ ! -f "$YIMI_DATA_DIR/cache/beijing-haidian-wudaokou.osm" ]; then
  mkdir -p "$YIMI_DATA_DIR/cache"
  cp "$sample" "$YIMI_DATA_DIR/cache/"
fi
exec "$VENV/bin/yimi" demo "$@"
