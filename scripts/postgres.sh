#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL server on loopback for the test suite.
#
# Usage:
#   scripts/postgres.sh start DIR   # prints the admin URL, e.g. postgres://postgres@127.0.0.1:41234/postgres
#   scripts/postgres.sh stop DIR    # stops the server started in DIR (fast shutdown); no-op if none
#
# Typical use:
#   url="$(scripts/postgres.sh start target/postgres)"
#   TALLY_TEST_DATABASE_URL="$url" TALLY_TEST_DATABASE_CA_FILE=target/postgres/ca.crt \
#     cargo test -p tally-postgres -- --include-ignored
#   scripts/postgres.sh stop target/postgres
#
# `start`:
#   - finds initdb and pg_ctl on PATH, then in /usr/lib/postgresql/*/bin (newest version first);
#     when they are missing and this runs as root with apt-get, installs Debian's `postgresql`;
#   - creates the cluster in DIR/data on first use (reused afterwards), with trust authentication
#     for loopback TCP and for the Unix socket, which lives in DIR itself; the server listens on
#     127.0.0.1 only. Durability is off (fsync, full_page_writes): this data is disposable;
#   - as root (initdb and pg_ctl refuse to run as root) runs them as the `postgres` system user,
#     creating it if missing, and hands DIR to it;
#   - turns TLS on, with non-TLS connections still allowed: makes a throwaway CA (DIR/ca.crt,
#     DIR/ca.key) and a server certificate it signs for 127.0.0.1 and localhost (DIR/server.crt,
#     DIR/server.key) when they are missing or expire within a day, and names them on the
#     server's command line, so a DIR made before TLS gains it on its next start. Prints the CA's
#     path on stderr; clients verify with sslmode=verify-full and sslrootcert=DIR/ca.crt. Without
#     openssl, starts without TLS and says so;
#   - picks a free loopback port, starts the server, waits until it accepts connections, and
#     prints the admin URL as the only line on stdout. Everything else goes to stderr; the
#     server's log is DIR/postgres.log. If a server is already running in DIR, prints its URL
#     and whether it has TLS (one started before TLS support keeps running without).
#
# Needs: bash, and python3 or bash's /dev/tcp to find a free port; openssl for TLS.
set -euo pipefail

readonly max_start_attempts=3
readonly ready_timeout_secs=60
# Unix socket paths are limited to 107 bytes; the socket file name adds about 20.
readonly max_socket_dir_bytes=80
# The test CA and server certificate: valid long enough for any test run, and made again when
# they expire within a day.
readonly ca_validity_days=3650
readonly server_validity_days=825
readonly min_remaining_validity_secs=86400

log() {
    printf 'postgres.sh: %s\n' "$*" >&2
}

die() {
    log "error: $*"
    exit 1
}

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" >&2
    exit 2
}

is_root() {
    [[ "$(id -u)" -eq 0 ]]
}

# Prints the directory holding initdb and pg_ctl, or fails.
find_bin_dir() {
    local initdb_path candidate
    if initdb_path="$(command -v initdb)" && command -v pg_ctl >/dev/null; then
        dirname -- "$(readlink -f -- "$initdb_path")"
        return 0
    fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$candidate/initdb" && -x "$candidate/pg_ctl" ]]; then
            printf '%s\n' "$candidate"
            return 0
        fi
    done
    return 1
}

# Installs Debian's postgresql package when we may (root with apt-get).
install_postgres() {
    is_root && command -v apt-get >/dev/null ||
        die "initdb/pg_ctl not found; install PostgreSQL (Debian: apt-get install postgresql)"
    log "initdb/pg_ctl not found; installing the postgresql package"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update >&2
    apt-get install -y --no-install-recommends postgresql >&2
}

