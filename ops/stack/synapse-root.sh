#!/usr/bin/env bash
# Builds (once) a Debian sid root with matrix-synapse in it, in a cache folder outside the git tree.
# Synapse is not packaged for Debian bookworm; sid has it. Building takes ~90 s the first time;
# afterwards this script only checks that the root is complete and returns.
# The same root carries the stack tests' second GP client: matrix-nio with libolm
# (ops/lib/nio-gp/), an E2EE implementation independent of matrix-js-sdk. It has a marker of its
# own, so a root built before it was added gets it on the next run without being rebuilt.
set -euo pipefail
source "$(dirname "$0")/stack-env.sh"

marker="$SYNAPSE_ROOT/.carehub-complete"
nio_marker="$SYNAPSE_ROOT/.carehub-nio"
if [ -f "$marker" ] && [ -f "$nio_marker" ]; then
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
# A running Synapse uses the root's /proc and /dev: unmount them afterwards only if this run
# mounted them.
if ! mountpoint -q "$SYNAPSE_ROOT/proc"; then trap unmount_pseudo_fs EXIT; fi
mount_pseudo_fs
apt_in_root update >>"$STACK_LOGS/debootstrap.log" 2>&1

if [ ! -f "$marker" ]; then
  log "installing matrix-synapse in the root"
  # python3-cryptography's postinst can stop on a missing cffi backend; installing it first avoids that.
  apt_in_root install --no-install-recommends python3-cffi-backend >>"$STACK_LOGS/debootstrap.log" 2>&1
  apt_in_root install --no-install-recommends matrix-synapse python3-psycopg2 >>"$STACK_LOGS/debootstrap.log" 2>&1 \
    || { tail -20 "$STACK_LOGS/debootstrap.log"; die "apt-get install matrix-synapse failed"; }
  in_root python3 -c 'import synapse, psycopg2; print("synapse", synapse.__version__)' | tee -a "$STACK_LOGS/debootstrap.log"
  touch "$marker"
fi

if [ ! -f "$nio_marker" ]; then
  log "installing matrix-nio and libolm in the root (the stack tests' second GP client)"
  apt_in_root install --no-install-recommends python3-matrix-nio python3-olm >>"$STACK_LOGS/debootstrap.log" 2>&1 \
    || { tail -20 "$STACK_LOGS/debootstrap.log"; die "apt-get install python3-matrix-nio python3-olm failed"; }
  # nio's end-to-end encryption needs olm and its SQLite store (peewee); importing them proves both.
  in_root python3 -c 'import nio, nio.crypto, nio.store, olm; from importlib.metadata import version; print("matrix-nio", version("matrix-nio"), "olm", version("python-olm"))' \
    | tee -a "$STACK_LOGS/debootstrap.log"
  touch "$nio_marker"
fi
apt_in_root clean
