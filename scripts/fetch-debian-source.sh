#!/usr/bin/env bash
# fetch-debian-source.sh PACKAGE VERSION CACHE_DIR: downloads a Debian source
# package (once) into CACHE_DIR, enabling deb-src for this machine's Debian
# suites when no deb-src line exists yet. Needs root the first time.
set -euo pipefail
pkg=$1 version=$2 cache=$3
mkdir -p "$cache"
[ -f "$cache/${pkg}_${version#*:}.dsc" ] && exit 0
if ! grep -rqs '^Types:.*deb-src\|^deb-src' /etc/apt/sources.list /etc/apt/sources.list.d; then
  sed 's/^Types: deb$/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >/etc/apt/sources.list.d/graft-src.sources
fi
command -v dpkg-source >/dev/null || apt-get install -y -qq dpkg-dev >/dev/null
apt-get update -qq
cd "$cache" && apt-get source -qq --download-only "$pkg=$version" 2>/dev/null
