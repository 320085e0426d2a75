#!/bin/sh
# KASAN sees a use of a freed VMA (CONFIG_DEBUG_VM_SPF_FREE): the VMA
# cache must not be SLAB_TYPESAFE_BY_RCU in this boot, and the test module
# reads a VMA after munmap() freed it (mmscale-ctl stale-vma, see
# module/mmscale_spf.c), which KASAN must report.
# With an argument "typesafe": the boot has spf_vma_free=typesafe, and the
# cache must be SLAB_TYPESAFE_BY_RCU again (nothing is read).
# KASAN reports only its first bug, and its report switches lockdep off:
# run this last.
# Exit status: 0 pass, 1 fail, 4 skip (no option, no KASAN, no module).
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh
mode=${1:-rcu}
mmscale-ctl features | grep -q ' spf_vma_free' ||
	{ echo "no CONFIG_DEBUG_VM_SPF_FREE in this kernel"; exit 4; }
flag=/sys/kernel/slab/vm_area_struct/destroy_by_rcu
[ -r "$flag" ] || { echo "FAIL: no $flag"; exit 1; }
want=0
[ "$mode" = typesafe ] && want=1
got=$(cat "$flag")
echo "$flag: $got (want $want for spf_vma_free=$mode; /proc/cmdline: $(cat /proc/cmdline))"
[ "$got" = "$want" ] || { echo "FAIL: the VMA cache is not as spf_vma_free=$mode makes it"; exit 1; }
[ "$mode" = typesafe ] && exit 0

mmscale-ctl features | grep -q ' kasan' || { echo "no KASAN in this kernel"; exit 4; }
expect_splat /tmp/spf-kasan.log mmscale-ctl stale-vma
sed -n '/BUG: KASAN/,/Memory state around/p' /tmp/spf-kasan.log | head -n 80
grep -q 'BUG: KASAN: use-after-free in mmscale_ioc_stale_vma' /tmp/spf-kasan.log ||
	{ echo "FAIL: KASAN reported no use-after-free of the VMA"; exit 1; }
grep -q 'belongs to the cache vm_area_struct' /tmp/spf-kasan.log ||
	{ echo "FAIL: the object KASAN reported is not a VMA"; exit 1; }
# The free went through the grace period of vm_area_put(): queued with
# call_rcu() (KASAN's "work creation" stack), freed from the RCU callback.
if ! grep -q 'call_rcu' /tmp/spf-kasan.log || ! grep -q 'rcu_core' /tmp/spf-kasan.log; then
	echo "FAIL: the report does not show the VMA freed after a grace period"
	exit 1
fi
echo "KASAN reported the use of the freed VMA"
exit 0
