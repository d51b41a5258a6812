# Shared settings for the dev/test stack scripts. Sourced, not run.
# Every value can be overridden from the environment; defaults suit one developer machine.
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CAREHUB_CACHE="${CAREHUB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/carehub}"
SYNAPSE_ROOT="${SYNAPSE_ROOT:-$CAREHUB_CACHE/synapse-root}"
# Secrets of the development stack (database and bot passwords). Machine-wide, beside the
# Synapse root, because that homeserver and its accounts are shared by every checkout here.
SECRETS_DIR="${SECRETS_DIR:-$CAREHUB_CACHE/secrets}"
# State of this checkout's stack (config, logs, the bot's device store). Ignored by git.
STACK_DIR="${STACK_DIR:-$REPO_ROOT/.stack}"
STACK_LOGS="$STACK_DIR/logs"
SYNAPSE_SERVER_NAME="${SYNAPSE_SERVER_NAME:-carehub.test}"
SYNAPSE_PORT="${SYNAPSE_PORT:-8008}"
SYNAPSE_DB="${SYNAPSE_DB:-carehub_synapse}"
# Inside the root: Synapse's own config and data (signing key, media). Kept with the cached root
# so that every checkout on this machine talks to the same homeserver.
SYNAPSE_DATA_IN_ROOT=/var/lib/carehub-synapse
PGHOST="${PGHOST:-127.0.0.1}"
PGPORT="${PGPORT:-5432}"
PGUSER="${PGUSER:-postgres}"
export PGHOST PGPORT PGUSER
mkdir -p "$STACK_LOGS"

log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] error: %s\n' "$*" >&2; exit 1; }

secret() { # secret NAME BYTES: prints a random hex secret kept in $SECRETS_DIR, made on first use
  local file="$SECRETS_DIR/$1"
  if [ ! -s "$file" ]; then
    mkdir -p "$SECRETS_DIR"; chmod 700 "$SECRETS_DIR"
    head -c "$2" /dev/urandom | od -An -tx1 | tr -d ' \n' >"$file"; chmod 600 "$file"
  fi
  cat "$file"
}

# psql as the database superuser: over TCP where trust auth allows it (as on the CI machines),
# else through the postgres OS account (peer auth, Debian's default).
pg_admin() {
  if psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -tAc 'SELECT 1' >/dev/null 2>&1; then
    psql -h "$PGHOST" -p "$PGPORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -q "$@"
  else
    runuser -u postgres -- psql -d postgres -v ON_ERROR_STOP=1 -q "$@"
  fi
}

# The `carehub` role (password in $SECRETS_DIR/db-password) owns CareHub's and Synapse's
# databases; CREATEDB lets the test suites make a throw-away database each.
ensure_db_role() {
  local password; password=$(secret db-password 24)
  pg_admin <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'carehub') THEN
    CREATE ROLE carehub LOGIN CREATEDB PASSWORD '$password';
  ELSE
    ALTER ROLE carehub LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
}

ensure_database() { # ensure_database NAME [extra CREATE DATABASE options]
  if ! pg_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1; then
    log "creating database $1"
    pg_admin -c "CREATE DATABASE $1 OWNER carehub ${2:-}"
  fi
}

mount_pseudo_fs() {
  mountpoint -q "$SYNAPSE_ROOT/proc" || mount -t proc proc "$SYNAPSE_ROOT/proc"
  mountpoint -q "$SYNAPSE_ROOT/dev" || mount --bind /dev "$SYNAPSE_ROOT/dev"
}
unmount_pseudo_fs() {
  umount "$SYNAPSE_ROOT/dev" 2>/dev/null || true
  umount "$SYNAPSE_ROOT/proc" 2>/dev/null || true
}
