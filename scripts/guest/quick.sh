# Guest job for development (GUEST_JOB=quick scripts/check.sh): the
# kselftests in selftests/ and a 60 s torture run, nothing else.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

say "quick: kernel $(uname -r), $(nproc) cpus"
zram_swap 256M
load_test_module
for t in /mmscale/selftests/*; do
	[ -x "$t" ] || continue
	run_test selftests "$(basename "$t")" 300 tap "$t"
done
if [ -x /mmscale/bin/torture ]; then
	run_test torture torture-60s 240 rc torture -t 4 -S 60
fi
rmmod mmscale_test 2>/dev/null
say "quick: done"
