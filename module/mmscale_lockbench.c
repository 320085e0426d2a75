// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: lock microbenchmark, range_lock against rwsem.
 *
 * MMSCALE_IOC_LOCK_BENCH runs kernel threads that lock and unlock one lock
 * in a loop until the duration has passed, and counts the pairs.  The lock
 * is an rw_semaphore or a range_lock_tree owned by the call; range requests
 * are either full-range (range_lock_init_full(), which an empty tree serves
 * on its fast path, as mmap_lock would be) or one page per thread, disjoint
 * from every other thread's (always through the tree; they never wait for
 * each other).
 *
 * Inside each hold the thread increments a counter shared by all threads
 * (a cache line that bounces, as the data a lock protects does) and stays
 * busy for hold_ns.  The clock is read once per MMSCALE_LB_BATCH pairs, so
 * that a pair costs what the lock costs.  With one thread, ns / ops is the
 * uncontended cost of a lock+unlock pair.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/math64.h>
#include <linux/overflow.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#ifdef CONFIG_RANGE_LOCK
#include <linux/range_lock.h>
#endif

#include "mmscale_internal.h"

#define MMSCALE_LB_MAX_THREADS	64
#define MMSCALE_LB_MAX_MS	60000
#define MMSCALE_LB_MAX_HOLD_NS	100000
#define MMSCALE_LB_BATCH	64	/* pairs between two clock reads */

struct mmscale_lb_run;

struct mmscale_lb_worker {
	struct mmscale_lb_run *run;
	unsigned int index;
	u64 ops;			/* the worker's own until stopped */
};

struct mmscale_lb_run {
	const struct mmscale_lock_bench *args;
	struct rw_semaphore rwsem;
#ifdef CONFIG_RANGE_LOCK
	struct range_lock_tree tree;
#endif
	unsigned long shared;		/* written inside every hold */
	u64 end_ns;
	bool abort;			/* the caller was killed */
	struct mmscale_crew crew;
	unsigned int nr_workers;
	struct mmscale_lb_worker workers[];
};

static void mmscale_lb_critical(struct mmscale_lb_run *run)
{
	WRITE_ONCE(run->shared, READ_ONCE(run->shared) + 1);
	if (run->args->hold_ns)
		ndelay(run->args->hold_ns);
}

static void mmscale_lb_rwsem_batch(struct mmscale_lb_run *run)
{
	bool write = run->args->write;
	unsigned int i;

	for (i = 0; i < MMSCALE_LB_BATCH; i++) {
		if (write)
			down_write(&run->rwsem);
		else
			down_read(&run->rwsem);
		mmscale_lb_critical(run);
		if (write)
			up_write(&run->rwsem);
		else
			up_read(&run->rwsem);
	}
}

#ifdef CONFIG_RANGE_LOCK
static int mmscale_lb_range_batch(struct mmscale_lb_worker *w)
{
	struct mmscale_lb_run *run = w->run;
	bool write = run->args->write;
	struct range_lock rl;
	unsigned int i;

	if (run->args->lock == MMSCALE_LB_RANGE_FULL) {
		range_lock_init_full(&rl);
	} else {
		unsigned long start = (unsigned long)w->index * PAGE_SIZE;
		int ret = range_lock_init(&rl, start, start + PAGE_SIZE);

		if (ret)
			return ret;
	}
	for (i = 0; i < MMSCALE_LB_BATCH; i++) {
		if (write)
			range_write_lock(&run->tree, &rl);
		else
			range_read_lock(&run->tree, &rl);
		mmscale_lb_critical(run);
		if (write)
			range_write_unlock(&run->tree, &rl);
		else
			range_read_unlock(&run->tree, &rl);
	}
	return 0;
}
#else
static int mmscale_lb_range_batch(struct mmscale_lb_worker *w)
{
	return -EOPNOTSUPP;
}
#endif

static bool mmscale_lb_should_stop(struct mmscale_lb_run *run)
{
	return READ_ONCE(run->abort) || kthread_should_stop() ||
	       ktime_get_ns() >= run->end_ns;
}

