# Run locktorture for each type in $LOCKTORTURE_TYPES (default below) for
# $LOCKTORTURE_SECS seconds; the verdict is locktorture's own
# "End of test: SUCCESS" line, which it prints when the module is removed.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

types=${LOCKTORTURE_TYPES:-"rwsem_lock"}
for extra in /mmscale/jobs/locktorture.d/*; do
	[ -f "$extra" ] && types="$types $(cat "$extra")"
done
secs=${LOCKTORTURE_SECS:-10}
mkdir -p /results/locktorture
for type in $types; do
	say "locktorture/$type: ${secs}s"
	if ! modprobe locktorture torture_type="$type" nwriters_stress=2 \
		nreaders_stress=2 stat_interval=0 2>/results/locktorture/"$type".log; then
		echo 1 >/results/locktorture/"$type".rc
		continue
	fi
	sleep "$secs"
	rmmod locktorture
	dmesg | grep "$type-torture" >>/results/locktorture/"$type".log
	if dmesg | grep "$type-torture.*End of test" | tail -n 1 | grep -q SUCCESS; then
		echo 0 >/results/locktorture/"$type".rc
	else
		echo 1 >/results/locktorture/"$type".rc
	fi
done
