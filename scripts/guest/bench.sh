# Guest job for the benchmark: each workload of bench.list once, its JSON
# in /results/bench/NAME.json; with mmscale.perf=1 on the command line,
# one 'perf record -g' of a workload (mmscale.perf_workload=NAME of
# bench.list, ebizzy-mTt-N by default) and its report.  A workload that runs
# longer than mmscale.bench_timeout=SECONDS (120) is killed (status 137 in
# NAME.rc), so that one hung tool fails its workload instead of holding
# the whole boot until the host's timeout.  With mmscale.insn=1 (bench.sh's
# INSNS=1, QEMU with the insn plugin), insn-mark runs right before and right
# after each workload: the plugin numbers the marks from 0 in the order they
# run; NAME.insn gets the workload's two mark numbers ("START END") and
# insn-marks the number of marks this job ran (the host checks that the
# plugin saw as many: no mark but these).  On a kernel with speculative
# page faults, NAME.vmstat gets what each spf_* counter of /proc/vmstat
# moved by while the workload ran ("spf_attempt 1234" lines; the whole
# system's faults, read outside the marks).
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

N=$(nproc)
export N
limit=120
only=
perf_workload=ebizzy-mTt-N
insn=0
read -r cmdline </proc/cmdline
for arg in $cmdline; do
	case "$arg" in
	mmscale.bench_timeout=*) limit=${arg#mmscale.bench_timeout=} ;;
	mmscale.workloads=*) only=,${arg#mmscale.workloads=}, ;;
	mmscale.perf_workload=*) perf_workload=${arg#mmscale.perf_workload=} ;;
	mmscale.insn=1) insn=1 ;;
	esac
done
mkdir -p /results/bench
marks=0
if [ "$insn" = 1 ]; then
	if command -v insn-mark >/dev/null; then
		echo 0 >/results/bench/insn-marks
	else
		say "bench: mmscale.insn=1, but no insn-mark in the image"
		insn=0
	fi
fi
if [ ! -e /sys/kernel/debug/mmscale/ctl ]; then
	insmod /mmscale/mmscale_test.ko || say "bench: cannot load the test module"
fi
spf=0
grep -q '^spf_attempt ' /proc/vmstat && spf=1
# pft-style workloads want 4 KiB faults.
echo never >/sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null

while read -r name cmd; do
	case "$name" in '#'* | '') continue ;; esac
	# mmscale.workloads=a,b: only those.
	case "$only" in '' | *",$name,"*) ;; *) continue ;; esac
	say "bench/$name: $cmd"
	# exec: the timeout's SIGKILL must reach the tool, not only a shell.
	# The marks (insn=1) hug the command: nothing else between them.
	start=$marks
	[ "$spf" = 1 ] && grep '^spf_' /proc/vmstat >/tmp/spf.before
	[ "$insn" = 1 ] && insn-mark && marks=$((marks + 1))
	timeout -s KILL "$limit" sh -c "exec $cmd" \
		>"/results/bench/$name.json" 2>"/results/bench/$name.err" </dev/null
	rc=$?
	[ "$insn" = 1 ] && insn-mark && marks=$((marks + 1))
	echo "$rc" >"/results/bench/$name.rc"
	if [ "$spf" = 1 ]; then
		grep '^spf_' /proc/vmstat >/tmp/spf.after
		awk 'NR == FNR { before[$1] = $2; next } { print $1, $2 - before[$1] }' \
			/tmp/spf.before /tmp/spf.after >"/results/bench/$name.vmstat"
	fi
	if [ "$insn" = 1 ]; then
		echo "$marks" >/results/bench/insn-marks
		if [ "$marks" = $((start + 2)) ]; then
			echo "$start $((start + 1))" >"/results/bench/$name.insn"
		else
			say "bench/$name: insn-mark failed"
		fi
	fi
	[ "$rc" = 137 ] && say "bench/$name: killed after ${limit}s"
done </mmscale/jobs/bench.list

if grep -q 'mmscale.perf=1' /proc/cmdline && [ -x /usr/bin/perf ]; then
	perf_cmd=$(awk -v w="$perf_workload" '$1 == w { $1 = ""; print; exit }' \
		/mmscale/jobs/bench.list)
	if [ -z "$perf_cmd" ]; then
		say "bench/perf: no workload '$perf_workload' in bench.list"
		echo "no workload '$perf_workload' in bench.list" >/results/perf-report.txt
	else
		say "bench/perf: perf record -g $perf_workload:$perf_cmd"
		echo 0 >/proc/sys/kernel/kptr_restrict
		echo -1 >/proc/sys/kernel/perf_event_paranoid
		cd /tmp || exit 1
		echo "$perf_workload" >/results/perf-workload
		perf record -q -e cpu-clock -g -o /tmp/perf.data \
			sh -c "exec $perf_cmd" >/results/perf-workload.out 2>&1
		perf report -i /tmp/perf.data --stdio --no-children --sort sym \
			--percent-limit 0.5 >/results/perf-report.txt 2>&1
		perf report -i /tmp/perf.data --stdio --no-children --sort sym -g none \
			>/results/perf-symbols.txt 2>&1
		say "bench/perf: done"
	fi
fi
