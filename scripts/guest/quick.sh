# Guest job for development (GUEST_JOB=quick scripts/check.sh): the
# kselftests in selftests/ and a 60 s torture run, nothing else.  With
# mmscale.torture_only=1 on the kernel command line (APPEND=...), only the
# torture run: to show what the torture tool alone catches.  With
# mmscale.only=NAME, only the kselftest NAME (no torture run).
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

say "quick: kernel $(uname -r), $(nproc) cpus"
zram_swap 256M
load_test_module
torture_only=0
grep -q 'mmscale.torture_only=1' /proc/cmdline && torture_only=1
only=$(sed -n 's/.*mmscale\.only=\([^ ]*\).*/\1/p' /proc/cmdline)
for t in /mmscale/selftests/*; do
	[ "$torture_only" = 1 ] && break
	[ -x "$t" ] || continue
	[ -n "$only" ] && [ "$(basename "$t")" != "$only" ] && continue
	run_test selftests "$(basename "$t")" 300 tap "$t"
done
if [ -z "$only" ] && [ -x /mmscale/bin/torture ]; then
	run_test torture torture-60s 240 rc torture -t 4 -S 60
fi
rmmod mmscale_test 2>/dev/null
say "quick: done"
