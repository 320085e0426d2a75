// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: stress range_lock and check it independently.
 *
 * MMSCALE_IOC_RANGE_STRESS runs kernel threads that lock random ranges of
 * [0, space) on one range_lock_tree, owned by the ioctl call, until the
 * duration has passed.  Each acquisition uses one of the ways in: a plain
 * lock, a killable one or a trylock (whose failures are counted, they are
 * no error), on a random range or, now and then, on the whole space or on
 * the full range of range_lock_init_full(), which takes the fast path of
 * an empty tree.  Some write holds are downgraded to read halfway through.
 *
 * The checker knows nothing of the tree.  Each worker has a slot that says
 * what it holds, [start, end) and the mode, guarded by one spinlock:
 *
 *   - after the range lock is granted, the worker scans every other slot
 *     for a conflicting overlap (at least one writer, a < d && c < b for
 *     [a, b) and [c, d)), counts one violation per conflict found, then
 *     fills its own slot;
 *   - before a downgrade, it marks its slot read (it still holds the write
 *     lock, so nobody can have been let in on the strength of the mark);
 *   - before the unlock, it empties its slot.
 *
 * A slot is thus filled only while its range is really held, and of two
 * holds that overlap in time the later one to be recorded sees the other:
 * every conflicting pair the lock lets through is counted, and nothing
 * else is.  The spinlock is only ever taken inside the range lock, never
 * around it, so the order is always tree -> checker lock.
 *
 * Without CONFIG_RANGE_LOCK the arguments are checked and the call is
 * -EOPNOTSUPP.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/log2.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/overflow.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#ifdef CONFIG_RANGE_LOCK
#include <linux/range_lock.h>
#endif

#include "mmscale_internal.h"

#define MMSCALE_STRESS_MAX_THREADS	64
#define MMSCALE_STRESS_MAX_MS		60000

#ifdef CONFIG_RANGE_LOCK

/*
 * How a worker asks for a range: a draw in [0, MMSCALE_RS_HOW_ALL) picks the
 * highest entry it is not below, so half plain, a quarter each killable and
 * trylock.
 */
enum mmscale_rs_how {
	MMSCALE_RS_PLAIN,		/* range_{read,write}_lock() */
	MMSCALE_RS_KILLABLE = 4,	/* range_{read,write}_lock_killable() */
	MMSCALE_RS_TRY = 6,		/* range_{read,write}_trylock() */
	MMSCALE_RS_HOW_ALL = 8,
};

/* One in MMSCALE_RS_*_ONE_IN of the requests... */
#define MMSCALE_RS_FULL_ONE_IN		32	/* range_lock_init_full() */
#define MMSCALE_RS_SPACE_ONE_IN		32	/* all of [0, space) */
#define MMSCALE_RS_DOWNGRADE_ONE_IN	4	/* of the writes: downgraded */
#define MMSCALE_RS_RESCHED_ONE_IN	32	/* cond_resched() while held */
#define MMSCALE_RS_HOLD_MAX_NS		400	/* else busy for up to this */

struct mmscale_rs_run;

struct mmscale_rs_worker {
	struct mmscale_rs_run *run;
	struct rnd_state rnd;
	/* The checker's slot, under run->check_lock; end == 0: none held. */
	unsigned long held_start;
	unsigned long held_end;
	bool held_write;
	/* Counters, the worker's own until it has been stopped. */
	u64 reads;
	u64 writes;
	u64 downgrades;
	u64 try_failures;
	u64 interrupted;
	u64 violations;
};

struct mmscale_rs_run {
	struct range_lock_tree tree;
	spinlock_t check_lock;		/* guards the workers' slots */
	unsigned long space;
	unsigned int write_pct;
	u64 end_ns;			/* ktime_get_ns() to stop at */
	bool abort;			/* the caller was killed */
	struct mmscale_crew crew;
	unsigned int nr_workers;
	struct mmscale_rs_worker workers[];
};

/* Uniform enough in [0, @n), @n > 0. */
static unsigned long mmscale_rs_below(struct rnd_state *rnd, unsigned long n)
{
	u64 r = (u64)prandom_u32_state(rnd) << 32 | prandom_u32_state(rnd);

	return r % n;
}

/*
 * Pick the range of the next request and initialise @lock for it; the
 * range in the terms of the checker goes to [*start, *end).  Lengths are
 * log-uniform, so that a huge space sees small ranges as well as large.
 */
