#!/usr/bin/env bash
# 'make check': the whole test suite, from a fresh machine.
#
# Host side: the runner's own tests (verdict.py), shellcheck of the
# scripts, the C++ harness unit tests.  Guest side: the debug kernel with
# the series (lockdep, KASAN, DEBUG_VM), booted in QEMU, running KUnit, the
# test module, the kselftests, the upstream vm suite and locktorture, then
# a second, shorter boot for the speculative fault tests with VMAs freed
# as in production (spf_vma_free=typesafe); each console is scanned for
# splats.  Every result goes to one list; the last
# line is "N passed, N failed, N skipped" and the exit status is non-zero
# when anything failed.  A stage that breaks is itself a failed result.
set -euo pipefail
# shellcheck source=lib.sh
source "$(dirname "$0")/lib.sh"

FLAVOR=${FLAVOR:-debug}
VARIANT=${VARIANT:-patched}
job=${GUEST_JOB:-check}
out=${RESULTS:-$MMSCALE_TOP/results/check-$(date +%Y%m%d-%H%M%S)}
mkdir -p "$out"
res=$out/results.jsonl
: >"$res"
verdict=("python3" "$MMSCALE_TOP/scripts/verdict.py")
t0=$(date +%s)

# stage NAME CMD...: run one pipeline stage; a failure is a failed result
# (with the tail of its output) and stops the steps that depend on it.
stage() {
	local name=$1
	shift
	log "stage $name"
	if "$@" >"$out/stage-$name.log" 2>&1; then
		return 0
	fi
	tail -n 30 "$out/stage-$name.log" >&2
	"${verdict[@]}" result --suite pipeline --name "$name" --status fail \
		--detail "$(tail -n 30 "$out/stage-$name.log")" --out "$res"
	return 1
}

stage install-deps "$MMSCALE_TOP/scripts/install-deps.sh" || true

# Host side (HOST_TESTS=0 leaves it out, for make run's guest-only runs).
if [ "${HOST_TESTS:-1}" = 1 ]; then
log "host: runner self-tests"
rc=0
(cd "$MMSCALE_TOP/scripts" && python3 -m unittest -v tests.test_verdict tests.test_bench_collect tests.test_insn_profile) \
	>"$out/host-runner.log" 2>&1 || rc=$?
"${verdict[@]}" pyunit --suite host-runner --log "$out/host-runner.log" --rc "$rc" --out "$res"