# Runs a command as the user that owns the cluster: `postgres` when we are root, ourselves otherwise.
as_cluster_owner() {
    if is_root; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# As root: makes sure the postgres system user exists and owns DIR.
prepare_owner() {
    local dir="$1"
    is_root || return 0
    if ! id -u postgres >/dev/null 2>&1; then
        log "creating the postgres system user"
        useradd --system --user-group --no-create-home --home-dir /var/lib/postgresql \
            --shell /usr/sbin/nologin postgres
    fi
    chown -R postgres: "$dir"
    runuser -u postgres -- test -w "$dir" -a -x "$dir" ||
        die "user postgres cannot reach $dir; choose a directory outside private homes"
}

# Prints a loopback TCP port nobody listens on.
free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
        return 0
    fi
    local port attempt
    for attempt in $(seq 1 100); do
        port=$((20000 + RANDOM % 40000))
        # A refused connection means the port is free.
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    die "found no free port after $attempt attempts"
}

# Creates the cluster in DIR/data unless it exists.
init_cluster() {
    local bin_dir="$1" dir="$2"
    [[ -f "$dir/data/PG_VERSION" ]] && return 0
    log "creating a cluster in $dir/data"
    (cd -- "$dir" && as_cluster_owner "$bin_dir/initdb" --pgdata="$dir/data" --username=postgres \
        --auth=trust --encoding=UTF8 --locale=C --no-sync >&2)
    cat >>"$dir/data/postgresql.conf" <<EOF

# Added by scripts/postgres.sh: loopback only, socket in the test directory, no durability.
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 200
EOF
}

# Writes who may connect, on every start, so that a reused cluster gets the current rules.
write_hba() {
    local dir="$1"
    # Trust, but only over the socket and from loopback; nothing else is accepted. Members of
    # tally_password_checked must give their password even there: the tests of a rotated owner
    # password sign in as such a member.
    cat >"$dir/data/pg_hba.conf" <<'EOF'
host    all   +tally_password_checked   127.0.0.1/32   scram-sha-256
local   all   all                       trust
host    all   all                       127.0.0.1/32   trust
EOF
}

# Runs openssl as the cluster's owner, showing what it says on stderr only when it fails.
cluster_openssl() {
    local errors
    if ! errors="$(as_cluster_owner openssl "$@" 2>&1 >/dev/null)"; then
        printf '%s\n' "$errors" >&2
        return 1
    fi
}

# Whether the PEM certificate FILE exists and stays valid for at least another day.
certificate_is_fresh() {
    local file="$1"
    [[ -f "$file" ]] &&
        openssl x509 -in "$file" -noout -checkend "$min_remaining_validity_secs" >/dev/null 2>&1
}

# Makes DIR/ca.{crt,key} and DIR/server.{crt,key} unless present and fresh, as the cluster's
# owner (the server refuses a key file that others can read).
ensure_certificates() {
    local dir="$1" serial
    if ! certificate_is_fresh "$dir/ca.crt" || [[ ! -f "$dir/ca.key" ]]; then
        log "creating a throwaway CA: $dir/ca.crt"
        # A new CA invalidates the server certificate the old one signed.
        rm -f -- "$dir/server.crt" "$dir/server.key"
        cluster_openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$dir/ca.key" -out "$dir/ca.crt" -days "$ca_validity_days" \
            -subj "/CN=Tally throwaway test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign" || return 1
    fi
    if ! certificate_is_fresh "$dir/server.crt" || [[ ! -f "$dir/server.key" ]]; then
        log "creating the server certificate for 127.0.0.1 and localhost: $dir/server.crt"
        cluster_openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout "$dir/server.key" -out "$dir/server.csr" -subj "/CN=localhost" || return 1
        # The extensions rustls (webpki) requires of a server certificate; the names are the
        # ones the server answers as.
        printf '%s\n' "basicConstraints = critical, CA:FALSE" \
            "keyUsage = critical, digitalSignature" "extendedKeyUsage = serverAuth" \
            "subjectAltName = IP:127.0.0.1, DNS:localhost" |
            as_cluster_owner tee "$dir/server.ext" >/dev/null
        serial="0x$(openssl rand -hex 16)"
        cluster_openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" \
            -set_serial "$serial" -days "$server_validity_days" -extfile "$dir/server.ext" \
            -out "$dir/server.crt" || return 1
        rm -f -- "$dir/server.csr" "$dir/server.ext"
    fi
    as_cluster_owner chmod 600 -- "$dir/ca.key" "$dir/server.key"
}