static void mmscale_rs_pick(struct mmscale_rs_worker *w,
			    struct range_lock *lock, unsigned long *start,
			    unsigned long *end)
{
	unsigned long space = w->run->space;
	unsigned long span, len;
	u32 r = prandom_u32_state(&w->rnd);

	if (r % MMSCALE_RS_FULL_ONE_IN == 0) {
		/* Takes in everything the others can ask for. */
		range_lock_init_full(lock);
		*start = 0;
		*end = space;
		return;
	}
	if (r / MMSCALE_RS_FULL_ONE_IN % MMSCALE_RS_SPACE_ONE_IN == 0) {
		len = space;
	} else {
		span = max(space >> (prandom_u32_state(&w->rnd) %
				     (ilog2(space) + 1)), 1UL);
		len = 1 + mmscale_rs_below(&w->rnd, span);
	}
	*start = mmscale_rs_below(&w->rnd, space - len + 1);
	*end = *start + len;
	/* Cannot fail: the range is not empty. */
	WARN_ON_ONCE(range_lock_init(lock, *start, *end));
}

/* Record what @w was granted, after checking it against the others. */
static void mmscale_rs_check_in(struct mmscale_rs_worker *w,
				unsigned long start, unsigned long end,
				bool write)
{
	struct mmscale_rs_run *run = w->run;
	unsigned int i;

	spin_lock(&run->check_lock);
	for (i = 0; i < run->nr_workers; i++) {
		struct mmscale_rs_worker *o = &run->workers[i];

		if (o == w || !o->held_end)
			continue;
		if (!(write || o->held_write) ||
		    !(start < o->held_end && o->held_start < end))
			continue;
		w->violations++;
		pr_err_ratelimited("range_stress: %s [%#lx, %#lx) granted while thread %u holds %s [%#lx, %#lx)\n",
				   write ? "write" : "read", start, end, i,
				   o->held_write ? "write" : "read",
				   o->held_start, o->held_end);
	}
	w->held_start = start;
	w->held_end = end;
	w->held_write = write;
	spin_unlock(&run->check_lock);
}

static void mmscale_rs_check_out(struct mmscale_rs_worker *w)
{
	spin_lock(&w->run->check_lock);
	w->held_end = 0;
	spin_unlock(&w->run->check_lock);
}

/* The critical section: a little work, sometimes a sleep. */
static void mmscale_rs_hold(struct mmscale_rs_worker *w)
{
	u32 r = prandom_u32_state(&w->rnd);

	if (r % MMSCALE_RS_RESCHED_ONE_IN == 0)
		cond_resched();
	else
		ndelay(r / MMSCALE_RS_RESCHED_ONE_IN % MMSCALE_RS_HOLD_MAX_NS);
}

/* Take @lock in one of the ways; 0 when it was granted. */
static int mmscale_rs_lock(struct mmscale_rs_worker *w,
			   struct range_lock *lock, bool write)
{
	struct range_lock_tree *tree = &w->run->tree;
	unsigned int how = prandom_u32_state(&w->rnd) % MMSCALE_RS_HOW_ALL;

	if (how >= MMSCALE_RS_TRY) {
		if (write ? range_write_trylock(tree, lock) :
			    range_read_trylock(tree, lock))
			return 0;
		w->try_failures++;
		return -EBUSY;
	}
	if (how >= MMSCALE_RS_KILLABLE) {
		int ret = write ? range_write_lock_killable(tree, lock) :
				  range_read_lock_killable(tree, lock);

		/* Nobody sends our kernel threads a signal, but still. */
		if (ret)
			w->interrupted++;
		return ret;
	}
	if (write)
		range_write_lock(tree, lock);
	else
		range_read_lock(tree, lock);
	return 0;
}

/* One request: pick, lock, check, hold, maybe downgrade, unlock. */
static void mmscale_rs_one(struct mmscale_rs_worker *w)
{
	struct mmscale_rs_run *run = w->run;
	bool write = prandom_u32_state(&w->rnd) % 100 < run->write_pct;
	unsigned long start, end;
	struct range_lock lock;

	mmscale_rs_pick(w, &lock, &start, &end);
	if (mmscale_rs_lock(w, &lock, write))
		return;

	mmscale_rs_check_in(w, start, end, write);
	mmscale_rs_hold(w);
	if (write) {
		w->writes++;
		if (prandom_u32_state(&w->rnd) %
		    MMSCALE_RS_DOWNGRADE_ONE_IN == 0) {
			spin_lock(&run->check_lock);
			w->held_write = false;
			spin_unlock(&run->check_lock);
			range_downgrade_write(&run->tree, &lock);
			w->downgrades++;
			write = false;
			mmscale_rs_hold(w);
		}
	} else {
		w->reads++;
	}
	mmscale_rs_check_out(w);

	if (write)
		range_write_unlock(&run->tree, &lock);
	else
		range_read_unlock(&run->tree, &lock);
}

