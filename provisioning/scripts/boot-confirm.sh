#!/bin/sh
# Strongbox go-live step, run inside the booted image after initramfs-boot.sh switched to it:
# `strongbox boot confirm` runs the behaviour check (database, index, audit chain, model and
# hidden salt against the signed manifest, web server, golden questions within the promised
# latency) and marks the booted slot good only when it passes. When it fails the box reboots:
# the next `boot select` counts a try down, and after three failed boots the previous good slot
# boots again. Once confirmed, the daemon starts.
#
# Usage: boot-confirm.sh [--dry-run]
#   --dry-run  run the confirm step for real but print the reboot or serve command instead of
#              running it.
# Environment: STRONGBOX (default /usr/bin/strongbox), STRONGBOX_DATA (default
# /var/lib/strongbox), STRONGBOX_SLOTS (default $STRONGBOX_DATA/slots), STRONGBOX_CONFIRM_ARGS
# (more `boot confirm` options, e.g. --trusted-keys FILE), STRONGBOX_SERVE_ARGS.
set -eu

strongbox="${STRONGBOX:-/usr/bin/strongbox}"
data="${STRONGBOX_DATA:-/var/lib/strongbox}"
slots="${STRONGBOX_SLOTS:-$data/slots}"
run=""
if [ "${1:-}" = "--dry-run" ]; then
    run="echo"
fi

# shellcheck disable=SC2086 # the extra arguments are meant to split
if ! "$strongbox" boot confirm --data-dir "$data" --slots "$slots" ${STRONGBOX_CONFIRM_ARGS:-}; then
    echo "strongbox: behaviour check failed; rebooting so the try counter can roll back" >&2
    $run sync
    $run reboot -f
    exit 1
fi
# shellcheck disable=SC2086 # the serve arguments are meant to split
$run exec "$strongbox" serve --data-dir "$data" ${STRONGBOX_SERVE_ARGS:-}
