#!/usr/bin/env bash
# 'make run': the main job.  On the perf flavor of the vanilla and the
# patched kernel: the guest test suite (module, kselftests, upstream vm
# suite); then the A/B benchmark (bench.sh: vanilla, patched, 6.12) with a
# perf profile of ebizzy; then one report, results/run-<time>/report.md.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

out=${RESULTS:-$MMSCALE_TOP/results/run-$(date +%Y%m%d-%H%M%S)}
S=$MMSCALE_TOP/scripts
mkdir -p "$out"

WITH_612=1 "$S/install-deps.sh"
"$S/get-source.sh"
WITH_VANILLA=1 "$S/apply-series.sh"

variants="vanilla patched"
if [ "$(git -C "$KTREE" rev-list --count mmscale-base..series)" = 0 ]; then
	log "the series is empty: the patched kernel is vanilla; testing it once"
	variants=vanilla
fi

{
	echo "# mmscale run $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo
	echo "Series: $(grep -c '\.patch$' "$MMSCALE_TOP/patches/series" || true) patches on Linux $(cat "$BUILD_DIR/kernel-version")."
	echo
	echo "## Guest test suite (perf flavor)"
	echo
} >"$out/report.md"
status=0
for v in $variants; do
	log "selftests on perf-$v"
	rc=0
	HOST_TESTS=0 FLAVOR=perf VARIANT=$v RESULTS=$out/selftests-$v "$S/check.sh" \
		>"$out/selftests-$v.log" 2>&1 || rc=$?
	[ "$rc" = 0 ] || status=1
	echo "- $v: $(tail -n 1 "$out/selftests-$v.log") (details: selftests-$v.log)" >>"$out/report.md"
	tail -n 1 "$out/selftests-$v.log"
done

log "benchmark"
RESULTS=$out/bench ROUNDS=${ROUNDS:-3} "$S/bench.sh" >"$out/bench.log" 2>&1 || {
	status=1
	tail -n 20 "$out/bench.log" >&2
	log "the benchmark failed: $out/bench.log"
}
if [ -f "$out/bench/report.md" ]; then
	{
		echo
		sed 's/^#/##/' "$out/bench/report.md"
	} >>"$out/report.md"
	cp "$out"/bench/*.png "$out/" 2>/dev/null || true
fi
log "report: $out/report.md"
sed -n '1,80p' "$out/report.md"
exit "$status"
