# Guest job for 'make check': test module, kselftests, upstream vm suite,
# locktorture, the splat-scanner self-test.  Each step leaves its results
# in /results/<suite>/; scripts/verdict.py judges them on the host.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

say "check: kernel $(uname -r), $(nproc) cpus"

# Swap on zram, for the tests that swap.
zram_swap 256M
load_test_module

for t in /mmscale/selftests/*; do
	[ -x "$t" ] || continue
	run_test selftests "$(basename "$t")" 300 tap "$t"
done

# Speculative page faults: counters cover ebizzy's faults, the abort
# tracepoint works, file faults are handed over with mmap_lock held (all
# skip on a kernel without the feature).
run_test spf ebizzy-coverage 300 rc sh /mmscale/jobs/spf-coverage.sh
run_test spf tracepoint 120 rc sh /mmscale/jobs/spf-trace.sh
run_test spf handover 120 rc sh /mmscale/jobs/spf-handover.sh

# Upstream tools/testing/selftests/vm: one test per line of vm-suite.list.
if [ -d /mmscale/vm ]; then
	cd /mmscale/vm || exit 1
	while read -r name limit cmd; do
		case "$name" in '#'* | '') continue ;; esac
		run_test vm "$name" "$limit" rc sh -c "$cmd"
	done </mmscale/jobs/vm-suite.list
	cd / || exit 1
fi

# The mm torture tool: a short seeded run (the seed is in the log), then
# two processes at once (torture-pair.sh: VMAs recycled across mms).
if [ -x /mmscale/bin/torture ]; then
	run_test torture torture-60s 240 rc torture -t 4 -S 60
	run_test torture torture-pair-45s 240 rc sh /mmscale/jobs/torture-pair.sh 45
fi

# locktorture: a short run of each lock type in LOCKTORTURE_TYPES.
# shellcheck source=locktorture.sh
. /mmscale/jobs/locktorture.sh

# The splat scanner's self-test: a deliberate WARN inside the markers.
if [ -e /sys/kernel/debug/mmscale/ctl ] && [ -x /mmscale/bin/mmscale-ctl ]; then
	echo MMSCALE-EXPECT-SPLAT-BEGIN >/dev/kmsg
	mmscale-ctl warn
	echo MMSCALE-EXPECT-SPLAT-END >/dev/kmsg
fi

# Lockdep sees the busy bias of speculative faults: a deliberate inversion
# is reported.  Last, because lockdep switches itself off after a report.
run_test spf lockdep-inversion 60 rc sh /mmscale/jobs/spf-lockdep.sh

# KASAN sees a use of a freed VMA (CONFIG_DEBUG_VM_SPF_FREE): a deliberate
# one is reported.  After the lockdep test: KASAN's report switches
# lockdep off, and KASAN reports only its first bug.
run_test spf kasan-freed-vma 60 rc sh /mmscale/jobs/spf-kasan.sh

rmmod mmscale_test 2>/dev/null
say "check: done"
