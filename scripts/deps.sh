#!/usr/bin/env bash
# Installs the Debian 12 packages Strongbox builds and runs with. Idempotent and quiet when
# everything is already present. Needs root (or sudo) only when something is missing. Extra package
# names given as arguments are installed too (scripts/format.sh asks for clang-format-14).
set -euo pipefail

packages=(
  cmake ninja-build pkg-config g++
  libfaiss-dev libopenblas-dev
  libsentencepiece-dev
  libpoco-dev
  libsqlitecpp-dev libsqlite3-dev
  libpoppler-cpp-dev poppler-utils
  libtesseract-dev libleptonica-dev tesseract-ocr-eng tesseract-ocr-kor tesseract-ocr-osd
  libstemmer-dev
  libfreetype-dev fonts-nanum
  doctest-dev
  libsodium-dev
  libssl-dev
  squashfs-tools
  wrk
)
packages+=("$@")

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "strongbox: installing ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
