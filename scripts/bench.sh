#!/usr/bin/env bash
# 'make bench': the A/B benchmark.
#
# Builds the perf flavor of every kernel in KERNELS, then boots them in
# turn with identical QEMU settings, ROUNDS times for each vCPU count in
# SMPS (the order of the kernels rotates each round), running the
# workloads of scripts/guest/bench.list.  One boot per kernel (round 1,
# largest SMP) also records 'perf record -g' of ebizzy, or of the
# workload of bench.list named in PERF_WORKLOAD.  harness/abstat
# writes the report: results/bench-<time>/report.md, results.json, plot.
#
# Kernels: vanilla (6.1.y baseline), patched (the series), patched-range
# (the series with CONFIG_MMAP_LOCK_RANGE=y: mmap_lock on the range lock,
# its sub-range users on), v6.12 (Debian's 6.12, mainline's per-VMA locks),
# patched-at-REV (the series as it was at commit REV of this repository,
# scripts/series-at.sh: an A/B of two revisions of the series).  A kernel
# name may carry kernel command-line arguments after a '+', e.g.
# 'patched+sysctl.vm.x=0'.
#
# WORKLOADS="lockbench holdlat" runs only those workloads of bench.list.
#
# ICOUNT=2 (passed on to boot-qemu.sh) runs QEMU with -icount: the guest's
# clock counts executed instructions, so a rate measured in the guest is
# instructions per operation, repeatable to 0.01% (ebizzy, which is
# randomised, to 1%) whatever the host's load.  It measures code-path
# cost, not cycles (no cache misses, no atomic or IPI cost), and needs
# SMPS=1 (with two vCPUs the guest hangs at boot; boot-qemu.sh refuses).
#
# INSNS=1 counts the guest's executed instructions with any SMPS: each boot
# loads the QEMU plugin of scripts/build-qemu-insn.sh (QEMU_PLUGIN_OUT=
# raw/<boot>/insn.txt) and gets mmscale.insn=1, with which the guest runs
# insn-mark right before and right after each workload; the report gains
# insns_total (all vCPUs, user and kernel, idle included, between the two
# marks) and, for the workloads with a count of operations, insns_per_op
# (lower is better).  Like ICOUNT it measures code-path cost, not cycles,
# but spinning on a contended lock counts too; the workloads still run for
# -S seconds of the guest's clock.  Needs build/qemu-insn/ (libinsn.so,
# insn-mark) before the initramfs is made.
#
# INSNS_PROF=1 (with INSNS=1 and one workload) also has the plugin count
# instructions per translation block between the marks (raw/<boot>/
# insn-prof.txt), and the report gains a table of instructions per
# operation by kernel function for each kernel, from round 1 at the
# largest SMP, made by scripts/insn-profile.py with the kernel's
# System.map (insn-profile.md).
#
# BENCH_BUILD=0 skips every preparation stage (packages, sources, series,
# kernel, payload and initramfs builds) and boots what build/ holds as it
# is: for a benchmark beside someone who is working in build/linux.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

KERNELS=${KERNELS:-"vanilla patched v6.12"}
SMPS=${SMPS:-"1 2 4"}
ROUNDS=${ROUNDS:-5}
BASELINE=${BASELINE:-vanilla}
out=${RESULTS:-$MMSCALE_TOP/results/bench-$(date +%Y%m%d-%H%M%S)}
S=$MMSCALE_TOP/scripts

variant_of() { printf '%s\n' "${1%%+*}"; }
args_of() { case "$1" in *+*) printf '%s\n' "${1#*+}" | tr '+' ' ' ;; esac; }

WITH_612=0
case " $KERNELS " in *" v6.12"*) WITH_612=1 ;; esac
if [ "${BENCH_BUILD:-1}" = 1 ]; then
	WITH_612=$WITH_612 "$S/install-deps.sh"
	"$S/get-source.sh"
	WITH_VANILLA=1 "$S/apply-series.sh"
	[ "$WITH_612" = 0 ] || "$S/get-source-6.12.sh"
fi

