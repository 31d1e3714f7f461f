#!/usr/bin/env bash
# Builds the Strongbox read-only root filesystem image (SquashFS) reproducibly: the same inputs
# give the same bytes. The image holds the strongbox binary, its PDF/DOCX parser worker
# (strongbox-extract), the shared libraries they load, Tesseract language data, the optional model
# file, default settings, prompt templates, golden questions and the trust store. Nothing mutable
# goes in: the data directory is an empty mount point (/var/lib/strongbox).
#
# Usage: build-image.sh --output FILE [--binary FILE] [--worker FILE] [--model FILE] [--settings FILE]
#                       [--prompts DIR] [--golden FILE] [--tessdata FILE] [--trusted-keys FILE]
# Defaults: the release preset's binary (build/release/appliance/strongbox), the worker beside it,
# prompts from appliance/answer/prompts, eng.traineddata from Debian's tesseract-ocr-eng.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
output=""
binary="$repo/build/release/appliance/strongbox"
worker=""
model=""
settings=""
prompts="$repo/appliance/answer/prompts"
golden=""
tessdata="/usr/share/tesseract-ocr/5/tessdata/eng.traineddata"
trusted_keys=""

die() {
    echo "build-image: $*" >&2
    exit 1
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --output) output="$2"; shift 2 ;;
        --binary) binary="$2"; shift 2 ;;
        --worker) worker="$2"; shift 2 ;;
        --model) model="$2"; shift 2 ;;
        --settings) settings="$2"; shift 2 ;;
        --prompts) prompts="$2"; shift 2 ;;
        --golden) golden="$2"; shift 2 ;;
        --tessdata) tessdata="$2"; shift 2 ;;
        --trusted-keys) trusted_keys="$2"; shift 2 ;;
        *) die "unknown option $1" ;;
    esac
done

[[ -n "$output" ]] || die "--output FILE is required"
command -v mksquashfs > /dev/null || die "mksquashfs not found (Debian package squashfs-tools)"
[[ -x "$binary" ]] || die "no strongbox binary at $binary (build the release preset first: cmake --preset release && cmake --build --preset release)"
[[ -f "$tessdata" ]] || die "no Tesseract language data at $tessdata"
# The PDF and DOCX parser worker is built beside the binary; strongbox looks for it beside itself.
[[ -n "$worker" ]] || worker="$(dirname "$binary")/strongbox-extract"
[[ -x "$worker" ]] || die "no parser worker at $worker (it is built with the strongbox binary)"

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
root="$stage/root"
mkdir -p "$root/usr/bin" "$root/usr/share/strongbox" "$root/usr/share/tesseract-ocr/5/tessdata" \
    "$root/etc/strongbox" "$root/var/lib/strongbox"

install -m 0755 "$binary" "$root/usr/bin/strongbox"
install -m 0755 "$worker" "$root/usr/bin/strongbox-extract"

# Runtime libraries at the paths the dynamic loader will look for them, dereferenced so the
# image never depends on the build machine's symlinks.
while read -r lib; do
    [[ -n "$lib" && -f "$lib" ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
    chmod 0644 "$root$lib"
done < <(ldd "$binary" "$worker" 2> /dev/null | awk '/=> \// { print $3 } /^[ \t]*\/[^ ]+ \(/ { print $1 }' | LC_ALL=C sort -u)

install -m 0644 "$tessdata" "$root/usr/share/tesseract-ocr/5/tessdata/$(basename "$tessdata")"
if [[ -n "$model" ]]; then
    install -m 0644 "$model" "$root/usr/share/strongbox/model.gguf"
fi
if [[ -n "$settings" ]]; then
    install -m 0644 "$settings" "$root/etc/strongbox/settings.json"
fi
if [[ -d "$prompts" ]]; then
    mkdir -p "$root/usr/share/strongbox/prompts"
    cp -R "$prompts/." "$root/usr/share/strongbox/prompts/"
fi
# The go-live step initramfs-boot.sh hands over to (behaviour check, then mark good, then serve).
install -m 0755 "$repo/provisioning/scripts/boot-confirm.sh" "$root/usr/share/strongbox/boot-confirm.sh"
if [[ -n "$golden" ]]; then
    install -m 0644 "$golden" "$root/usr/share/strongbox/golden.json"
fi
if [[ -n "$trusted_keys" ]]; then
    install -m 0644 "$trusted_keys" "$root/etc/strongbox/trusted-keys.json"
fi

# Fixed permissions and timestamps: umask, copy order and build time must not reach the bytes.
find "$root" -type d -exec chmod 0755 {} +
find "$root" -type f ! -perm -u+x -exec chmod 0644 {} +
find "$root" -type f -perm -u+x -exec chmod 0755 {} +
find "$root" -exec touch -h -d @0 {} +

# A sort file with every path at priority 0 fixes the block order independent of readdir order.
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | sed 's|^\./||; s|$| 0|') > "$stage/sort"

rm -f "$output"
mksquashfs "$root" "$output" -noappend -all-root -mkfs-time 0 -all-time 0 -no-xattrs \
    -sort "$stage/sort" -processors 1 -quiet > /dev/null
sha256sum "$output"
