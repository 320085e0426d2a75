# Guest job 'smoke': the guest came up and can run a program; nothing else.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh
say "smoke: $(uname -r) on $(nproc) cpus, $(grep MemTotal /proc/meminfo)"
