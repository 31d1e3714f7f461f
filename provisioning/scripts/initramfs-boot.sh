#!/bin/sh
# Strongbox early boot (initramfs side). Picks the slot to boot with `strongbox boot select`
# (which counts down the tries of an image on probation and falls back to the good slot after
# three failed boots), mounts that slot's read-only SquashFS as the new root with the data
# directory beneath it, and hands over to boot-confirm.sh inside the image, which runs the
# behaviour check and only then marks the slot good.
#
# Usage: initramfs-boot.sh [--dry-run]
#   --dry-run  select the slot (this does count a try down) and print the commands that would
#              mount and switch root instead of running them.
# Environment: STRONGBOX (the binary in the initramfs, default /bin/strongbox), STRONGBOX_SLOTS
# (default /strongbox/slots), STRONGBOX_DATA (default /strongbox/data), NEWROOT (default /newroot).
set -eu

strongbox="${STRONGBOX:-/bin/strongbox}"
slots="${STRONGBOX_SLOTS:-/strongbox/slots}"
data="${STRONGBOX_DATA:-/strongbox/data}"
newroot="${NEWROOT:-/newroot}"
run=""
if [ "${1:-}" = "--dry-run" ]; then
    run="echo"
fi

if ! slot="$("$strongbox" boot select --slots "$slots")"; then
    echo "strongbox: no bootable slot in $slots; dropping to a shell" >&2
    [ -n "$run" ] && exit 1
    exec /bin/sh
fi
case "$slot" in
    a | b) ;;
    *) echo "strongbox: boot select answered '$slot'" >&2; exit 1 ;;
esac

$run mount -t squashfs -o ro,loop "$slots/slot-$slot" "$newroot"
$run mount --bind "$data" "$newroot/var/lib/strongbox"
$run mkdir -p "$newroot/var/lib/strongbox/slots"
$run mount --bind "$slots" "$newroot/var/lib/strongbox/slots"
$run exec switch_root "$newroot" /usr/share/strongbox/boot-confirm.sh
