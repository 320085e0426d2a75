#!/bin/sh
# A fault in a VMA the speculative path does not handle is handed to the
# classic path with mmap_lock already held (spf_vma_get()), instead of
# falling back to a second lookup.  page_fault3 (writes to a shared file
# mapping, one fault per page, no fault-around) faults only in such VMAs
# and no other thread holds its mmap_lock, so every one of its faults must
# be handed over: spf_handover must grow by at least 90% of the faults
# /proc/vmstat counts during the run.  With vm.speculative_page_fault=0
# no fault anywhere may be handed over.
# Exit status: 0 pass, 1 fail, 4 skip (kernel without the feature).
SYSCTL=/proc/sys/vm/speculative_page_fault

# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh
spf_require_on
grep -q '^spf_handover ' /proc/vmstat || {
	echo "FAIL: spf_attempt is counted but spf_handover is not"
	exit 1
}
trap 'echo 1 >$SYSCTL' EXIT

# vmstat NAME: the current value of /proc/vmstat's counter NAME.
vmstat() {
	awk -v k="$1" '$1 == k { print $2 }' /proc/vmstat
}

# Prints "<pgfault delta> <spf_handover delta>" for one page_fault3 run,
# both counted by the kernel (the guest runs nothing else meanwhile).
run_pf3() {
	f0=$(vmstat pgfault) h0=$(vmstat spf_handover)
	faultbench page_fault3 -S 1 -s 4M -d /tmp >/dev/null || return 1
	f1=$(vmstat pgfault) h1=$(vmstat spf_handover)
	echo "$((f1 - f0)) $((h1 - h0))"
}

r=$(run_pf3) || exit 1
faults=${r% *} handed=${r#* }
echo "vm.speculative_page_fault=1: pgfault +$faults, spf_handover +$handed"
[ "$faults" -ge 1000 ] || { echo "FAIL: page_fault3 faulted fewer than 1000 times"; exit 1; }
[ $((handed * 10)) -ge $((faults * 9)) ] || {
	echo "FAIL: fewer than 90% of the faults were handed over"
	exit 1
}

echo 0 >$SYSCTL
r=$(run_pf3) || exit 1
faults=${r% *} handed=${r#* }
echo "vm.speculative_page_fault=0: pgfault +$faults, spf_handover +$handed"
[ "$faults" -ge 1000 ] || { echo "FAIL: page_fault3 faulted fewer than 1000 times"; exit 1; }
[ "$handed" -eq 0 ] || { echo "FAIL: faults handed over with the path switched off"; exit 1; }
exit 0
