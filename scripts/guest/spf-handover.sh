#!/bin/sh
# A fault in a VMA the speculative path does not handle is handed to the
# classic path with mmap_lock already held (spf_vma_get()), instead of
# falling back to a second lookup.  page_fault3 (writes to a shared file
# mapping, one fault per page, no fault-around) faults only in such VMAs
# and no other thread holds its mmap_lock, so every one of its faults must
# be handed over: spf_handover must grow by at least 90% of the pages it
# touched.  With vm.speculative_page_fault=0 no fault anywhere may be
# handed over.
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

handovers() {
	awk '$1 == "spf_handover" { print $2 }' /proc/vmstat
}

# Prints "<pages touched> <spf_handover delta>" for one page_fault3 run.
run_pf3() {
	before=$(handovers)
	out=$(faultbench page_fault3 -S 1 -s 4M -d /tmp --json) || return 1
	after=$(handovers)
	# The run's total rate, not the per-thread array after it.
	rate=$(echo "$out" | sed -e 's/"per_thread".*//' \
		-e 's/.*"pages_per_s":\([0-9.]*\).*/\1/;t' -e d)
	secs=$(echo "$out" | sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p')
	if [ -z "$rate" ] || [ -z "$secs" ]; then
		echo "FAIL: cannot read faultbench's output: $out" >&2
		return 1
	fi
	awk -v r="$rate" -v s="$secs" -v d=$((after - before)) \
		'BEGIN { printf "%d %d\n", r * s, d }'
}

r=$(run_pf3) || exit 1
pages=${r% *} handed=${r#* }
echo "vm.speculative_page_fault=1: page_fault3 touched $pages pages, spf_handover +$handed"
[ "$pages" -gt 0 ] || { echo "FAIL: page_fault3 touched no page"; exit 1; }
[ $((handed * 10)) -ge $((pages * 9)) ] || {
	echo "FAIL: fewer than 90% of the faults were handed over"
	exit 1
}

echo 0 >$SYSCTL
r=$(run_pf3) || exit 1
pages=${r% *} handed=${r#* }
echo "vm.speculative_page_fault=0: page_fault3 touched $pages pages, spf_handover +$handed"
[ "$pages" -gt 0 ] || { echo "FAIL: page_fault3 touched no page"; exit 1; }
[ "$handed" -eq 0 ] || { echo "FAIL: faults handed over with the path switched off"; exit 1; }
exit 0
