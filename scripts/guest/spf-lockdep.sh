#!/bin/sh
# Lockdep sees the busy bias of speculative faults: the test module marks
# a VMA for a change while it holds a PMD lock, which a fault takes to
# install a PTE table while it carries the bias (mmscale-ctl makes such a
# fault first; see module/mmscale_spf.c), and lockdep must report the
# circular dependency through vma_spf_busy.
# Lockdep switches itself off after one report: run this last.
# Exit status: 0 pass, 1 fail, 4 skip (no lockdep, no feature, no module).
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh
[ -e /proc/lockdep ] || { echo "no lockdep in this kernel"; exit 4; }
mmscale-ctl features | grep -q ' spf' || { echo "no speculative faults"; exit 4; }
if ! grep -q 'debug_locks: *1' /proc/lockdep_stats; then
	echo "FAIL: lockdep is already off (an earlier report?)"
	exit 1
fi

expect_splat /tmp/spf-lockdep.log mmscale-ctl spf-inversion
sed -n '/possible circular locking dependency/,/^.*stack backtrace/p' \
	/tmp/spf-lockdep.log | head -n 60
grep -q 'possible circular locking dependency' /tmp/spf-lockdep.log ||
	{ echo "FAIL: no circular dependency reported"; exit 1; }
grep -q 'vma_spf_busy' /tmp/spf-lockdep.log ||
	{ echo "FAIL: the report does not name vma_spf_busy"; exit 1; }
# The other side of the cycle must be a speculative fault's, not some
# other acquisition of the map.
grep -q 'handle_mm_fault_speculative' /tmp/spf-lockdep.log ||
	{ echo "FAIL: the report's chain has no speculative fault"; exit 1; }
echo "lockdep reported the inversion through vma_spf_busy"
exit 0
