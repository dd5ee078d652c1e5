#!/usr/bin/env bash
# Download the packages listed in scripts/debian-corpus.txt with `apt-get download` and unpack
# each with `dpkg-deb -x` into DIR/root/PACKAGE (default DIR: var/debian-corpus). Already
# unpacked packages are skipped. Needs a prior `apt-get update`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-"$here/../var/debian-corpus"}
mkdir -p "$dir/debs" "$dir/root"
dir=$(cd "$dir" && pwd)
mapfile -t pkgs < <(grep -v '^\s*#' "$here/debian-corpus.txt" | grep -v '^\s*$')
todo=()
for p in "${pkgs[@]}"; do [ -d "$dir/root/$p" ] || todo+=("$p"); done
if [ ${#todo[@]} -gt 0 ]; then
  (cd "$dir/debs" && apt-get download "${todo[@]}")
  for p in "${todo[@]}"; do
    deb=$(ls "$dir/debs/${p}_"*.deb | head -n 1)
    mkdir -p "$dir/root/$p.tmp"
    dpkg-deb -x "$deb" "$dir/root/$p.tmp"
    mv "$dir/root/$p.tmp" "$dir/root/$p"
  done
fi
echo "Debian corpus ready in $dir/root (${#pkgs[@]} packages)"
