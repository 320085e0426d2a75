#!/bin/sh
# Speculative page faults must carry the anonymous faults of ebizzy -mT:
# of the faults the speculative path saw during the run, minus those on
# file-backed memory (ebizzy's text and data), at least MIN_PCT percent
# must have succeeded.  Prints every spf_* counter that moved.
# Exit status: 0 pass, 1 fail, 4 skip (kernel without the feature).
MIN_PCT=${MIN_PCT:-95}

# shellcheck source=lib.sh
. /mmscale/jobs/lib.sh
spf_require_on

cp /proc/vmstat /tmp/spf.before
ebizzy -mT -t 2 -S 5 || exit 1
cp /proc/vmstat /tmp/spf.after

awk -v min="$MIN_PCT" '
	NR == FNR { before[$1] = $2; next }
	{ d[$1] = $2 - before[$1] }
	END {
		for (k in d)
			if (k ~ /^spf_/ && d[k])
				printf "%s +%d\n", k, d[k]
		printf "pgfault +%d\n", d["pgfault"]
		anon = d["spf_attempt"] - d["spf_abort_not_anon"]
		if (anon <= 0) {
			print "FAIL: no anonymous fault went through the speculative path"
			exit 1
		}
		pct = 100 * d["spf_success"] / anon
		printf "spf_success covers %.2f%% of %d anonymous faults (goal %d%%)\n", pct, anon, min
		exit pct >= min ? 0 : 1
	}' /tmp/spf.before /tmp/spf.after
