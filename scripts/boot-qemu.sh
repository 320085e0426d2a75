#!/usr/bin/env bash
# Stage: boot one kernel in QEMU (TCG) and run a guest job.
#
#   boot-qemu.sh FLAVOR VARIANT JOB OUTDIR
#
# JOB is a script in scripts/guest/ (check, bench, soak, ...) or 'shell'
# (interactive).  The console goes to OUTDIR/console.log (and, with
# VERBOSE=1, to the terminal); the guest's /results come back on a virtio
# disk and are unpacked into OUTDIR/results/.  Environment: SMP (2), MEM
# (2G), QEMU_CPU (max), TIMEOUT (seconds, 1800), BOOT_TIMEOUT (seconds until the guest
# must have reached its init, 600), APPEND (extra kernel arguments),
# WEDGE_TIMEOUT (seconds without guest progress after a fatal splat, such
# as a BUG or a soft lockup, before QEMU is stopped; 180), KERNEL_IMAGE and
# INITRD (another bzImage or initramfs than FLAVOR-VARIANT's), ICOUNT=N
# (QEMU -icount shift=N,sleep=off: the guest's clock counts executed
# instructions, 2^N ns each, so that a rate measured in the guest counts
# instructions per operation, whatever the load of the host),
# QEMU_PLUGIN_OUT=PATH (load the instruction-counting plugin,
# build/qemu-insn/libinsn.so of scripts/build-qemu-insn.sh, with any SMP:
# it writes to PATH a line with the guest's executed instructions per vCPU
# each time the guest runs the marker instruction, e.g. build/qemu-insn/
# insn-mark, and one when QEMU exits; see tools/qemu-insn/insn.c),
# QEMU_PLUGIN_PROF=PATH (with QEMU_PLUGIN_OUT: also write the instructions
# each translation block ran between marks 0 and 1, 2 and 3, ..., for
# scripts/insn-profile.py).
# Exits 0 when the guest finished its job, 1 when it did not come up,
# 2 on a timeout.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

flavor=${1:?usage: boot-qemu.sh FLAVOR VARIANT JOB OUTDIR}
variant=${2:?usage}
job=${3:?usage}
outdir=${4:?usage}
check_flavor "$flavor"
obj=$(obj_dir "$flavor" "$variant")
kernel=${KERNEL_IMAGE:-$obj/arch/x86/boot/bzImage}
initrd=${INITRD:-$BUILD_DIR/initramfs/$flavor-$variant.cpio.gz}
smp=${SMP:-2}
mem=${MEM:-2G}
timeout=${TIMEOUT:-1800}
[ -f "$kernel" ] || die "no kernel at $kernel: run scripts/build-kernel.sh $flavor $variant"
[ -f "$initrd" ] || die "no initramfs at $initrd: run scripts/make-initramfs.sh $flavor $variant"
[ "$job" = shell ] || [ -f "$MMSCALE_TOP/scripts/guest/$job.sh" ] || die "no guest job '$job' (scripts/guest/$job.sh)"

mkdir -p "$outdir"
console=$outdir/console.log
disk=$outdir/results.img
rm -f "$disk" "$console"
truncate -s "${RESULTS_DISK_SIZE:-512M}" "$disk"

qemu=(qemu-system-x86_64 -machine pc -cpu "${QEMU_CPU:-max}" -accel tcg -smp "$smp" -m "$mem"
	-kernel "$kernel" -initrd "$initrd" -no-reboot
	-drive "file=$disk,format=raw,if=virtio"
	-append "console=ttyS0 panic=-1 printk.devkmsg=on mmscale.job=$job ${APPEND:-}")
if [ -n "${ICOUNT:-}" ]; then
	case "$ICOUNT" in *[!0-9]* | '') die "ICOUNT=$ICOUNT: want a shift, e.g. 0" ;; esac
	# Measured: with two vCPUs the 6.1 guest hangs bringing up the second.
	[ "$smp" = 1 ] || die "ICOUNT needs SMP=1 (a -icount guest hangs bringing up a second vCPU)"
	qemu+=(-icount "shift=$ICOUNT,sleep=off")
