#!/bin/sh
# eosxd entrypoint shipped by dlaas-gen: mount each EOS instance named on the command line
# (reading /etc/eos/fuse.<name>.conf), re-mount one that dies, unmount all cleanly on stop.
set -u
[ "$#" -gt 0 ] || { echo "usage: entrypoint.sh INSTANCE..." >&2; exit 2; }

mounted() { grep -q " /eos/$1 fuse" /proc/mounts; }

start() {
  mkdir -p "/eos/$1"
  if mounted "$1"; then return 0; fi
  echo "mounting EOS instance $1"
  eosxd -ofsname="$1" || echo "eosxd for $1 exited with $?" >&2
}

# The instance names are kept here: a trap runs wherever the shell is when the signal comes,
# and inside a function "$@" is that function's arguments, not the script's (names are DNS
# labels, so word splitting is safe).
INSTANCES="$*"

stop() {
  for name in $INSTANCES; do
    umount -l "/eos/$name" 2>/dev/null || fusermount -uz "/eos/$name" 2>/dev/null || true
  done
  exit 0
}
trap stop TERM INT

for name in "$@"; do start "$name"; done
while true; do
  sleep 5 &
  wait $!
  for name in "$@"; do mounted "$name" || start "$name"; done
done