# Prints the server options that turn TLS on with DIR's certificates, or nothing (saying why on
# stderr) when there is no openssl to make them. The paths are relative to the data directory,
# DIR/data, so the options hold no space whatever DIR is.
tls_options() {
    local dir="$1"
    if ! command -v openssl >/dev/null; then
        log "openssl not found: starting without TLS"
        return 0
    fi
    if ! ensure_certificates "$dir"; then
        log "could not create the TLS certificates in $dir: starting without TLS"
        return 0
    fi
    printf '%s\n' "-c ssl=on -c ssl_cert_file=../server.crt -c ssl_key_file=../server.key"
}

# Says on stderr whether the server running in DIR has TLS, from the options it was started
# with; WHEN_OFF is added to the message when it has not.
report_tls() {
    local dir="$1" when_off="$2"
    if grep -q -- 'ssl=on' "$dir/data/postmaster.opts" 2>/dev/null; then
        log "TLS is on (connections without TLS are allowed too); CA certificate: $dir/ca.crt"
    else
        log "TLS is off$when_off"
    fi
}

is_running() {
    local bin_dir="$1" dir="$2"
    [[ -f "$dir/data/PG_VERSION" ]] &&
        (cd -- "$dir" && as_cluster_owner "$bin_dir/pg_ctl" --pgdata="$dir/data" status >/dev/null 2>&1)
}

# Waits until the server on PORT accepts connections.
wait_ready() {
    local bin_dir="$1" port="$2" waited=0
    while ! "$bin_dir/pg_isready" --quiet --host=127.0.0.1 --port="$port" --username=postgres; do
        ((waited += 1))
        ((waited <= ready_timeout_secs)) || die "the server on port $port is not ready"
        sleep 1
    done
}

start() {
    local dir="$1" bin_dir port attempt tls
    bin_dir="$(find_bin_dir)" || { install_postgres && bin_dir="$(find_bin_dir)"; } ||
        die "initdb/pg_ctl still not found after installing postgresql"
    mkdir -p -- "$dir"
    dir="$(cd -- "$dir" && pwd -P)"
    ((${#dir} <= max_socket_dir_bytes)) || die "$dir is too long for a Unix socket directory"
    prepare_owner "$dir"
    init_cluster "$bin_dir" "$dir"
    write_hba "$dir"
    if is_running "$bin_dir" "$dir" && [[ -f "$dir/port" ]]; then
        log "a server is already running in $dir"
        report_tls "$dir" " (the server was started without it: stop and start it to turn TLS on)"
        printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$(cat -- "$dir/port")"
        return 0
    fi
    tls="$(tls_options "$dir")"
    for attempt in $(seq 1 "$max_start_attempts"); do
        port="$(free_port)"
        log "starting PostgreSQL from $bin_dir on 127.0.0.1:$port (attempt $attempt)"
        # Another process may take the port between the probe and the start: then try another.
        if (cd -- "$dir" && as_cluster_owner "$bin_dir/pg_ctl" --pgdata="$dir/data" \
            --log="$dir/postgres.log" --options="-p $port $tls" --wait \
            --timeout="$ready_timeout_secs" start >&2); then
            printf '%s\n' "$port" >"$dir/port"
            wait_ready "$bin_dir" "$port"
            report_tls "$dir" ""
            printf 'postgres://postgres@127.0.0.1:%s/postgres\n' "$port"
            return 0
        fi
        tail -n 20 -- "$dir/postgres.log" >&2 || true
    done
    die "PostgreSQL did not start; see $dir/postgres.log"
}

stop() {
    local dir="$1" bin_dir
    [[ -d "$dir" ]] || { log "$dir does not exist; nothing to stop"; return 0; }
    dir="$(cd -- "$dir" && pwd -P)"
    bin_dir="$(find_bin_dir)" || die "pg_ctl not found"
    if ! is_running "$bin_dir" "$dir"; then
        log "no server is running in $dir"
        return 0
    fi
    (cd -- "$dir" && as_cluster_owner "$bin_dir/pg_ctl" --pgdata="$dir/data" stop -m fast --wait >&2)
    rm -f -- "$dir/port"
}

[[ $# -eq 2 ]] || usage
case "$1" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    *) usage ;;
esac