fi
if [ -n "${QEMU_PLUGIN_OUT:-}" ]; then
	plugin=$BUILD_DIR/qemu-insn/libinsn.so
	[ -f "$plugin" ] || die "QEMU_PLUGIN_OUT: no $plugin: run scripts/build-qemu-insn.sh"
	case "$QEMU_PLUGIN_OUT" in *,*) die "QEMU_PLUGIN_OUT=$QEMU_PLUGIN_OUT: a path without commas, please" ;; esac
	mkdir -p "$(dirname "$QEMU_PLUGIN_OUT")"
	popt=
	if [ -n "${QEMU_PLUGIN_PROF:-}" ]; then
		case "$QEMU_PLUGIN_PROF" in *,*) die "QEMU_PLUGIN_PROF=$QEMU_PLUGIN_PROF: a path without commas, please" ;; esac
		popt=",prof=$QEMU_PLUGIN_PROF"
	fi
	qemu+=(-plugin "$plugin,out=$QEMU_PLUGIN_OUT$popt")
elif [ -n "${QEMU_PLUGIN_PROF:-}" ]; then
	die "QEMU_PLUGIN_PROF needs QEMU_PLUGIN_OUT"
fi

if [ "$job" = shell ]; then
	log "booting $flavor-$variant with a shell; 'poweroff -f' leaves"
	exec "${qemu[@]}" -nographic
fi

log "$flavor-$variant: job '$job', smp=$smp mem=$mem, timeout ${timeout}s (console: $console)"
start=$(date +%s)
timeout --foreground -s KILL "$timeout" "${qemu[@]}" -display none -monitor none \
	-serial "file:$console" </dev/null &
qpid=$!
shown=0
up=0
# A splat that leaves a lock held or a CPU spinning wedges the guest: its
# job never finishes.  Once one is seen, stop QEMU after WEDGE_TIMEOUT
# seconds without a new progress line instead of waiting for TIMEOUT.
fatal_re='kernel BUG at|BUG: soft lockup|detected stalls on CPUs|Kernel panic|blocked for more than'
splat_at=
progress_at=$start
while kill -0 "$qpid" 2>/dev/null; do
	sleep 2
	if [ "$up" = 0 ]; then
		if grep -q MMSCALE-GUEST-UP "$console" 2>/dev/null; then
			up=1
		elif [ $(($(date +%s) - start)) -gt "${BOOT_TIMEOUT:-600}" ]; then
			log "$flavor-$variant: no sign of init after ${BOOT_TIMEOUT:-600}s: stopping QEMU"
			pkill -KILL -P "$qpid" 2>/dev/null || true
			kill -KILL "$qpid" 2>/dev/null || true
		fi
	fi
	# Progress: the guest's "mmscale:" lines.
	if [ -f "$console" ]; then
		total=$(grep -c 'mmscale: \|MMSCALE-' "$console" || true)
		if [ "$total" -gt "$shown" ]; then
			grep 'mmscale: \|MMSCALE-' "$console" | tail -n +"$((shown + 1))" |
				sed -e 's/^\[ *[0-9.]*\] //' -e "s/^/  [$(($(date +%s) - start))s] /" >&2
			shown=$total
			progress_at=$(date +%s)
		fi
		if [ -z "$splat_at" ] && grep -qE "$fatal_re" "$console"; then
			splat_at=$(date +%s)
			log "$flavor-$variant: fatal splat in the console: $(grep -m1 -oE "$fatal_re" "$console")"
		fi
		quiet_since=$progress_at
		[ -n "$splat_at" ] && [ "$splat_at" -gt "$quiet_since" ] && quiet_since=$splat_at
		if [ -n "$splat_at" ] && [ $(($(date +%s) - quiet_since)) -gt "${WEDGE_TIMEOUT:-180}" ]; then
			log "$flavor-$variant: a splat, then no progress for ${WEDGE_TIMEOUT:-180}s: stopping QEMU"
			pkill -KILL -P "$qpid" 2>/dev/null || true
			kill -KILL "$qpid" 2>/dev/null || true
		fi
	fi
done
rc=0
wait "$qpid" || rc=$?
mkdir -p "$outdir/results"
tar -xf "$disk" -C "$outdir/results" 2>/dev/null || true
rm -f "$disk"
if ! grep -q MMSCALE-GUEST-UP "$console" 2>/dev/null; then
	log "$flavor-$variant: the guest did not come up (console: $console)"
	tail -n 20 "$console" >&2 || true
	exit 1
fi
if [ "$rc" = 137 ] || ! grep -q MMSCALE-GUEST-DONE "$console"; then
	log "$flavor-$variant: job '$job' did not finish within ${timeout}s (qemu status $rc)"
	exit 2
fi
log "$flavor-$variant: job '$job' finished in $(($(date +%s) - start)) s"
