#!/usr/bin/env bash
# 'make bisect': every step of the series builds and boots on its own.
#
# For each commit of the kernel work tree's series (mmscale-base..series),
# or only patches number PATCHES ("6 7 8"), this checks the commit out in
# a work tree of its own (build/bisect/linux), builds it out of tree
# (build/bisect/obj-FLAVOR, through ccache, incremental from one step to
# the next) with the .config of the FLAVOR-patched kernel (olddefconfig:
# an option that a step does not define yet is dropped), boots it with
# FLAVOR-patched's payload and runs the guest job 'bisect' (torture,
# ebizzy, swap on zram).  verdict.py scans each console for splats.
#
# FLAVOR: perf (default; the kernel configuration users benchmark) or
# debug (lockdep, KASAN: slower to build).  Needs a built FLAVOR-patched
# kernel and payload ('make check' or 'make bench' leaves them).
# Results: results/bisect-<time>/NN/ and the summary line at the end.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

FLAVOR=${FLAVOR:-perf}
check_flavor "$FLAVOR"
out=${RESULTS:-$MMSCALE_TOP/results/bisect-$(date +%Y%m%d-%H%M%S)}
S=$MMSCALE_TOP/scripts
ref_config=$(obj_dir "$FLAVOR" patched)/.config
wt=$BUILD_DIR/bisect/linux
obj=$BUILD_DIR/bisect/obj-$FLAVOR
initrd=$BUILD_DIR/bisect/initramfs-$FLAVOR.cpio.gz

[ -d "$KTREE/.git" ] || die "no kernel work tree at $KTREE: run 'make source' first"
[ -f "$ref_config" ] || die "no $ref_config: build the $FLAVOR-patched kernel first (make check / make bench)"
mapfile -t commits < <(git -C "$KTREE" rev-list --reverse mmscale-base..series)
[ ${#commits[@]} -gt 0 ] || die "the series is empty"
steps=${PATCHES:-$(seq 1 ${#commits[@]})}
for n in $steps; do
	case "$n" in '' | *[!0-9]*) die "PATCHES: '$n' is not a patch number" ;; esac
	if [ "$n" -lt 1 ] || [ "$n" -gt ${#commits[@]} ]; then
		die "PATCHES: no patch $n (the series has ${#commits[@]})"
	fi
done

mkdir -p "$out" "$obj"
exec 9>"$obj.lock"
flock -n 9 || die "another bisect build uses $obj"
if [ ! -e "$wt/.git" ]; then
	rm -rf "$wt"
	git -C "$KTREE" worktree prune
	git -C "$KTREE" worktree add -q --detach "$wt" mmscale-base
fi
INITRAMFS_OUT=$initrd "$S/make-initramfs.sh" "$FLAVOR" patched

res=$out/results.jsonl
: >"$res"
for n in $steps; do
	c=${commits[$((n - 1))]}
	subject=$(git -C "$KTREE" log -1 --format=%s "$c")
	id=$(printf '%02d' "$n")
	step=$out/$id
	mkdir -p "$step"
	log "[$n/${#commits[@]}] $subject"
	git -C "$wt" checkout -q --detach "$c"
	cp "$ref_config" "$obj/.config"
	start=$(date +%s)
	if ! make -C "$wt" O="$obj" ARCH=x86_64 CC="ccache gcc" -j"$JOBS" \
		olddefconfig bzImage >"$step/build.log" 2>&1; then
		grep -E 'error|Error' "$step/build.log" | head -20 >&2 || true
		python3 "$S/verdict.py" result --suite "bisect-$id" --name build \
			--status fail --detail "$subject: build failed, $step/build.log" --out "$res"
		continue
	fi
	# A warning is as bad as an error for a step that must stand alone.
	if grep -E '(warning|error):' "$step/build.log" >"$step/warnings.txt"; then
		python3 "$S/verdict.py" result --suite "bisect-$id" --name build \
			--status fail --detail "$subject: compiler warnings, $step/warnings.txt" --out "$res"
	else
		python3 "$S/verdict.py" result --suite "bisect-$id" --name build \
			--status pass --out "$res"
	fi
	log "[$n] built in $(($(date +%s) - start)) s; booting"
	rc=0
	KERNEL_IMAGE=$obj/arch/x86/boot/bzImage INITRD=$initrd TIMEOUT=600 \
		"$S/boot-qemu.sh" "$FLAVOR" patched bisect "$step" 2>"$step/boot.log" || rc=$?
	note=""
	[ "$rc" = 2 ] && note=600s
	python3 "$S/verdict.py" guest --console "$step/console.log" --results "$step/results" \
		--prefix "bisect-$id" --timeout-note "$note" --out "$res"
done
log "results in $out"
python3 "$S/verdict.py" summary "$res"
