#!/usr/bin/env bash
# Stage: make the guest initramfs for one kernel (FLAVOR VARIANT): Debian's
# busybox-static, the kernel's modules, the payload of build-tests.sh, the
# guest jobs, (WITH_PERF=1) perf with the shared libraries it needs, and
# build/qemu-insn/insn-mark as /usr/bin/insn-mark where it exists.
# Output: build/initramfs/FLAVOR-VARIANT.cpio.gz, or INITRAMFS_OUT; PAYLOAD
# names another payload directory.
# WITH_MODULES=0 leaves the kernel's modules out (the test module, part of
# the payload, stays): the small image scale-bundle.sh ships.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

flavor=${1:?usage: make-initramfs.sh FLAVOR VARIANT}
variant=${2:?usage: make-initramfs.sh FLAVOR VARIANT}
check_flavor "$flavor"
obj=$(obj_dir "$flavor" "$variant")
payload=${PAYLOAD:-$BUILD_DIR/payload/$flavor-$variant}
out=${INITRAMFS_OUT:-$BUILD_DIR/initramfs/$flavor-$variant.cpio.gz}
root=${out%.cpio.gz}.root

[ -x /bin/busybox ] || die "/bin/busybox missing: apt-get install busybox-static"
file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' ||
	die "/bin/busybox is not static: apt-get install busybox-static"
[ -d "$payload" ] || die "no payload: run scripts/build-tests.sh $flavor $variant"

rm -rf "$root"
mkdir -p "$root"/{bin,sbin,etc,proc,sys,dev,tmp,root,mnt,usr/bin,usr/sbin,lib,results}
mkdir -p "$root/sys/kernel/debug" "$root/mmscale/jobs"
cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"
install -m 0755 "$MMSCALE_TOP/scripts/guest/init" "$root/init"
cp "$MMSCALE_TOP"/scripts/guest/*.sh "$MMSCALE_TOP"/scripts/guest/*.list "$root/mmscale/jobs/"
[ -d "$MMSCALE_TOP/scripts/guest/locktorture.d" ] &&
	cp -r "$MMSCALE_TOP/scripts/guest/locktorture.d" "$root/mmscale/jobs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/sh\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# Kernel modules (locktorture, ...) for modprobe.
if [ "${WITH_MODULES:-1}" = 1 ] && [ -d "$obj/mod-install/lib/modules" ]; then
	cp -a "$obj/mod-install/lib/modules" "$root/lib/"
fi

cp -a "$payload/." "$root/mmscale/"

if [ "${WITH_PERF:-0}" = 1 ]; then
	perfbin=$(perf_binary)
	copy_with_libs "$root" "$perfbin" /usr/bin/perf
fi
# The marker of the instruction-counting QEMU plugin (static), for
# bench.sh's INSNS=1, where scripts/build-qemu-insn.sh has built it.
if [ -f "$BUILD_DIR/qemu-insn/insn-mark" ]; then
	install -m 0755 "$BUILD_DIR/qemu-insn/insn-mark" "$root/usr/bin/insn-mark"
fi
# Dynamically linked payload programs (if any) need the C library too.
for f in "$root"/mmscale/bin/* "$root"/mmscale/selftests/* "$root"/mmscale/vm/*; do
	if [ ! -f "$f" ] || [ ! -x "$f" ]; then
		continue
	fi
	if file "$f" | grep -q 'dynamically linked'; then
		copy_libs "$root" "$f"
	fi
done

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
log "$flavor-$variant: $out ($(du -h "$out" | cut -f1))"
