# Run locktorture for each lock type for $LOCKTORTURE_SECS seconds: the
# types in $LOCKTORTURE_TYPES (default rwsem_lock) and one per line of
# locktorture.d/* ("TYPE [SYMBOL]": run only when the kernel has SYMBOL,
# so that a type the series adds is skipped on vanilla).  The verdict is
# locktorture's own "End of test: SUCCESS" line, printed at rmmod.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

secs=${LOCKTORTURE_SECS:-10}
mkdir -p /results/locktorture
{
	for t in ${LOCKTORTURE_TYPES:-rwsem_lock}; do
		echo "$t"
	done
	cat /mmscale/jobs/locktorture.d/* 2>/dev/null
} >/tmp/locktorture.types
while read -r type symbol; do
	[ -n "$type" ] || continue
	log=/results/locktorture/$type.log
	# busybox modinfo succeeds for a module that does not exist: look
	# in modules.dep (the perf flavor has no CONFIG_LOCK_TORTURE_TEST).
	if ! grep -q '/locktorture\.ko' "/lib/modules/$(uname -r)/modules.dep" 2>/dev/null; then
		echo "locktorture is not built in this kernel (CONFIG_LOCK_TORTURE_TEST)" >"$log"
		echo 4 >"/results/locktorture/$type.rc"
		continue
	fi
	if [ -n "$symbol" ] && ! grep -q " $symbol\$" /proc/kallsyms; then
		echo "this kernel has no $symbol: no $type to torture" >"$log"
		echo 4 >"/results/locktorture/$type.rc"
		continue
	fi
	say "locktorture/$type: ${secs}s"
	if ! modprobe locktorture torture_type="$type" nwriters_stress=2 \
		nreaders_stress=2 stat_interval=0 2>"$log"; then
		echo 1 >"/results/locktorture/$type.rc"
		continue
	fi
	sleep "$secs"
	rmmod locktorture
	dmesg | grep "$type-torture" >>"$log"
	if dmesg | grep "$type-torture.*End of test" | tail -n 1 | grep -q SUCCESS; then
		echo 0 >"/results/locktorture/$type.rc"
	else
		echo 1 >"/results/locktorture/$type.rc"
	fi
done </tmp/locktorture.types
