#!/usr/bin/env bash
# Run a command (default: `make test`) with ESGLEDGER_TEST_PG_URL set to an empty database of a
# throwaway PostgreSQL cluster, so that the PostgreSQL variants of the tests run as well.
#
#   scripts/ci_postgres.sh                                   # make test
#   scripts/ci_postgres.sh .venv/bin/pytest tests/store -n 2 # any command
#
# - Packages: as root with apt-get (CI on Debian), installs what is missing in one apt-get step:
#   `postgresql` unless a PostgreSQL server (initdb, pg_ctl) is already there, `chromium` (the
#   browser tests) unless /usr/bin/chromium exists, and for the report `fonts-noto-cjk`,
#   Pango (WeasyPrint's PDF) and `poppler-utils` (pdftoppm, pdftotext: the PDF tests), each
#   unless present. Otherwise missing packages are only reported and the tests that need them
#   skip. No sudo.
# - Cluster: initdb into a new temporary folder (owned by the `postgres` user when run as root),
#   trust authentication, listening on 127.0.0.1 on a free port (and a socket in that folder),
#   one empty database `esgledger_test`; stopped and removed when the command ends.
# - ESGLEDGER_TEST_PG_URL already set: no cluster is started, the command runs against it.
# - PG_BINDIR=/path/to/bin picks the PostgreSQL binaries (default: the newest
#   /usr/lib/postgresql/*/bin, else initdb and pg_ctl on PATH).
set -euo pipefail

log() { printf 'ci_postgres: %s\n' "$*" >&2; }

# The folder holding initdb and pg_ctl of a PostgreSQL server, or nothing.
pg_bindir() {
    local dir
    for dir in ${PG_BINDIR:-} $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
            echo "$dir"
            return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dir=$(command -v pg_ctl)
        dir=$(readlink -f "$dir" 2>/dev/null || echo "$dir")  # a symlink into the real bin/
        dirname "$dir"
    fi
}

install_packages() {
    local wanted=()
    [ -n "${ESGLEDGER_TEST_PG_URL:-}" ] || [ -n "$(pg_bindir)" ] || wanted+=(postgresql)
    [ -x /usr/bin/chromium ] || wanted+=(chromium)
    # the report: Chinese fonts (browser pages, PDF, charts), Pango for WeasyPrint's PDF, and
    # poppler-utils (pdftoppm, pdftotext) for the tests that read the PDF back
    [ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || wanted+=(fonts-noto-cjk)
    ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0.so' || wanted+=(libpango-1.0-0 libpangoft2-1.0-0)
    command -v pdftoppm >/dev/null 2>&1 || wanted+=(poppler-utils)
    [ "${#wanted[@]}" -gt 0 ] || return 0
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        log "missing ${wanted[*]}: not installed (that needs root and apt-get);" \
            "the tests that need them will skip"
        return 0
    fi
    log "installing ${wanted[*]} (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    apt-get install -y -q --no-install-recommends "${wanted[@]}" </dev/null
}

PG_TMP=""
PG_AS=()

# Run a PostgreSQL program as the cluster's owner, from the cluster's folder.
as_owner() {
    (cd "$PG_TMP" && ${PG_AS[@]+"${PG_AS[@]}"} "$@")
}

stop_cluster() {
    if [ -n "$PG_TMP" ] && [ -d "$PG_TMP" ]; then
        if [ -f "$PG_TMP/data/postmaster.pid" ]; then
            as_owner "$BINDIR/pg_ctl" -D "$PG_TMP/data" -m fast -w stop >/dev/null 2>&1 || true
        fi
        rm -rf "$PG_TMP"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start_cluster() {
    local owner port
    PG_TMP=$(mktemp -d /tmp/esgledger-pg.XXXXXX)
    if [ "$(id -u)" -eq 0 ]; then  # initdb refuses root: the cluster belongs to another user
        owner=postgres
        id -u "$owner" >/dev/null 2>&1 || owner=nobody
        chown "$owner" "$PG_TMP"
        PG_AS=(runuser -u "$owner" --)
    fi
    port=$(free_port)
    as_owner "$BINDIR/initdb" -D "$PG_TMP/data" -U postgres -A trust -E UTF8 --no-locale \
        >"$PG_TMP/initdb.log" 2>&1 || { cat "$PG_TMP/initdb.log" >&2; return 1; }
    as_owner "$BINDIR/pg_ctl" -D "$PG_TMP/data" -l "$PG_TMP/server.log" -w -t 60 -o \
        "-c listen_addresses=127.0.0.1 -p $port -k $PG_TMP -c fsync=off -c full_page_writes=off -c synchronous_commit=off" \
        start >/dev/null || { cat "$PG_TMP/server.log" >&2; return 1; }
    local createdb="$BINDIR/createdb"
    [ -x "$createdb" ] || createdb=createdb
    "$createdb" -h 127.0.0.1 -p "$port" -U postgres esgledger_test
    export ESGLEDGER_TEST_PG_URL="postgresql+psycopg://postgres@127.0.0.1:$port/esgledger_test"
    log "PostgreSQL $("$BINDIR/pg_ctl" --version | awk '{print $3}') in $PG_TMP," \
        "ESGLEDGER_TEST_PG_URL=$ESGLEDGER_TEST_PG_URL"
}

cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || set -- make test
install_packages
trap stop_cluster EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
if [ -n "${ESGLEDGER_TEST_PG_URL:-}" ]; then
    log "using ESGLEDGER_TEST_PG_URL as set: $ESGLEDGER_TEST_PG_URL"
else
    BINDIR=$(pg_bindir)
    if [ -n "$BINDIR" ]; then
        start_cluster
    else
        log "no PostgreSQL server found: the PostgreSQL tests will skip"
    fi
fi
"$@"