log "host: shellcheck"
if shellcheck -x "$MMSCALE_TOP"/scripts/*.sh "$MMSCALE_TOP"/.ci/run >"$out/shellcheck.log" 2>&1 &&
	shellcheck -s sh "$MMSCALE_TOP"/scripts/guest/*.sh >>"$out/shellcheck.log" 2>&1; then
	"${verdict[@]}" result --suite host-lint --name shellcheck --status pass --out "$res"
else
	"${verdict[@]}" result --suite host-lint --name shellcheck --status fail \
		--detail "$(head -n 40 "$out/shellcheck.log")" --out "$res"
fi

log "host: clang-format (harness)"
if (cd "$MMSCALE_TOP/harness" && clang-format --dry-run --Werror src/*.cc src/*.h tools/*.cc tests/*.cc) \
	>"$out/clang-format.log" 2>&1; then
	"${verdict[@]}" result --suite host-lint --name clang-format-harness --status pass --out "$res"
else
	"${verdict[@]}" result --suite host-lint --name clang-format-harness --status fail \
		--detail "$(head -n 40 "$out/clang-format.log")" --out "$res"
fi

log "host: C++ harness unit tests"
hb=$BUILD_DIR/harness-host
if stage harness-build bash -c "cmake -S '$MMSCALE_TOP/harness' -B '$hb' -DCMAKE_BUILD_TYPE=Debug &&
		cmake --build '$hb' -j'$JOBS'"; then
	rc=0
	ctest --test-dir "$hb" --output-on-failure >"$out/harness-ctest.log" 2>&1 || rc=$?
	"${verdict[@]}" ctest --suite host-harness --log "$out/harness-ctest.log" --out "$res"
fi
fi

# lint_kernel_style: checkpatch --strict over the series and the module.
lint_kernel_style() {
	if stage checkpatch-series "$MMSCALE_TOP/scripts/checkpatch.sh"; then
		"${verdict[@]}" result --suite host-lint --name checkpatch-series --status pass --out "$res"
	fi
	if (cd "$KTREE" && perl scripts/checkpatch.pl --strict --no-tree --quiet -f \
		"$MMSCALE_TOP"/module/*.c "$MMSCALE_TOP"/module/mmscale_internal.h \
		"$MMSCALE_TOP"/module/tools/*.c &&
		perl scripts/checkpatch.pl --strict --no-tree --quiet -f \
			--ignore LINUX_VERSION_CODE,CONSTANT_COMPARISON \
			"$MMSCALE_TOP"/module/mmscale_compat.h) >"$out/checkpatch-module.log" 2>&1; then
		"${verdict[@]}" result --suite host-lint --name checkpatch-module --status pass --out "$res"
	else
		"${verdict[@]}" result --suite host-lint --name checkpatch-module --status fail \
			--detail "$(head -n 40 "$out/checkpatch-module.log")" --out "$res"
	fi
}

# boot_guest JOB DIR: boot the kernel once for JOB, console and results in
# DIR.  A guest that never reached init (not one that failed a test) gets
# one more boot; the first console stays for the record.  Sets boot_note
# to the timeout when the job did not finish in time.
boot_guest() {
	local job=$1 dir=$2 rc=0
	boot_note=""
	"$MMSCALE_TOP/scripts/boot-qemu.sh" "$FLAVOR" "$VARIANT" "$job" "$dir" || rc=$?
	if [ "$rc" = 1 ]; then
		mv "$dir/console.log" "$dir/console.no-init.log"
		log "guest: the guest did not come up; booting once more (first console: $dir/console.no-init.log)"
		rc=0
		"$MMSCALE_TOP/scripts/boot-qemu.sh" "$FLAVOR" "$VARIANT" "$job" "$dir" || rc=$?
	fi
	[ "$rc" = 2 ] && boot_note="${TIMEOUT:-1800}s"
	return 0
}

# guest_side: build the kernel and the payload, boot, judge.
guest_side() {
	stage get-source "$MMSCALE_TOP/scripts/get-source.sh" || return 0
	stage apply-series "$MMSCALE_TOP/scripts/apply-series.sh" || return 0
	[ "${HOST_TESTS:-1}" = 1 ] && lint_kernel_style
	stage kernel "$MMSCALE_TOP/scripts/build-kernel.sh" "$FLAVOR" "$VARIANT" || return 0
	stage payload "$MMSCALE_TOP/scripts/build-tests.sh" "$FLAVOR" "$VARIANT" || return 0
	stage initramfs "$MMSCALE_TOP/scripts/make-initramfs.sh" "$FLAVOR" "$VARIANT" || return 0

	log "guest: booting $FLAVOR-$VARIANT, job $job (progress below)"
	local kunit=()
	boot_guest "$job" "$out/guest"
	[ "$FLAVOR" = debug ] && kunit=(--expect-kunit)
	"${verdict[@]}" guest --console "$out/guest/console.log" --results "$out/guest/results" \
		--timeout-note "$boot_note" "${kunit[@]}" \
		--baseline "$MMSCALE_TOP/scripts/guest/vm-suite.baseline" \
		--baseline-label "vanilla $(cat "$BUILD_DIR/kernel-version")" --out "$res"

	# The debug kernel frees VMAs after a grace period, so that KASAN
	# sees a speculative fault's use of a freed VMA
	# (CONFIG_DEBUG_VM_SPF_FREE); a second, shorter boot runs the tests of
	# the speculative path with VMAs reused at once, as in production
	# (guest job spf-typesafe, results prefixed "typesafe:").
	if [ "$job" = check ] &&
		grep -qx 'CONFIG_DEBUG_VM_SPF_FREE=y' "$(obj_dir "$FLAVOR" "$VARIANT")/.config"; then
		log "guest: booting $FLAVOR-$VARIANT with spf_vma_free=typesafe, job spf-typesafe"
		APPEND="${APPEND:-} spf_vma_free=typesafe" boot_guest spf-typesafe "$out/guest-typesafe"
		"${verdict[@]}" guest --console "$out/guest-typesafe/console.log" \
			--results "$out/guest-typesafe/results" --timeout-note "$boot_note" \
			--prefix typesafe --out "$res"
	fi
}

guest_side

log "finished in $(($(date +%s) - t0)) s; results in $out"
"${verdict[@]}" summary "$res"