static int mmscale_lb_thread(void *data)
{
	struct mmscale_lb_worker *w = data;
	struct mmscale_lb_run *run = w->run;

	/* At least one batch each, however late the thread starts. */
	do {
		if (run->args->lock == MMSCALE_LB_RWSEM)
			mmscale_lb_rwsem_batch(run);
		else if (mmscale_lb_range_batch(w))
			break;
		w->ops += MMSCALE_LB_BATCH;
		cond_resched();
	} while (!mmscale_lb_should_stop(run));

	mmscale_crew_done(&run->crew);
	return 0;
}

static int mmscale_lb_start(struct mmscale_lb_run *run)
{
	int ret;

	ret = mmscale_crew_create(&run->crew, run->nr_workers,
				  mmscale_lb_thread, run->workers,
				  sizeof(run->workers[0]), "mmscale_lb");
	if (ret)
		return ret;
	run->end_ns = ktime_get_ns() +
		      (u64)run->args->duration_ms * NSEC_PER_MSEC;
	mmscale_crew_wake(&run->crew);
	return 0;
}

static const char * const mmscale_lb_names[] = {
	[MMSCALE_LB_RWSEM]		= "rwsem",
	[MMSCALE_LB_RANGE_FULL]		= "range_full",
	[MMSCALE_LB_RANGE_DISJOINT]	= "range_disjoint",
};

static int mmscale_lb_run(struct mmscale_lock_bench *b)
{
	struct mmscale_lb_run *run;
	u64 start_ns, ops = 0;
	unsigned int i;
	int ret;

	run = kvzalloc(struct_size(run, workers, b->nr_threads), GFP_KERNEL);
	if (!run)
		return -ENOMEM;
	run->args = b;
	init_rwsem(&run->rwsem);
#ifdef CONFIG_RANGE_LOCK
	range_lock_tree_init(&run->tree);
#endif
	run->nr_workers = b->nr_threads;
	for (i = 0; i < run->nr_workers; i++) {
		run->workers[i].run = run;
		run->workers[i].index = i;
	}

	start_ns = ktime_get_ns();
	ret = mmscale_lb_start(run);
	if (!ret) {
		ret = mmscale_crew_wait(&run->crew);
		if (ret)	/* killed: make the workers give up early */
			WRITE_ONCE(run->abort, true);
	}
	mmscale_crew_stop(&run->crew);
	b->ns = ktime_get_ns() - start_ns;

	for (i = 0; i < run->nr_workers; i++)
		ops += run->workers[i].ops;
	kvfree(run);

	b->ops = ops;
	pr_info("lock_bench: %s %s, %u threads, hold %u ns: %llu pairs in %llu us (%llu ns per pair per thread)\n",
		mmscale_lb_names[b->lock], b->write ? "write" : "read",
		b->nr_threads, b->hold_ns, ops, div_u64(b->ns, NSEC_PER_USEC),
		ops ? div64_u64(b->ns * b->nr_threads, ops) : 0);
	return ret;
}

long mmscale_ioc_lock_bench(struct mmscale_lock_bench __user *uarg)
{
	struct mmscale_lock_bench b;
	int ret;

	if (copy_from_user(&b, uarg, sizeof(b)))
		return -EFAULT;
	if (b.lock >= MMSCALE_LB_LOCK_MAX || b.write > 1 ||
	    !b.nr_threads || b.nr_threads > MMSCALE_LB_MAX_THREADS ||
	    !b.duration_ms || b.duration_ms > MMSCALE_LB_MAX_MS ||
	    b.hold_ns > MMSCALE_LB_MAX_HOLD_NS || b.__reserved)
		return -EINVAL;
	if (b.lock != MMSCALE_LB_RWSEM && !IS_ENABLED(CONFIG_RANGE_LOCK))
		return -EOPNOTSUPP;

	ret = mmscale_lb_run(&b);
	if (!ret && copy_to_user(uarg, &b, sizeof(b)))
		ret = -EFAULT;
	return ret;
}
