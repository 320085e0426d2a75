#!/usr/bin/env bash
# 'make scale-bundle': pack what the many-core scaling run needs into
# .scale/bundle.tar.xz, for a machine that has neither QEMU nor a network
# (the lent 16-core machine, see scripts/scale-device.sh).
#
# The bundle holds this host's QEMU with every shared library it loads
# and the dynamic loader, its TCG module (run through a wrapper, so that the other
# machine's libraries never mix in), its firmware, the perf kernels of
# KERNELS (vanilla patched v6.12 by default) as build-kernel.sh made
# them, a small initramfs for each (ebizzy, faultbench, mmscale-ctl and
# the test module; no kernel modules), perf with its libraries in one
# archive for all kernels (perf-tools.cpio.gz, which scale-device.sh
# appends to each initramfs; WITH_PERF=0 leaves it out) and the static
# abstat.
# The kernels must be built already (make bench, or
# scripts/build-kernel.sh perf VARIANT): this script builds none, and
# says which one is missing.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

KERNELS=${KERNELS:-"vanilla patched v6.12"}
S=$MMSCALE_TOP/scripts
dest=$MMSCALE_TOP/.scale
stage=$BUILD_DIR/scale-bundle
qemu_bin=$(readlink -f "$(command -v qemu-system-x86_64)") ||
	die "qemu-system-x86_64 missing: scripts/install-deps.sh"
abstat=$BUILD_DIR/harness-static/abstat
[ -x "$abstat" ] || die "no $abstat: run scripts/build-tests.sh perf vanilla"

rm -rf "$stage"
mkdir -p "$stage"/{bin,qemu/bin,qemu/lib,qemu/share,build/harness-static}

# QEMU, its libraries and the loader.  ldd names the loader by its
# absolute path; every other line is 'name => path (address)'.
install -m 0755 "$qemu_bin" "$stage/qemu/bin/qemu-system-x86_64"
for lib in $(ldd "$qemu_bin" | grep -o '/[^ ]*'); do
	cp -L "$lib" "$stage/qemu/lib/$(basename "$lib")"
done
[ -f "$stage/qemu/lib/ld-linux-x86-64.so.2" ] || die "ldd named no ld-linux-x86-64.so.2"
# Firmware: QEMU's own, SeaBIOS and the NIC option ROMs (iPXE), in the
# one directory that -L names.
cp -rL /usr/share/qemu "$stage/qemu/share/qemu"
for d in /usr/share/seabios /usr/lib/ipxe/qemu; do
	[ -d "$d" ] && cp -L "$d"/* "$stage/qemu/share/qemu/"
done
# TCG itself is a loadable module in Debian's QEMU.
moddir=/usr/lib/x86_64-linux-gnu/qemu
[ -f "$moddir/accel-tcg-x86_64.so" ] || die "no $moddir/accel-tcg-x86_64.so"
mkdir -p "$stage/qemu/modules"
cp "$moddir"/accel-tcg-*.so "$stage/qemu/modules/"
cat >"$stage/bin/qemu-system-x86_64" <<'EOF'
#!/bin/sh
# QEMU from the bundle, on the bundle's libraries and firmware only.
q=$(cd "$(dirname "$0")/../qemu" && pwd)
QEMU_MODULE_DIR=$q/modules exec "$q/lib/ld-linux-x86-64.so.2" --library-path "$q/lib" \
	"$q/bin/qemu-system-x86_64" -L "$q/share/qemu" "$@"
EOF
chmod 0755 "$stage/bin/qemu-system-x86_64"
"$stage/bin/qemu-system-x86_64" --version >/dev/null ||
	die "the bundled QEMU does not start on this host"

for v in $KERNELS; do
	obj=$(obj_dir perf "$v")
	[ -f "$obj/arch/x86/boot/bzImage" ] ||
		die "no perf kernel for '$v': run scripts/build-kernel.sh perf $v"
	[ -d "$BUILD_DIR/payload/perf-$v" ] ||
		die "no payload for '$v': run BENCH_ONLY=1 scripts/build-tests.sh perf $v"
	mkdir -p "$stage/build/obj/perf-$v/arch/x86/boot" "$stage/build/initramfs"
	cp "$obj/arch/x86/boot/bzImage" "$stage/build/obj/perf-$v/arch/x86/boot/"
	log "$v: kernel of $(date -r "$obj/arch/x86/boot/bzImage" '+%F %T')"
	# The payload's benchmark tools and the test module, nothing else.
	payload=$stage/payload-tmp/$v
	mkdir -p "$payload/bin"
	cp "$BUILD_DIR/payload/perf-$v/mmscale_test.ko" "$payload/"
	cp "$BUILD_DIR/payload/perf-$v/bin"/{ebizzy,faultbench,mmscale-ctl} "$payload/bin/"
	WITH_MODULES=0 WITH_PERF=0 PAYLOAD=$payload \
		INITRAMFS_OUT=$stage/initramfs-tmp/perf-$v.cpio.gz \
		"$S/make-initramfs.sh" perf "$v"
	mv "$stage/initramfs-tmp/perf-$v.cpio.gz" "$stage/build/initramfs/"
done
rm -rf "$stage/initramfs-tmp" "$stage/payload-tmp"
# perf once, not in every kernel's image: the kernel unpacks concatenated
# cpio archives, so scale-device.sh appends this one to each initramfs and
# round 1 of each kernel records a profile, as bench.sh does here.
if [ "${WITH_PERF:-1}" = 1 ]; then
	perfbin=$(perf_binary)
	proot=$stage/perf-root
	copy_with_libs "$proot" "$perfbin" /usr/bin/perf
	(cd "$proot" && find . | cpio -o -H newc --quiet) | gzip -9 >"$stage/build/initramfs/perf-tools.cpio.gz"
	rm -rf "$proot"
	log "perf: $(du -h "$stage/build/initramfs/perf-tools.cpio.gz" | cut -f1) ($perfbin)"
fi
cp "$abstat" "$stage/build/harness-static/"
printf '%s\n' "$KERNELS" >"$stage/kernels"

mkdir -p "$dest"
log "packing (xz)"
tar -C "$stage" -cf - . | xz -T0 -6 >"$dest/bundle.tar.xz.tmp"
mv "$dest/bundle.tar.xz.tmp" "$dest/bundle.tar.xz"
log "$dest/bundle.tar.xz: $(du -h "$dest/bundle.tar.xz" | cut -f1) (kernels: $KERNELS)"
