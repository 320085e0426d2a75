#!/usr/bin/env bash
# Fetch QEMU's TCG plugin header (include/qemu/qemu-plugin.h) for the
# installed qemu-system-x86: Debian ships neither the plugins nor the header.
# Downloads the Debian source package of the installed version with
# `apt-get source --download-only` and extracts only the header from its
# orig tarball.  Output: build/qemu-plugin/qemu-plugin.h, and
# build/qemu-plugin/VERSION (the Debian source version it came from).
#
# apt runs on a private deb-src sources file, lists directory and cache in
# a temporary directory (removed on exit): the system's sources and
# /var/lib/apt/lists are left as they were.  The URIs, suites and keyring
# come from /etc/apt/sources.list.d/debian.sources (or
# /etc/apt/sources.list).  Idempotent: does nothing when the header of the
# installed version is already there.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

outdir=$BUILD_DIR/qemu-plugin
header=$outdir/qemu-plugin.h
stamp=$outdir/VERSION

command -v qemu-system-x86_64 >/dev/null ||
	die "qemu-system-x86_64 not installed: apt-get install qemu-system-x86"
srcpkg=$(dpkg-query -W -f='${source:Package}' qemu-system-x86 2>/dev/null) ||
	die "cannot ask dpkg for qemu-system-x86's source package"
version=$(dpkg-query -W -f='${source:Version}' qemu-system-x86)
{ [ -n "$srcpkg" ] && [ -n "$version" ]; } || die "qemu-system-x86: no source package/version from dpkg"

if [ -f "$header" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$srcpkg $version" ]; then
	log "$header is up to date ($srcpkg $version)"
	exit 0
fi

tmp=$(mktemp -d /tmp/qemu-plugin-header.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/dl"

# The deb-src sources: the system's deb entries with their type changed.
sources=$tmp/deb-src.sources
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
	sed -e 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources >"$sources"
elif [ -f /etc/apt/sources.list ]; then
	sources=$tmp/deb-src.list
	sed -n -e 's/^deb[[:space:]]/deb-src /p' /etc/apt/sources.list >"$sources"
else
	die "no /etc/apt/sources.list.d/debian.sources or /etc/apt/sources.list to take the Debian mirror from"
fi
grep -q 'deb-src' "$sources" || die "no Debian entries in the system's apt sources"

apt_opts=(-o "Dir::Etc::SourceList=$sources" -o "Dir::Etc::SourceParts=$tmp/none"
	-o "Dir::State::Lists=$tmp/lists" -o "Dir::Cache=$tmp/cache"
	-o "APT::Sandbox::User=root")

log "apt-get update (deb-src, private lists in $tmp)"
apt-get "${apt_opts[@]}" -q update >"$tmp/update.log" 2>&1 || {
	tail -n 20 "$tmp/update.log" >&2
	die "apt-get update of the deb-src sources failed (no network to the Debian mirror?)"
}
log "downloading source package $srcpkg=$version"
if ! (cd "$tmp/dl" && apt-get "${apt_opts[@]}" -q source --download-only "$srcpkg=$version") \
	>"$tmp/source.log" 2>&1; then
	tail -n 20 "$tmp/source.log" >&2
	avail=$(apt-cache "${apt_opts[@]}" showsrc "$srcpkg" 2>/dev/null | sed -n 's/^Version: //p' | tr '\n' ' ')
	die "cannot download $srcpkg $version from the mirror (it has: ${avail:-nothing})"
fi

orig=$(find "$tmp/dl" -maxdepth 1 -name "${srcpkg}_*.orig.tar.*" | head -n 1)
debian=$(find "$tmp/dl" -maxdepth 1 -name "${srcpkg}_*.debian.tar.*" | head -n 1)
[ -n "$orig" ] || die "no orig tarball in the downloaded source package: $(ls "$tmp/dl")"

# The header's path inside the tarball (the top directory is qemu-X.Y.Z).
member=$(tar -tf "$orig" | grep -m 1 '^[^/]*/include/qemu/qemu-plugin\.h$' || true)
[ -n "$member" ] || die "$orig has no include/qemu/qemu-plugin.h (QEMU older than 4.2?)"
log "extracting $member"
tar -xf "$orig" -C "$tmp" "$member"

# Debian's patches (which include the upstream stable releases) must not
# change the header, or the extracted one would not be what was built.
if [ -n "$debian" ]; then
	tar -xf "$debian" -C "$tmp" debian/patches 2>/dev/null || true
	touched=$(grep -rl 'include/qemu/qemu-plugin\.h' "$tmp/debian/patches" 2>/dev/null || true)
	[ -z "$touched" ] ||
		die "Debian patches change qemu-plugin.h ($(xargs -n 1 basename <<<"$touched" | tr '\n' ' ')): apply them here first"
fi

# The plugin API version of the header against the installed binary's.
api=$(sed -n 's/^#define QEMU_PLUGIN_VERSION \([0-9]*\).*/\1/p' "$tmp/$member")
[ -n "$api" ] || die "no QEMU_PLUGIN_VERSION in $member"
qver=$(qemu-system-x86_64 --version | sed -n '1s/.*version \([0-9.]*\).*/\1/p')
hver=$(tar -xOf "$orig" "${member%%/*}/VERSION" 2>/dev/null || true)
[ "${qver%.*}" = "${hver%.*}" ] ||
	die "header from QEMU $hver, but qemu-system-x86_64 is $qver"

mkdir -p "$outdir"
install -m 0644 "$tmp/$member" "$header"
printf '%s %s\n' "$srcpkg" "$version" >"$stamp"
log "installed $header (QEMU $hver, Debian $version, QEMU_PLUGIN_VERSION $api)"
