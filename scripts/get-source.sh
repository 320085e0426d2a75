#!/usr/bin/env bash
# Stage: get the 6.1.y source and make it a git work tree under build/.
#
# The baseline commit (tag mmscale-base) is the pristine source: Debian's
# linux-source-6.1 by default, or the tree named by KERNEL_SRC=/path.  The
# series is applied on top of it by apply-series.sh.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

DEB_TARBALL=/usr/src/linux-source-6.1.tar.xz

kernel_version() {
	make -s -C "$1" kernelversion 2>/dev/null
}

if git -C "$KTREE" rev-parse -q --verify refs/tags/mmscale-base >/dev/null 2>&1; then
	log "work tree exists: $KTREE (base $(git_k log -1 --format=%s mmscale-base))"
	exit 0
fi

rm -rf "$KTREE" "$KTREE.tmp"
mkdir -p "$BUILD_DIR"
if [ -n "${KERNEL_SRC:-}" ]; then
	if [ ! -f "$KERNEL_SRC/Makefile" ] || [ ! -d "$KERNEL_SRC/mm" ]; then
		die "KERNEL_SRC=$KERNEL_SRC is not a kernel source tree"
	fi
	log "copying $KERNEL_SRC"
	rsync -a --exclude=.git "$KERNEL_SRC/" "$KTREE.tmp/"
	origin="KERNEL_SRC=$KERNEL_SRC"
else
	[ -f "$DEB_TARBALL" ] || die "$DEB_TARBALL missing: run scripts/install-deps.sh (package linux-source-6.1)"
	debver=$(dpkg-query -W -f='${Version}' linux-source-6.1)
	log "unpacking $DEB_TARBALL (Debian linux-source-6.1 $debver)"
	mkdir -p "$KTREE.tmp"
	tar -xf "$DEB_TARBALL" -C "$KTREE.tmp" --strip-components=1
	origin="Debian linux-source-6.1 $debver"
fi
version=$(kernel_version "$KTREE.tmp")
case "$version" in
6.1.*) ;;
*) die "the source is Linux $version, the series is for 6.1.y" ;;
esac
mv "$KTREE.tmp" "$KTREE"

# Debian's tarball ignores every top-level path (its packaging repository
# holds only debian/), which would hide every new file from git: drop that
# block, and only it, from the baseline.
note=""
if grep -q '^# Debian packaging: ignore everything at the top level' "$KTREE/.gitignore"; then
	sed -i '/^# Debian packaging: ignore everything at the top level/,$d' "$KTREE/.gitignore"
	sed -i '${/^#$/d}' "$KTREE/.gitignore"
	note="Debian's top-level ignore-everything block was removed from .gitignore."
fi

log "creating the baseline commit for Linux $version (takes a minute)"
git init -q -b base "$KTREE"
git_k add -A
git_k commit -q -m "Linux $version" -m "Pristine source from $origin. $note"
git_k tag mmscale-base
printf '%s\n' "$version" >"$BUILD_DIR/kernel-version"
log "baseline: Linux $version ($origin), tag mmscale-base"
