#!/usr/bin/env bash
# Quick-start demo: normalize copies of a few upstream fixtures with a fixed timestamp and
# show that they now equal the reference outputs made by the Perl tool.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for f in png/tEXt.png gzip/vimoutliner_vo_readme_txt.gz javadoc/a.html cpio/test.cpio; do
  cp "$here/fixtures/upstream/$f.in" "$work/$(basename "$f")"
  chmod u+w "$work/$(basename "$f")"
done
"$here/bin/strip-nondeterminism" -v -T 1423159771 "$work"/*
for f in png/tEXt.png gzip/vimoutliner_vo_readme_txt.gz javadoc/a.html cpio/test.cpio; do
  if cmp -s "$work/$(basename "$f")" "$here/fixtures/upstream/$f.out"; then
    echo "identical to the Perl tool's output: $(basename "$f")"
  else
    echo "DIFFERENT from the Perl tool's output: $(basename "$f")"; exit 1
  fi
done
