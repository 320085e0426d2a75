# Guest job for scripts/bisect-build.sh: a kernel of one step of the series
# boots, faults, swaps and survives the torture tool, without the test
# module (its structures may not match this step's kernel).
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

say "bisect: kernel $(uname -r), $(nproc) cpus"
zram_swap 256M
run_test bisect torture-20s 120 rc torture -t 4 -S 20
run_test bisect ebizzy-mTt-2 60 rc ebizzy -mTt 2 -S 3
mkdir -p /results/bisect
grep -E '^spf_' /proc/vmstat >/results/bisect/vmstat 2>/dev/null
say "bisect: done"
