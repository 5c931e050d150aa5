# shellcheck shell=bash disable=SC2034  # UB_* are read by the scripts that source this file
# Shared by scripts/demo and scripts/bench: a real Unbound on a free loopback port that serves only
# local zones. Names outside them are REFUSED and no upstream address is ever queried, so nothing
# leaves 127.0.0.0/8. Source this file, then: unbound_start DIR ZONEFILE [TUNING]; ...; unbound_stop.
#
# The configuration written here holds only what is needed, and no performance tuning (no socket
# buffers, threads, query slots or cache settings: Unbound's defaults):
#   - to run unprivileged in DIR: interface/port, do-daemonize no, chroot "", username "", directory,
#     pidfile, logging to stderr; remote-control on another loopback port (stats, local_data changes);
#   - for safety, so that nothing is ever recursed or forwarded: module-config "iterator" (no
#     validator, so no trust-anchor fetches), do-ip6 no, do-not-query-localhost yes,
#     do-not-query-address 0.0.0.0/0 and ::/0 (the iterator may send to no address at all),
#     local-zone "." refuse (names outside the local zones are REFUSED), no forward- or stub-zone;
#   - access-control for 127.0.0.0/8.
# TUNING, when given, is a file of further `server:` options included after ZONEFILE (scripts/bench
# world (c) passes socket buffers, num-queries-per-thread and cache settings there).

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# unbound_start DIR DATA_CONF [TUNING_CONF]: DATA_CONF holds `local-zone:` / `local-data:` lines.
unbound_start() {
    UB_DIR=$1
    local tuning=""
    if [ -n "${3:-}" ]; then tuning="  include: \"$3\""; fi
    UB_PORT=$(free_port)
    UB_CPORT=$(free_port)
    while [ "$UB_CPORT" = "$UB_PORT" ]; do UB_CPORT=$(free_port); done
    cat > "$UB_DIR/unbound.conf" <<CONF
server:
  interface: 127.0.0.1
  port: $UB_PORT
  do-ip6: no
  do-daemonize: no
  chroot: ""
  username: ""
  directory: "$UB_DIR"
  pidfile: "$UB_DIR/unbound.pid"
  use-syslog: no
  logfile: ""
  verbosity: 0
  module-config: "iterator"
  access-control: 127.0.0.0/8 allow
  do-not-query-localhost: yes
  do-not-query-address: 0.0.0.0/0
  do-not-query-address: ::/0
  local-zone: "." refuse
  include: "$2"
$tuning
remote-control:
  control-enable: yes
  control-interface: 127.0.0.1
  control-port: $UB_CPORT
  control-use-cert: no
CONF
    /usr/sbin/unbound -d -c "$UB_DIR/unbound.conf" >"$UB_DIR/unbound.log" 2>&1 &
    UB_PID=$!
    for _ in $(seq 1 100); do
        if /usr/sbin/unbound-control -c "$UB_DIR/unbound.conf" status >/dev/null 2>&1; then
            UB_ENDPOINT="127.0.0.1:$UB_PORT"
            return 0
        fi
        sleep 0.1
    done
    echo "unbound did not start; its log:" >&2
    cat "$UB_DIR/unbound.log" >&2
    return 1
}

# ubctl ARGS...: unbound-control for the running server.
ubctl() {
    /usr/sbin/unbound-control -c "$UB_DIR/unbound.conf" "$@" >/dev/null
}

unbound_stop() {
    if [ -n "${UB_PID:-}" ] && kill -0 "$UB_PID" 2>/dev/null; then
        kill "$UB_PID"
        wait "$UB_PID" 2>/dev/null || true
    fi
    UB_PID=
}
