#!/usr/bin/env bash
# Starts, stops or checks the development/test Synapse that lives in the cached sid root.
#   synapse.sh start   build the root if needed, configure, start on 127.0.0.1:$SYNAPSE_PORT, wait until healthy
#   synapse.sh stop    stop it and unmount what start mounted
#   synapse.sh status  exit 0 when the homeserver answers
set -euo pipefail
source "$(dirname "$0")/stack-env.sh"

data="$SYNAPSE_ROOT$SYNAPSE_DATA_IN_ROOT"
pidfile="$data/homeserver.pid"
health_url="http://127.0.0.1:$SYNAPSE_PORT/health"

healthy() { [ "$(curl -fsS --max-time 2 "$health_url" 2>/dev/null)" = "OK" ]; }

configure() {
  mkdir -p "$data/media"
  if [ ! -f "$data/homeserver.yaml" ]; then
    log "generating Synapse config for $SYNAPSE_SERVER_NAME"
    chroot "$SYNAPSE_ROOT" env LC_ALL=C.UTF-8 python3 -m synapse.app.homeserver \
      --server-name "$SYNAPSE_SERVER_NAME" --config-path "$SYNAPSE_DATA_IN_ROOT/homeserver.yaml" \
      --data-directory "$SYNAPSE_DATA_IN_ROOT" --generate-config --report-stats=no >/dev/null
    # The secret lives in its own file (registration_shared_secret_path) so tools can read it.
    sed -i '/^registration_shared_secret:/d' "$data/homeserver.yaml"
  fi
  if [ ! -s "$data/registration_shared_secret" ]; then
    head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$data/registration_shared_secret"
    chmod 600 "$data/registration_shared_secret"
  fi
  ensure_db_role
  # Synapse refuses a database whose collation is not C (its docs: "Set up database").
  ensure_database "$SYNAPSE_DB" "ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
  sed -e "s/__PORT__/$SYNAPSE_PORT/" -e "s/__PGHOST__/$PGHOST/" -e "s/__PGPORT__/$PGPORT/" \
      -e "s/__PGPASSWORD__/$(secret db-password 24)/" -e "s/__DB__/$SYNAPSE_DB/" \
      "$REPO_ROOT/ops/stack/synapse-overrides.yaml" >"$data/carehub-overrides.yaml"
  chmod 600 "$data/carehub-overrides.yaml"
  # CareHub's Synapse module (case guests' limits), on the Python path given at start.
  mkdir -p "$data/modules"
  cp "$REPO_ROOT/ops/synapse-module/carehub_guest_rules.py" "$data/modules/"
}

# What the running homeserver was started with: a change to either file means a restart.
config_sum() { cat "$REPO_ROOT/ops/stack/synapse-overrides.yaml" "$REPO_ROOT/ops/synapse-module/carehub_guest_rules.py" | sha256sum | cut -d' ' -f1; }

start() {
  # Before the health check: a root built earlier gets what was added to it since (a second
  # run only checks markers), even while its Synapse is running.
  bash "$REPO_ROOT/ops/stack/synapse-root.sh"
  if healthy; then
    if [ "$(cat "$data/.carehub-config-sum" 2>/dev/null)" = "$(config_sum)" ]; then return 0; fi
    log "the homeserver's CareHub settings changed: restarting Synapse"
    stop
  fi
  configure
  mount_pseudo_fs
  log "starting Synapse on 127.0.0.1:$SYNAPSE_PORT"
  config_sum >"$data/.carehub-config-sum"
  # The homeserver outlives this script: it must not keep the caller's open files (the stack
  # lock a test run holds with flock(1) would stay taken as long as Synapse runs).
  setsid chroot "$SYNAPSE_ROOT" env LC_ALL=C.UTF-8 PYTHONPATH="$SYNAPSE_DATA_IN_ROOT/modules" python3 -m synapse.app.homeserver \
    -c "$SYNAPSE_DATA_IN_ROOT/homeserver.yaml" -c "$SYNAPSE_DATA_IN_ROOT/carehub-overrides.yaml" \
    >"$STACK_LOGS/synapse.out" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  echo $! >"$pidfile"
  for _ in $(seq 1 120); do
    if healthy; then log "Synapse is up"; return 0; fi
    kill -0 "$(cat "$pidfile")" 2>/dev/null || { tail -30 "$STACK_LOGS/synapse.out"; die "Synapse exited during start-up"; }
    sleep 1
  done
  tail -30 "$STACK_LOGS/synapse.out"
  die "Synapse did not become healthy within 120 s"
}

stop() {
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")"
    for _ in $(seq 1 30); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$(cat "$pidfile")" 2>/dev/null || true
  fi
  rm -f "$pidfile"
  unmount_pseudo_fs
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) healthy ;;
  *) die "usage: synapse.sh start|stop|status" ;;
esac
