#!/usr/bin/env bash
# Stage: build the guest payload for one kernel (FLAVOR VARIANT) into
# build/payload/FLAVOR-VARIANT/: the test module (Kbuild M=, against the
# same O= tree), the kselftests, the upstream vm selftests and the C++
# harness (static, for a guest without libc).  BENCH_ONLY=1: only what the
# benchmark needs (module, harness, mmscale-ctl).
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

flavor=${1:?usage: build-tests.sh FLAVOR VARIANT}
variant=${2:?usage: build-tests.sh FLAVOR VARIANT}
check_flavor "$flavor"
src=$(src_dir "$variant")
obj=$(obj_dir "$flavor" "$variant")
payload=$BUILD_DIR/payload/$flavor-$variant
tag=$flavor-$variant
[ -f "$obj/Module.symvers" ] || die "$tag: kernel not built: run scripts/build-kernel.sh $flavor $variant"
mkdir -p "$payload/bin" "$payload/selftests" "$payload/vm"

# Kernel headers for user space, from this very tree.
run_logged "$LOG_DIR/headers-$tag.log" make -C "$src" O="$obj" ARCH=x86_64 headers_install
khdr="-isystem $obj/usr/include"
khdr_args=(-isystem "$obj/usr/include")

log "$tag: test module"
moddir=$BUILD_DIR/module-$tag
rsync -a --delete --exclude='*.o' --exclude='*.ko' "$MMSCALE_TOP/module/" "$moddir/"
run_logged "$LOG_DIR/module-$tag.log" \
	make -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" M="$moddir" modules
cp "$moddir/mmscale_test.ko" "$payload/"

run_logged "$LOG_DIR/selftests-$tag.log" \
	gcc -O2 -Wall -Werror -static "${khdr_args[@]}" -o "$payload/bin/mmscale-ctl" \
	"$MMSCALE_TOP/module/tools/mmscale-ctl.c"

if [ "${BENCH_ONLY:-0}" != 1 ]; then
	log "$tag: kselftests"
	run_logged "$LOG_DIR/selftests-$tag.log" \
		make -C "$MMSCALE_TOP/selftests" OUTPUT="$payload/selftests" \
		KSFT_DIR="$src/tools/testing/selftests" KHDR_INCLUDES="$khdr"

	log "$tag: upstream vm selftests"
	# Static, like everything else in the guest.  Some tests of the
	# directory do not build here (-k goes on); the ones that
	# scripts/guest/vm-suite.list runs must.  6.1's mrelease_test.c
	# includes no header that defines __NR_process_mrelease and falls
	# back to -1 (ENOSYS: it always skipped): -include sys/syscall.h.
	make -C "$src/tools/testing/selftests/vm" OUTPUT="$payload/vm" \
		KHDR_INCLUDES="$khdr" LDFLAGS=-static -k -j"$JOBS" \
		EXTRA_CFLAGS="-include sys/syscall.h" \
		>"$LOG_DIR/vm-selftests-$tag.log" 2>&1 || true
	wanted=$(grep -v '^#' "$MMSCALE_TOP/scripts/guest/vm-suite.list" |
		grep -o '\./[A-Za-z0-9_-]*' | sed 's|^\./||' | sort -u)
	for t in $wanted; do
		[ -x "$payload/vm/$t" ] ||
			die "$tag: upstream vm selftest '$t' did not build (log: $LOG_DIR/vm-selftests-$tag.log)"
	done
fi

log "$tag: C++ harness"
hb=$BUILD_DIR/harness-static
run_logged "$LOG_DIR/harness-static.log" \
	cmake -S "$MMSCALE_TOP/harness" -B "$hb" -DCMAKE_BUILD_TYPE=Release -DMMSCALE_STATIC=ON
# --clean-first: an object that make believes current but that was compiled
# from a source edited during the compile once reached a guest (a hang that
# the source did not have).  The harness builds in about a minute.
run_logged "$LOG_DIR/harness-static.log" cmake --build "$hb" -j"$JOBS" --clean-first
for tool in ebizzy faultbench abstat torture; do
	if [ -x "$hb/$tool" ]; then
		cp "$hb/$tool" "$payload/bin/"
	fi
done
log "$tag: payload ready in $payload"
