# Guest job for development (GUEST_JOB=quick scripts/check.sh): the
# kselftests in selftests/ and a 60 s torture run, nothing else.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

say "quick: kernel $(uname -r), $(nproc) cpus"
if [ -e /sys/block/zram0 ] || modprobe zram 2>/dev/null; then
	echo 256M >/sys/block/zram0/disksize && mkswap /dev/zram0 >/dev/null &&
		swapon /dev/zram0 && say "swap on zram0"
fi
mkdir -p /results/module
if insmod /mmscale/mmscale_test.ko; then
	echo 0 >/results/module/load.rc
else
	echo 1 >/results/module/load.rc
fi
echo "insmod /mmscale/mmscale_test.ko" >/results/module/load.log
for t in /mmscale/selftests/*; do
	[ -x "$t" ] || continue
	run_test selftests "$(basename "$t")" 300 tap "$t"
done
if [ -x /mmscale/bin/torture ]; then
	run_test torture torture-60s 240 rc torture -t 4 -S 60
fi
rmmod mmscale_test 2>/dev/null
say "quick: done"
