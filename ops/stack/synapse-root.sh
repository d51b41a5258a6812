#!/usr/bin/env bash
# Builds (once) a Debian sid root with matrix-synapse in it, in a cache folder outside the git tree.
# Synapse is not packaged for Debian bookworm; sid has it. Building takes ~90 s the first time;
# afterwards this script only checks that the root is complete and returns.
set -euo pipefail
source "$(dirname "$0")/stack-env.sh"

marker="$SYNAPSE_ROOT/.carehub-complete"
if [ -f "$marker" ]; then
  exit 0
fi

need_root_tools() {
  if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap (Debian package)"
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap >/dev/null
  fi
}

base_marker="$SYNAPSE_ROOT/.carehub-base"
if [ ! -f "$base_marker" ]; then
  need_root_tools
  rm -rf "$SYNAPSE_ROOT"
  mkdir -p "$(dirname "$SYNAPSE_ROOT")"
  log "debootstrap sid into $SYNAPSE_ROOT (first time only, ~90 s)"
  debootstrap --variant=minbase sid "$SYNAPSE_ROOT" http://deb.debian.org/debian >"$STACK_LOGS/debootstrap.log" 2>&1 \
    || { tail -20 "$STACK_LOGS/debootstrap.log"; die "debootstrap failed (log: $STACK_LOGS/debootstrap.log)"; }
  touch "$base_marker"
fi

# The mirror may serve a sid Release file past its Valid-Until date; signatures are still checked.
in_root() { chroot "$SYNAPSE_ROOT" env DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 "$@"; }
apt_in_root() { in_root apt-get -o Acquire::Check-Valid-Until=false -y -q "$@"; }
mount_pseudo_fs
trap unmount_pseudo_fs EXIT
log "installing matrix-synapse in the root"
apt_in_root update >>"$STACK_LOGS/debootstrap.log" 2>&1
# python3-cryptography's postinst can stop on a missing cffi backend; installing it first avoids that.
apt_in_root install --no-install-recommends python3-cffi-backend >>"$STACK_LOGS/debootstrap.log" 2>&1
apt_in_root install --no-install-recommends matrix-synapse python3-psycopg2 >>"$STACK_LOGS/debootstrap.log" 2>&1 \
  || { tail -20 "$STACK_LOGS/debootstrap.log"; die "apt-get install matrix-synapse failed"; }
apt_in_root clean
in_root python3 -c 'import synapse, psycopg2; print("synapse", synapse.__version__)' | tee -a "$STACK_LOGS/debootstrap.log"
touch "$marker"
