#!/bin/sh
# The spf:spf_abort tracepoint fires, names a known reason, and agrees with
# the spf_abort_* counters of /proc/vmstat.  The aborts come from fresh
# anonymous mappings: their first fault has no anon_vma yet.
# Exit status: 0 pass, 1 fail, 4 skip (kernel without the feature).
T=/sys/kernel/tracing
[ -d "$T/events" ] || mount -t tracefs nodev "$T" 2>/dev/null
[ -d "$T/events" ] || T=/sys/kernel/debug/tracing
[ -d "$T/events/spf/spf_abort" ] || {
	echo "no spf:spf_abort tracepoint"
	grep -q '^spf_attempt ' /proc/vmstat && exit 1
	exit 4
}

aborts() {
	awk '$1 ~ /^spf_abort_/ { s += $2 } END { print s + 0 }' /proc/vmstat
}

echo 0 >"$T/tracing_on"
echo >"$T/trace"
echo 1 >"$T/events/spf/spf_abort/enable"
before=$(aborts)
echo 1 >"$T/tracing_on"
ebizzy -m -t 1 -S 1 >/dev/null || exit 1
echo 0 >"$T/tracing_on"
after=$(aborts)
echo 0 >"$T/events/spf/spf_abort/enable"

grep 'spf_abort:' "$T/trace" >/tmp/spf.trace
events=$(wc -l </tmp/spf.trace)
counted=$((after - before))
echo "tracepoint events: $events, spf_abort_* counters: +$counted"
sed -n 's/.*reason=\([a-z_0-9]*\).*/\1/p' /tmp/spf.trace | sort | uniq -c
[ "$events" -gt 0 ] || { echo "FAIL: no spf_abort event"; exit 1; }
if grep -v 'reason=[a-z][a-z_]*$' /tmp/spf.trace | grep -q .; then
	echo "FAIL: events with an unknown reason:"
	grep -v 'reason=[a-z][a-z_]*$' /tmp/spf.trace | head -5
	exit 1
fi
# Every event is counted; the counters also see the faults of the
# commands around the traced window.
[ "$counted" -ge "$events" ] || { echo "FAIL: more events than counted aborts"; exit 1; }
exit 0