# With an empty series, 'patched' is the vanilla kernel: measure it once.
# (No work tree, as on the lent machine of scale-device.sh: nothing to check.)
if [ -d "$KTREE/.git" ] &&
	[ "$(git -C "$KTREE" rev-list --count mmscale-base..series)" = 0 ]; then
	kept=""
	for k in $KERNELS; do
		case "$(variant_of "$k")" in patched | patched-range) continue ;; esac
		kept="$kept $k"
	done
	[ "$kept" != " $KERNELS" ] && log "the series is empty: 'patched' is vanilla, left out"
	KERNELS=${kept# }
fi

if [ "${INSNS_PROF:-0}" = 1 ]; then
	[ "${INSNS:-0}" = 1 ] || die "INSNS_PROF=1 needs INSNS=1"
	[ "$(wc -w <<<"${WORKLOADS:-}")" = 1 ] ||
		die "INSNS_PROF=1 needs exactly one workload in WORKLOADS (the profile adds up every marked span)"
fi
if [ "${INSNS:-0}" = 1 ]; then
	for f in libinsn.so insn-mark; do
		[ -f "$BUILD_DIR/qemu-insn/$f" ] ||
			die "INSNS=1, but $BUILD_DIR/qemu-insn/$f is missing: run scripts/build-qemu-insn.sh"
	done
fi

variants=$(for k in $KERNELS; do variant_of "$k"; done | sort -u)
for v in $variants; do
	if [ "${BENCH_BUILD:-1}" = 1 ]; then
		"$S/build-kernel.sh" perf "$v"
		BENCH_ONLY=1 "$S/build-tests.sh" perf "$v"
		WITH_PERF=1 "$S/make-initramfs.sh" perf "$v"
	else
		for f in "$(obj_dir perf "$v")/arch/x86/boot/bzImage" "$BUILD_DIR/initramfs/perf-$v.cpio.gz"; do
			[ -f "$f" ] || die "BENCH_BUILD=0, but $f is missing"
			log "BENCH_BUILD=0: using $f ($(date -r "$f" '+%F %T'))"
		done
	fi
	if [ "${INSNS:-0}" = 1 ]; then
		# (grep without -q reads to the end: no SIGPIPE for pipefail.)
		zcat "$BUILD_DIR/initramfs/perf-$v.cpio.gz" | cpio -t --quiet 2>/dev/null |
			grep -E '^(\./)?usr/bin/insn-mark$' >/dev/null ||
			die "INSNS=1, but build/initramfs/perf-$v.cpio.gz has no usr/bin/insn-mark: run WITH_PERF=1 scripts/make-initramfs.sh perf $v"
	fi
done

mkdir -p "$out/raw"
jsonl=$out/bench.jsonl
: >"$jsonl"
max_smp=$(tr ' ' '\n' <<<"$SMPS" | sort -n | tail -n 1)
read -r -a klist <<<"$KERNELS"
nk=${#klist[@]}
total=$((ROUNDS * nk * $(wc -w <<<"$SMPS")))
n=0
for round in $(seq 1 "$ROUNDS"); do
	for smp in $SMPS; do
		for i in $(seq 0 $((nk - 1))); do
			k=${klist[$(((i + round - 1) % nk))]}
			n=$((n + 1))
			dir=$out/raw/$k-smp$smp-r$round
			append=$(args_of "$k")
			[ -n "${WORKLOADS:-}" ] && append="$append mmscale.workloads=${WORKLOADS// /,}"
			plugin_out=
			plugin_prof=
			insns=()
			if [ "${INSNS:-0}" = 1 ]; then
				append="$append mmscale.insn=1"
				plugin_out=$dir/insn.txt
				insns=(--insns "$plugin_out")
				[ "${INSNS_PROF:-0}" = 1 ] && plugin_prof=$dir/insn-prof.txt
			fi
			if [ "$round" = 1 ] && [ "$smp" = "$max_smp" ]; then
				append="$append mmscale.perf=1"
				[ -n "${PERF_WORKLOAD:-}" ] &&
					append="$append mmscale.perf_workload=$PERF_WORKLOAD"
			fi
			log "[$n/$total] $k smp=$smp round $round"
			rc=0
			SMP=$smp MEM=${MEM:-2G} TIMEOUT=${BENCH_TIMEOUT:-900} APPEND="$append" \
				QEMU_PLUGIN_OUT=$plugin_out QEMU_PLUGIN_PROF=$plugin_prof \
				"$S/boot-qemu.sh" perf "$(variant_of "$k")" bench "$dir" 2>"$dir.log" || rc=$?
			[ "$rc" = 0 ] || die "boot of $k (smp $smp, round $round) failed: $dir.log, $dir/console.log"
			python3 "$S/bench-collect.py" --kernel "$k" --smp "$smp" --round "$round" \
				--results "$dir/results" --out "$jsonl" "${insns[@]}" ||
				die "a workload failed on $k (smp $smp, round $round): $dir/results/bench/"
			if [ -f "$dir/results/perf-report.txt" ]; then
				cp "$dir/results/perf-report.txt" "$out/perf-report-$k.txt"
				cp "$dir/results/perf-symbols.txt" "$out/perf-symbols-$k.txt" 2>/dev/null || true
			fi
		done
	done
done

abstat=$BUILD_DIR/harness-static/abstat
"$abstat" --baseline "$BASELINE" --plot "ebizzy-mTt-N:records_per_s" \
	--out "$out" "$jsonl"
# (No profiles where the initramfs has no perf, as in scale-bundle.sh's.)
if compgen -G "$out/perf-symbols-*.txt" >/dev/null; then
	python3 "$S/perf-share.py" --workload "${PERF_WORKLOAD:-ebizzy-mTt-N}" \
		"$out"/perf-symbols-*.txt >>"$out/report.md" || true
fi
if [ "${INSNS_PROF:-0}" = 1 ]; then
	specs=()
	for k in "${klist[@]}"; do
		ops=$(python3 "$S/insn-profile.py" --ops-from "$jsonl" --kernel "$k" --smp "$max_smp") ||
			die "INSNS_PROF=1: no operation count for $k (smp $max_smp, round 1): does $WORKLOADS count operations?"
		specs+=("$k=$out/raw/$k-smp$max_smp-r1/insn-prof.txt:$(obj_dir perf "$(variant_of "$k")")/System.map:$ops")
	done
	python3 "$S/insn-profile.py" --top 40 "${specs[@]}" >"$out/insn-profile.md" ||
		die "INSNS_PROF=1: insn-profile.py failed"
	{
		printf '\n## Instructions per operation by kernel function (%s, smp %s, round 1)\n\n' \
			"$WORKLOADS" "$max_smp"
		cat "$out/insn-profile.md"
	} >>"$out/report.md"
fi
log "report: $out/report.md"
cat "$out/report.md"
