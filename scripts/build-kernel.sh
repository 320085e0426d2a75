#!/usr/bin/env bash
# Stage: build one kernel (FLAVOR VARIANT): bzImage and modules, out of tree
# (O=build/obj/FLAVOR-VARIANT), through ccache.  Incremental: make only
# rebuilds what changed.  Prints a progress line every 30 s.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

flavor=${1:?usage: build-kernel.sh FLAVOR VARIANT}
variant=${2:?usage: build-kernel.sh FLAVOR VARIANT}
check_flavor "$flavor"
case "$variant" in
patched-at-*) "$MMSCALE_TOP/scripts/series-at.sh" "${variant#patched-at-}" ;;
esac
src=$(src_dir "$variant")
obj=$(obj_dir "$flavor" "$variant")

# One build at a time per tree (several people or scripts share build/).
mkdir -p "$obj"
exec 9>"$obj.lock"
if ! flock -n 9; then
	log "$flavor-$variant: waiting for another build of this kernel"
	flock 9
fi

"$MMSCALE_TOP/scripts/configure-kernel.sh" "$flavor" "$variant"

logfile=$LOG_DIR/build-$flavor-$variant.log
mkdir -p "$LOG_DIR"
ccache -M 20G >/dev/null 2>&1 || true
log "$flavor-$variant: building with -j$JOBS (log: $logfile)"
start=$(date +%s)
make -C "$src" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" \
	bzImage modules >"$logfile" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 30); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 1
	done
	kill -0 "$pid" 2>/dev/null &&
		log "$flavor-$variant: $(grep -c '^  CC' "$logfile" || true) files compiled, $(($(date +%s) - start)) s"
done
if ! wait "$pid"; then
	grep -E 'error|Error' "$logfile" | head -20 >&2 || true
	tail -n 20 "$logfile" >&2
	die "$flavor-$variant: kernel build failed (log: $logfile)"
fi

rm -rf "$obj/mod-install"
run_logged "$LOG_DIR/modinst-$flavor-$variant.log" \
	make -C "$src" O="$obj" ARCH=x86_64 INSTALL_MOD_PATH="$obj/mod-install" \
	INSTALL_MOD_STRIP=1 DEPMOD=/sbin/depmod modules_install
log "$flavor-$variant: done in $(($(date +%s) - start)) s: $obj/arch/x86/boot/bzImage ($(make -s -C "$src" O="$obj" kernelrelease))"
