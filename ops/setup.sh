#!/usr/bin/env bash
# One command from a fresh checkout to a running development stack (idempotent; a second run
# takes seconds):
#   - Node 22 and the project's packages (the npm `node` package brings Node 22 where the
#     system's is older; every npm script then runs on it);
#   - PostgreSQL and Redis: the ones running on their default ports, else Debian's packages;
#   - Synapse in a cached Debian sid root (ops/stack/synapse.sh), with matrix-nio and libolm for
#     the stack tests' second GP client (ops/lib/nio-gp/);
#   - secrets, the hub's config (.stack/carehub.yaml), the database and its migrations, and the
#     hub's Matrix bot account.
set -euo pipefail
source "$(dirname "$0")/stack/stack-env.sh"
cd "$REPO_ROOT"

apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -q >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
}

ensure_node_packages() {
  command -v npm >/dev/null || { log "installing nodejs and npm (Debian packages)"; apt_install nodejs npm; }
  local stamp="node_modules/.carehub-lock-sha"
  # The workspaces' package.json files count too, and so do their links in node_modules/@carehub/.
  local manifests=(package-lock.json package.json fhir-profiles/package.json matrix-bridge/package.json connectors/package.json hub/package.json)
  local current; current=$(sha256sum "${manifests[@]}" | sha256sum | cut -c1-64)
  if [ -x node_modules/.bin/node ] && [ -e node_modules/@carehub/hub ] && [ "$(cat "$stamp" 2>/dev/null)" = "$current" ]; then return 0; fi
  log "installing packages (npm install, versions pinned by package-lock.json)"
  # (Not `npm ci`: this registry mirror omits other platforms' optional packages from the lockfile,
  # which `npm ci` rejects.) The system npm may run on an older Node; the lockfile pins every version, so it installs
  # exactly what Node 22 needs, including Node 22 itself (the `node` package).
  npm install --no-audit --no-fund --loglevel=error
  sha256sum "${manifests[@]}" | sha256sum | cut -c1-64 >"$stamp"
}

ensure_postgres() {
  if pg_isready -q -h "$PGHOST" -p "$PGPORT" 2>/dev/null; then return 0; fi
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing PostgreSQL (Debian package)"
    apt_install postgresql
  fi
  local version; version=$(ls /etc/postgresql | sort -V | tail -1)
  log "starting PostgreSQL $version"
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" -p "$PGPORT" && return 0; sleep 1; done
  die "PostgreSQL is not answering on $PGHOST:$PGPORT"
}

ensure_redis() {
  if redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; then :; else
    command -v redis-server >/dev/null || { log "installing Redis (Debian package)"; apt_install redis-server; }
    log "starting Redis on 127.0.0.1:6379"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --dir /var/lib/redis --logfile /var/log/redis/carehub.log
    for _ in $(seq 1 30); do redis-cli ping 2>/dev/null | grep -q PONG && break; sleep 0.5; done
  fi
  # A queue must never silently drop jobs to free memory (BullMQ docs: "noeviction").
  redis-cli config set maxmemory-policy noeviction >/dev/null
}

write_config() {
  local password; password=$(secret db-password 24)
  secret bot-password 24 >/dev/null
  secret device-store.key 32 >/dev/null
  ensure_database carehub
  local database_url="postgres://carehub:$password@$PGHOST:$PGPORT/carehub"
  sed -e "s|__DATABASE_URL__|$database_url|" -e "s|__SERVER_NAME__|$SYNAPSE_SERVER_NAME|" \
      -e "s|__HOMESERVER_URL__|http://127.0.0.1:$SYNAPSE_PORT|" -e "s|__SECRETS_DIR__|$SECRETS_DIR|" \
      "$REPO_ROOT/ops/config/carehub.dev.yaml.template" >"$STACK_DIR/carehub.yaml"
  # Facts about this stack for the demo, the tests and the ops commands.
  cat >"$STACK_DIR/stack.json" <<JSON
{
  "databaseUrl": "$database_url",
  "redisUrl": "redis://127.0.0.1:6379",
  "homeserverUrl": "http://127.0.0.1:$SYNAPSE_PORT",
  "serverName": "$SYNAPSE_SERVER_NAME",
  "registrationSecretFile": "$SYNAPSE_ROOT$SYNAPSE_DATA_IN_ROOT/registration_shared_secret",
  "synapseRoot": "$SYNAPSE_ROOT"
}
JSON
}

mkdir -p "$STACK_DIR"
ensure_node_packages
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"
ensure_postgres
ensure_redis
ensure_db_role
# gpg is only the document benchmark's point of comparison (npm run bench:documents).
command -v gpg >/dev/null || { log "installing gnupg (Debian package, for the document benchmark)"; apt_install gnupg; }
bash "$REPO_ROOT/ops/stack/synapse.sh" start
write_config
node --import tsx ops/provision-hub.ts --config "$STACK_DIR/carehub.yaml"
log "ready: Node $(node --version), PostgreSQL, Redis and Synapse ($SYNAPSE_SERVER_NAME on 127.0.0.1:$SYNAPSE_PORT)"