static bool mmscale_rs_should_stop(struct mmscale_rs_run *run)
{
	return READ_ONCE(run->abort) || kthread_should_stop() ||
	       ktime_get_ns() >= run->end_ns;
}

static int mmscale_rs_thread(void *data)
{
	struct mmscale_rs_worker *w = data;
	struct mmscale_rs_run *run = w->run;

	while (!mmscale_rs_should_stop(run)) {
		mmscale_rs_one(w);
		cond_resched();
	}

	mmscale_crew_done(&run->crew);
	return 0;
}

static int mmscale_rs_start(struct mmscale_rs_run *run, unsigned int ms)
{
	int ret;

	ret = mmscale_crew_create(&run->crew, run->nr_workers,
				  mmscale_rs_thread, run->workers,
				  sizeof(run->workers[0]), "mmscale_rs");
	if (ret)
		return ret;
	run->end_ns = ktime_get_ns() + (u64)ms * NSEC_PER_MSEC;
	mmscale_crew_wake(&run->crew);
	return 0;
}

static u64 mmscale_rs_rate(u64 n, u64 ns)
{
	return ns ? mul_u64_u64_div_u64(n, NSEC_PER_SEC, ns) : 0;
}

static int mmscale_rs_run(struct mmscale_range_stress *s)
{
	u64 reads = 0, writes = 0, downgrades = 0, try_failures = 0;
	u64 interrupted = 0, violations = 0, start_ns, ns;
	struct mmscale_rs_run *run;
	unsigned int i;
	int ret;

	run = kvzalloc(struct_size(run, workers, s->nr_threads), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	range_lock_tree_init(&run->tree);
	spin_lock_init(&run->check_lock);
	/* Only matters where unsigned long is narrower than the ABI. */
	run->space = min_t(u64, s->space, ULONG_MAX);
	run->write_pct = s->write_pct;
	run->nr_workers = s->nr_threads;
	for (i = 0; i < run->nr_workers; i++) {
		run->workers[i].run = run;
		prandom_seed_state(&run->workers[i].rnd, s->seed + i);
	}

	start_ns = ktime_get_ns();
	ret = mmscale_rs_start(run, s->duration_ms);
	if (!ret) {
		ret = mmscale_crew_wait(&run->crew);
		if (ret)	/* killed: make the workers give up early */
			WRITE_ONCE(run->abort, true);
	}
	mmscale_crew_stop(&run->crew);
	ns = ktime_get_ns() - start_ns;

	for (i = 0; i < run->nr_workers; i++) {
		struct mmscale_rs_worker *w = &run->workers[i];

		reads += w->reads;
		writes += w->writes;
		downgrades += w->downgrades;
		try_failures += w->try_failures;
		interrupted += w->interrupted;
		violations += w->violations;
	}
	/* Every slot is empty and the tree with it: nothing to tear down. */
	kvfree(run);

	s->acquisitions = reads + writes;
	s->violations = violations;
	pr_info("range_stress: %u threads, %llu ms, space %#llx, %u%% write, seed %#llx%s\n",
		s->nr_threads, div_u64(ns, NSEC_PER_MSEC), s->space, s->write_pct,
		s->seed, ret ? " (aborted)" : "");
	pr_info("range_stress: %llu acquisitions (%llu/s), %llu read (%llu/s), %llu write (%llu/s), %llu downgraded\n",
		s->acquisitions, mmscale_rs_rate(s->acquisitions, ns),
		reads, mmscale_rs_rate(reads, ns),
		writes, mmscale_rs_rate(writes, ns), downgrades);
	pr_info("range_stress: %llu trylock failures, %llu interrupted, %llu violations\n",
		try_failures, interrupted, violations);

	return ret;
}

#else /* !CONFIG_RANGE_LOCK */

static int mmscale_rs_run(struct mmscale_range_stress *s)
{
	return -EOPNOTSUPP;
}

#endif /* CONFIG_RANGE_LOCK */

long mmscale_ioc_range_stress(struct mmscale_range_stress __user *uarg)
{
	struct mmscale_range_stress s;
	int ret;

	if (copy_from_user(&s, uarg, sizeof(s)))
		return -EFAULT;
	if (!s.nr_threads || s.nr_threads > MMSCALE_STRESS_MAX_THREADS ||
	    !s.duration_ms || s.duration_ms > MMSCALE_STRESS_MAX_MS ||
	    s.write_pct > 100 || s.space < 2 || s.__reserved)
		return -EINVAL;

	ret = mmscale_rs_run(&s);
	if (!ret && copy_to_user(uarg, &s, sizeof(s)))
		ret = -EFAULT;
	return ret;
}
