# torture-pair.sh SECONDS (not a job: check.sh and soak.sh run it): two
# torture processes at once, 2 threads each, for SECONDS; exits 0 only if
# both pass.  VMAs that one mm frees are reused by the other (the VMA cache
# is SLAB_TYPESAFE_BY_RCU) while speculative faults may still hold a stale
# pointer to them, which one process alone does not provoke across mms.
# Both logs go to stdout.
secs=${1:?usage: torture-pair.sh SECONDS}
torture -t 2 -S "$secs" >/tmp/torture-pair-a.log 2>&1 &
pid_a=$!
torture -t 2 -S "$secs" >/tmp/torture-pair-b.log 2>&1
rc_b=$?
wait "$pid_a"
rc_a=$?
echo "== process a (exit status $rc_a)"
cat /tmp/torture-pair-a.log
echo "== process b (exit status $rc_b)"
cat /tmp/torture-pair-b.log
[ "$rc_a" = 0 ] && [ "$rc_b" = 0 ]
