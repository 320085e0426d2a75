# Guest job for 'make check', second boot (scripts/check.sh boots it with
# spf_vma_free=typesafe): the debug kernel frees VMAs after an RCU grace
# period so that KASAN sees a speculative fault's use of a freed VMA
# (CONFIG_DEBUG_VM_SPF_FREE), and the first boot runs everything that way.
# This boot gives VMAs back to a SLAB_TYPESAFE_BY_RCU cache at once, as a
# production kernel does, so that speculative faults meet VMAs that were
# freed and reused (by their own mm or, with two torture processes,
# another), and runs the tests of the speculative path again.
# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh

say "spf-typesafe: kernel $(uname -r), $(nproc) cpus"
zram_swap 256M
load_test_module
run_test spf typesafe-mode 60 rc sh /mmscale/jobs/spf-kasan.sh typesafe
for t in spf_race segv_race; do
	[ -x "/mmscale/selftests/$t" ] &&
		run_test selftests "$t" 300 tap "/mmscale/selftests/$t"
done
if [ -x /mmscale/bin/torture ]; then
	run_test torture torture-pair-45s 240 rc sh /mmscale/jobs/torture-pair.sh 45
fi
rmmod mmscale_test 2>/dev/null
say "spf-typesafe: done"
