#!/usr/bin/env bash
# Installs the Debian packages the answer evaluation sets are written over and gathers their
# documents under DEST (default build/eval-docs), one folder per language and source. The sets in
# eval/sets/ name documents by their path under DEST. Licences: see eval/README.md.
#
#   eval/docs.sh [DEST]
set -euo pipefail
dest=${1:-build/eval-docs}
here=$(cd "$(dirname "$0")" && pwd)
shared=${STRONGBOX_SHARED_DATA:-$here/../../shared/data}

packages=(debian-reference-en debian-policy developers-reference distro-info-data gimp-help-ko libreoffice-help-ko
          systemd man-db zstd)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "eval docs: installing ${missing[*]}" >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

rm -rf "$dest"
mkdir -p "$dest"/en/{debian-reference,debian-policy,developers-reference,distro-info,markdown,logs,scans} \
         "$dest"/ko/{gimp,libreoffice}
cp /usr/share/doc/debian-reference-common/docs/*.en.html "$dest/en/debian-reference/"
cp /usr/share/doc/debian-policy/policy.html/ch-*.html /usr/share/doc/debian-policy/policy.html/ap-*.html \
   /usr/share/doc/debian-policy/policy.html/upgrading-checklist.html "$dest/en/debian-policy/"
cp /usr/share/doc/developers-reference/docs/developers-reference.pdf "$dest/en/developers-reference/"
cp /usr/share/distro-info/debian.csv "$dest/en/distro-info/"
zcat /usr/share/doc/debian-reference-common/README.md.gz > "$dest/en/markdown/debian-reference-README.md"
# Markdown shipped by packages every Debian 12 system has (systemd, man-db, zstd).
zcat /usr/share/doc/systemd/UIDS-GIDS.md.gz > "$dest/en/markdown/systemd-UIDS-GIDS.md"
zcat /usr/share/doc/systemd/ENVIRONMENT.md.gz > "$dest/en/markdown/systemd-ENVIRONMENT.md"
zcat /usr/share/doc/man-db/README.md.gz > "$dest/en/markdown/man-db-README.md"
zcat /usr/share/doc/zstd/README.md.gz > "$dest/en/markdown/zstd-README.md"
cp /usr/share/gimp/2.0/help/ko/*.html "$dest/ko/gimp/"
cp /usr/share/libreoffice/help/ko/text/shared/guide/*.html "$dest/ko/libreoffice/"

# Real logs and scans from the shared test data (loghub, OCRmyPDF's test files), when present.
if [ -d "$shared" ]; then
  for system in Linux OpenSSH Apache; do
    cp "$shared/loghub-2k/$system/${system}_2k.log" "$dest/en/logs/"
  done
  for scan in linn cardinal epson c02-22 skew rotated_skew; do
    cp "$shared/pdfs-ocrmypdf/$scan.pdf" "$dest/en/scans/"
  done
else
  echo "eval docs: no shared test data at $shared: logs and scans left out" >&2
fi
find "$dest" -type f | wc -l | xargs printf 'eval docs: %s files under %s\n' >&2 "$dest"
