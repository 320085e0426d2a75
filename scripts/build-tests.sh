#!/usr/bin/env bash
# Stage: build the guest payload for one kernel (FLAVOR VARIANT) into
# build/payload/FLAVOR-VARIANT/: the test module (Kbuild M=, against the
# same O= tree), the kselftests, the upstream vm selftests and the C++
# harness (static, for a guest without libc).
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

log "$tag: kselftests"
run_logged "$LOG_DIR/selftests-$tag.log" \
	make -C "$MMSCALE_TOP/selftests" OUTPUT="$payload/selftests" \
	KSFT_DIR="$src/tools/testing/selftests" KHDR_INCLUDES="$khdr"
run_logged "$LOG_DIR/selftests-$tag.log" \
	gcc -O2 -Wall -Werror -static "${khdr_args[@]}" -o "$payload/bin/mmscale-ctl" \
	"$MMSCALE_TOP/module/tools/mmscale-ctl.c"

log "$tag: upstream vm selftests"
# Static, like everything else in the guest; tests that do not build
# statically (or at all) on this host are left out and named here.
run_logged "$LOG_DIR/vm-selftests-$tag.log" \
	make -C "$src/tools/testing/selftests/vm" OUTPUT="$payload/vm" \
	KHDR_INCLUDES="$khdr" LDFLAGS=-static -k || true
wanted=$(awk '!/^#/ && NF {print $3}' "$MMSCALE_TOP/scripts/guest/vm-suite.list" | sed 's|^\./||' | sort -u)
for t in $wanted; do
	case "$t" in su) t=on-fault-limit ;; esac
	[ -x "$payload/vm/$t" ] || die "$tag: upstream vm selftest '$t' did not build (log: $LOG_DIR/vm-selftests-$tag.log)"
done

log "$tag: C++ harness"
hb=$BUILD_DIR/harness-static
run_logged "$LOG_DIR/harness-static.log" \
	cmake -S "$MMSCALE_TOP/harness" -B "$hb" -DCMAKE_BUILD_TYPE=Release -DMMSCALE_STATIC=ON
run_logged "$LOG_DIR/harness-static.log" cmake --build "$hb" -j"$JOBS"
for tool in ebizzy faultbench torture; do
	[ -x "$hb/$tool" ] && cp "$hb/$tool" "$payload/bin/"
done
log "$tag: payload ready in $payload"
