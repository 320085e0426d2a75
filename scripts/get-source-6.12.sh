#!/usr/bin/env bash
# Stage: unpack the 6.12.y baseline (Debian's linux-source-6.12) into
# build/linux-6.12.  6.12 has mainline's per-VMA locks, the design that
# upstream merged instead of speculative page faults; the benchmark runs
# it beside 6.1 with the same config fragments.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

tarball=/usr/src/linux-source-6.12.tar.xz
dest=$(src_dir v6.12)
if [ -f "$dest/Makefile" ]; then
	log "6.12 source present: $dest ($(make -s -C "$dest" kernelversion))"
	exit 0
fi
[ -f "$tarball" ] || die "$tarball missing: WITH_612=1 scripts/install-deps.sh"
log "unpacking $tarball (Debian linux-source-6.12 $(dpkg-query -W -f='${Version}' linux-source-6.12))"
rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
tar -xf "$tarball" -C "$dest.tmp" --strip-components=1
mv "$dest.tmp" "$dest"
log "6.12 source: $dest ($(make -s -C "$dest" kernelversion))"
