# Guest job 'soak': until mmscale.duration=SECONDS have passed, loop over
# the torture tool (a new seed each time), the kselftests and locktorture,
# with swap on zram and memory pressure from a compressible tmpfs file.
# Each iteration's results go to /results/soak-<n>/...; verdict.py judges
# every one of them and scans the whole kernel log for splats.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

duration=600
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	mmscale.duration=*) duration=${arg#mmscale.duration=} ;;
	esac
done

zram_swap 512M
insmod /mmscale/mmscale_test.ko || say "soak: cannot load the test module"

# Memory pressure: a tmpfs file of ~60% of RAM, highly compressible, so
# that anonymous and shmem pages go to zram and come back.
mem_kb=$(awk '/MemTotal/ {print $2}' /proc/meminfo)
hog_mb=$((mem_kb * 6 / 10 / 1024))
yes mmscale-soak | head -c "${hog_mb}M" >/dev/shm/hog
say "soak: ${duration}s, ${hog_mb} MiB of tmpfs pressure, $(grep SwapTotal /proc/meminfo)"

start=$(cut -d. -f1 /proc/uptime)
n=0
while [ $(($(cut -d. -f1 /proc/uptime) - start)) -lt "$duration" ]; do
	n=$((n + 1))
	say "soak: iteration $n, swap used $(awk '/SwapTotal/ {t=$2} /SwapFree/ {f=$2} END {print t-f}' /proc/meminfo) kB"
	run_test "soak-$n" torture 300 rc torture -t 4 -S 60
	run_test "soak-$n" torture-pair 300 rc sh /mmscale/jobs/torture-pair.sh 60
	for t in /mmscale/selftests/*; do
		[ -x "$t" ] || continue
		run_test "soak-$n" "$(basename "$t")" 300 tap "$t"
	done
	LOCKTORTURE_SECS=20
	# shellcheck source=locktorture.sh
	. /mmscale/jobs/locktorture.sh
	mv /results/locktorture "/results/soak-$n/locktorture" 2>/dev/null
	for f in /results/soak-"$n"/locktorture/*; do
		mv "$f" "/results/soak-$n/locktorture-${f##*/}"
	done
	rmdir "/results/soak-$n/locktorture" 2>/dev/null
done
rm -f /dev/shm/hog
rmmod mmscale_test 2>/dev/null
say "soak: $n iterations in $(($(cut -d. -f1 /proc/uptime) - start))s"
