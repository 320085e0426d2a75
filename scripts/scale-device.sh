#!/usr/bin/env bash
# The many-core scaling run, one command on a machine with many cores and
# no QEMU (the lent 16-core machine): unpack .scale/bundle.tar.xz (made
# by scripts/scale-bundle.sh), then run scripts/bench.sh on its kernels
# at SMPS (16) for ROUNDS (3) interleaved rounds of WORKLOADS (ebizzy
# -mTt N, pft, writer).  Everything it measures goes to OUTDIR ($OUT on
# the lent machine, else results/scale-<time>): report.md, bench.jsonl,
# the perf profiles of ebizzy (perf-report-KERNEL.txt, round 1; PERF=0:
# none) and raw.tar.gz with every console log.
#
# DEADLINE (seconds, 420) bounds the benchmark: when it runs out, the
# rounds measured so far still make the report.  A first boot with one
# short workload checks that QEMU and the bundle work before the rounds.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
outdir=${OUTDIR:-${OUT:-$top/results/scale-$(date +%Y%m%d-%H%M%S)}}
bundle=${BUNDLE:-$top/.scale/bundle.tar.xz}
work=${SCALE_WORK:-/tmp/mmscale-scale}
t0=$(date +%s)
say() { printf '[%s +%ss scale] %s\n' "$(date +%H:%M:%S)" "$(($(date +%s) - t0))" "$*" >&2; }

[ -f "$bundle" ] || { say "no bundle at $bundle: run scripts/scale-bundle.sh"; exit 1; }
mkdir -p "$outdir"
say "host: $(nproc) CPUs, $(awk '/^MemTotal:/ {print int($2 / 1048576)}' /proc/meminfo) GiB, kernel $(uname -r)"
rm -rf "$work"
mkdir -p "$work"
# xz, or Python's lzma where xz is not installed.
if command -v xz >/dev/null; then
	xz -dc "$bundle"
else
	python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), sys.stdout.buffer)' "$bundle"
fi | tar -C "$work" -xf -
export PATH=$work/bin:$PATH BUILD_DIR=$work/build LOG_DIR=$work/logs
qemu-system-x86_64 --version | head -n 1 >&2

KERNELS=${KERNELS:-$(cat "$work/kernels")}
# perf (scale-bundle.sh's perf-tools.cpio.gz) goes into every kernel's
# initramfs: round 1 of each kernel records a profile of ebizzy.  PERF=0:
# no profiles.
if [ "${PERF:-1}" = 1 ] && [ -f "$work/build/initramfs/perf-tools.cpio.gz" ]; then
	read -r -a bundled <"$work/kernels"
	for v in "${bundled[@]}"; do
		cat "$work/build/initramfs/perf-tools.cpio.gz" >>"$work/build/initramfs/perf-$v.cpio.gz"
	done
	say "perf added to the initramfs of ${bundled[*]}"
fi
SMPS=${SMPS:-16}
ROUNDS=${ROUNDS:-3}
WORKLOADS=${WORKLOADS:-"ebizzy-mTt-N pft writer"}
smax=$(tr ' ' '\n' <<<"$SMPS" | sort -n | tail -n 1)
first=${KERNELS%% *}

say "check boot: $first at smp $smax"
rc=0
SMP=$smax MEM=${MEM:-4G} TIMEOUT=180 BOOT_TIMEOUT=120 \
	APPEND="mmscale.workloads=mmap_loop" \
	"$top/scripts/boot-qemu.sh" perf "$first" bench "$work/check" 2>"$outdir/check-boot.log" || rc=$?
if [ "$rc" != 0 ]; then
	say "the check boot failed ($rc):"
	cat "$outdir/check-boot.log" >&2
	tail -n 40 "$work/check/console.log" >&2 || true
	cp "$work/check/console.log" "$outdir/check-console.log" 2>/dev/null || true
	exit 1
fi
say "check boot: $(grep -o 'finished in [0-9]* s' "$outdir/check-boot.log")"

rc=0
timeout -s TERM "${DEADLINE:-420}" env KERNELS="$KERNELS" SMPS="$SMPS" ROUNDS="$ROUNDS" \
	WORKLOADS="$WORKLOADS" BASELINE="${BASELINE:-vanilla}" BENCH_BUILD=0 MEM="${MEM:-4G}" \
	RESULTS="$work/bench" "$top/scripts/bench.sh" 2>"$outdir/bench.log" || rc=$?
say "bench.sh: exit $rc"
tail -n 5 "$outdir/bench.log" >&2
if [ "$rc" != 0 ] && [ -s "$work/bench/bench.jsonl" ]; then
	say "bench.sh did not finish: report of the rounds measured so far"
	"$work/build/harness-static/abstat" --baseline "${BASELINE:-vanilla}" \
		--out "$work/bench" "$work/bench/bench.jsonl" >/dev/null || true
fi
for f in report.md bench.jsonl results.json; do
	[ -f "$work/bench/$f" ] && cp "$work/bench/$f" "$outdir/"
done
cp "$work/bench"/perf-report-*.txt "$work/bench"/perf-symbols-*.txt "$outdir/" 2>/dev/null || true
tar -C "$work" -czf "$outdir/raw.tar.gz" --exclude='*.img' bench check logs 2>/dev/null || true
say "results in $outdir"
[ -f "$outdir/report.md" ] && cat "$outdir/report.md"
exit "$rc"
