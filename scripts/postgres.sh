# Sourced: start a throwaway PostgreSQL server for the tests (own data dir, own port, trust auth).
start_postgres() {
  local bin=$1
  PG_DIR=$(mktemp -d /tmp/yimi-pg.XXXXXX)
  PG_PORT=${PG_PORT:-54329}
  local run=()
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home "$PG_DIR" postgres
    chown postgres "$PG_DIR"
    run=(runuser -u postgres --)
  fi
  "${run[@]}" "$bin/initdb" -D "$PG_DIR/data" -U yimi --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  "${run[@]}" "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/log" -w \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  PG_URL="postgres://yimi@127.0.0.1:$PG_PORT/yimi"
  "$bin/createdb" -h 127.0.0.1 -p "$PG_PORT" -U yimi yimi
  PG_BIN=$bin
  export PG_URL
}

stop_postgres() {
  [ -n "${PG_DIR:-}" ] || return 0
  local run=()
  [ "$(id -u)" = 0 ] && run=(runuser -u postgres --)
  "${run[@]}" "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast stop >/dev/null 2>&1 || true
  rm -rf "$PG_DIR"
}
