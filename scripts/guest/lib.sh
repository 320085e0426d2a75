# Helpers for guest jobs (busybox sh).  Source it from /mmscale/jobs/*.sh.

# say MESSAGE: progress line on the console, ordered with the kernel log.
say() {
	echo "mmscale: $*" >/dev/kmsg
}

# run_test SUITE NAME TIMEOUT KIND CMD...: run one test program.
# KIND tap: its stdout is TAP (results/SUITE/NAME.tap); KIND rc: it is
# judged by its exit status (0 pass, 4 skip), output in NAME.log.
run_test() {
	suite=$1 name=$2 limit=$3 kind=$4
	shift 4
	mkdir -p "/results/$suite"
	out=/results/$suite/$name.log
	[ "$kind" = tap ] && out=/results/$suite/$name.tap
	say "$suite/$name: start"
	timeout -s KILL "$limit" "$@" >"$out" 2>&1 </dev/null
	rc=$?
	echo "$rc" >"/results/$suite/$name.rc"
	say "$suite/$name: exit status $rc"
	return 0
}

# zram_swap SIZE: swap on /dev/zram0 of SIZE (e.g. 256M).  Its result is
# the test swap/zram: every kernel of the project has zram
# (configs/base.config), and the swap tests skip without swap, so a swap
# that does not come up must fail somewhere.
zram_swap() {
	mkdir -p /results/swap
	if { [ -e /sys/block/zram0 ] || modprobe zram; } &&
		echo "$1" >/sys/block/zram0/disksize && mkswap /dev/zram0 &&
		swapon /dev/zram0; then
		say "swap on zram0 ($1)"
		echo 0 >/results/swap/zram.rc
	else
		echo 1 >/results/swap/zram.rc
	fi >/results/swap/zram.log 2>&1
	cat /proc/swaps >>/results/swap/zram.log
}

# load_test_module: insmod the test module, its result in /results/module/.
load_test_module() {
	mkdir -p /results/module
	if insmod /mmscale/mmscale_test.ko; then
		echo 0 >/results/module/load.rc
	else
		echo 1 >/results/module/load.rc
	fi
	echo "insmod /mmscale/mmscale_test.ko" >/results/module/load.log
}

# spf_require_on: for the speculative page fault checks.  Exits 4 (skip)
# on a kernel without the feature, 1 (fail) when it is switched off.
spf_require_on() {
	grep -q '^spf_attempt ' /proc/vmstat || {
		echo "no spf_* counters in /proc/vmstat: kernel without speculative faults"
		exit 4
	}
	[ "$(cat /proc/sys/vm/speculative_page_fault)" = 1 ] || {
		echo "FAIL: vm.speculative_page_fault is off"
		exit 1
	}
}

# expect_splat LOG CMD...: run CMD between the MMSCALE-EXPECT-SPLAT markers
# (a splat there is a deliberate one, see scripts/verdict.py) and write the
# kernel log from the last BEGIN marker on, this window, to LOG.  Exits 1
# (fail) when CMD fails.
expect_splat() {
	log=$1
	shift
	echo MMSCALE-EXPECT-SPLAT-BEGIN >/dev/kmsg
	"$@"
	rc=$?
	echo MMSCALE-EXPECT-SPLAT-END >/dev/kmsg
	[ "$rc" -eq 0 ] || { echo "FAIL: $*: exit status $rc"; exit 1; }
	dmesg | awk '/MMSCALE-EXPECT-SPLAT-BEGIN/ { n = 0 } { l[n++] = $0 }
		END { for (i = 0; i < n; i++) print l[i] }' >"$log"
}
