/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * mmscale test module: user/kernel interface.
 *
 * The module creates /sys/kernel/debug/mmscale/ctl.  Every operation is one
 * ioctl on that file with one of the structures below.  Bad arguments get
 * -EINVAL; an operation the running kernel cannot do gets -EOPNOTSUPP so
 * that a test can skip rather than fail.  All times are CLOCK_MONOTONIC
 * nanoseconds (ktime_get_ns()), so that user space can correlate them with
 * clock_gettime(CLOCK_MONOTONIC).
 *
 * Shared by module/, selftests/ and harness/.
 */
#ifndef MMSCALE_TEST_H
#define MMSCALE_TEST_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MMSCALE_DEBUGFS_CTL	"/sys/kernel/debug/mmscale/ctl"

/* Bits of mmscale_features.features. */
#define MMSCALE_FEAT_GUP		(1ULL << 0)	/* always present */
#define MMSCALE_FEAT_HOLD_MMAP_LOCK	(1ULL << 1)	/* always present */
#define MMSCALE_FEAT_RANGE_LOCK		(1ULL << 2)	/* CONFIG_RANGE_LOCK */
#define MMSCALE_FEAT_MMAP_LOCK_RANGE	(1ULL << 3)	/* CONFIG_MMAP_LOCK_RANGE */
#define MMSCALE_FEAT_SPF		(1ULL << 4)	/* CONFIG_SPECULATIVE_PAGE_FAULT */
#define MMSCALE_FEAT_MMU_NOTIFIER	(1ULL << 5)	/* CONFIG_MMU_NOTIFIER */
#define MMSCALE_FEAT_SPF_VMA_FREE	(1ULL << 6)	/* CONFIG_DEBUG_VM_SPF_FREE */
#define MMSCALE_FEAT_KASAN		(1ULL << 7)	/* CONFIG_KASAN */

struct mmscale_features {
	__u64 features;		/* out: MMSCALE_FEAT_* */
	__u32 version;		/* out: MMSCALE_ABI_VERSION */
	__u32 __reserved;
};

#define MMSCALE_ABI_VERSION	1

/* mmscale_gup.op */
enum mmscale_gup_op {
	MMSCALE_GUP_REMOTE = 0,		/* get_user_pages_remote() */
	MMSCALE_PIN = 1,		/* pin_user_pages_remote() */
	MMSCALE_PIN_LONGTERM = 2,	/* pin_user_pages_remote(FOLL_LONGTERM) */
	MMSCALE_FIXUP_USER_FAULT = 3,	/* fixup_user_fault() per page */
	MMSCALE_HANDLE_MM_FAULT = 4,	/* handle_mm_fault() per page */
	MMSCALE_GUP_OP_MAX,
};

/* mmscale_gup.flags */
#define MMSCALE_GUP_WRITE	(1U << 0)	/* FOLL_WRITE / FAULT_FLAG_WRITE */
#define MMSCALE_GUP_VERIFY	(1U << 1)	/* check the pattern in each page */

/*
 * Drive one of the operations above over [addr, addr + size) of the mm of
 * process @pid (0: the caller), from @nr_threads kernel threads that split
 * the range page by page, @loops times over.  With MMSCALE_GUP_VERIFY each
 * page reached must hold the 64-bit words mmscale_pattern(seed, address)
 * (see below) or be entirely zero (a page the user side dropped with
 * MADV_DONTNEED or replaced meanwhile); anything else counts as a mismatch.
 * A page that is not mapped (any more) counts as an error, not a failure
 * of the operation: racing tests expect some.
 */
struct mmscale_gup {
	__u64 addr;		/* in: page aligned */
	__u64 size;		/* in: page multiple, at most 1 GiB */
	__u64 seed;		/* in: pattern seed for MMSCALE_GUP_VERIFY */
	__u32 op;		/* in: enum mmscale_gup_op */
	__u32 flags;		/* in: MMSCALE_GUP_* */
	__s32 pid;		/* in: 0 for the calling process */
	__u32 nr_threads;	/* in: 1..64 */
	__u32 loops;		/* in: 1.. */
	__u32 __reserved;
	__u64 pages_done;	/* out: pages successfully handled */
	__u64 retries;		/* out: VM_FAULT_RETRY / -EAGAIN seen */
	__u64 errors;		/* out: pages that could not be reached */
	__u64 mismatches;	/* out: pages whose contents were wrong */
	__u64 elapsed_ns;	/* out */
};

/*
 * The word stored at user address @addr (8-byte aligned) for @seed.
 * Never zero, so that a zero page is told apart from a written one.
 */
static inline __u64 mmscale_pattern(__u64 seed, __u64 addr)
{
	__u64 x = (seed ^ addr) * 0x9e3779b97f4a7c15ULL;

	x ^= x >> 29;
	return x | 1;
}

/* mmscale_hold.mode */
enum mmscale_hold_mode {
	MMSCALE_HOLD_WRITE = 0,		/* mmap_write_lock() */
	MMSCALE_HOLD_READ = 1,		/* mmap_read_lock() */
	MMSCALE_HOLD_RANGE_WRITE = 2,	/* mmap_write_range_lock() of [start, end) */
	MMSCALE_HOLD_RANGE_READ = 3,	/* mmap_read_range_lock() of [start, end) */
	MMSCALE_HOLD_MODE_MAX,
};

/*
 * Take the mmap_lock of process @pid (0: the caller) in @mode and hold it
 * for @hold_ms milliseconds, in the calling thread.  Returns when it has
 * been released.  Ranged modes are -EOPNOTSUPP without
 * CONFIG_MMAP_LOCK_RANGE.
 */
struct mmscale_hold {
	__u32 mode;		/* in: enum mmscale_hold_mode */
	__u32 hold_ms;		/* in: 1..10000 */
	__s32 pid;		/* in: 0 for the calling process */
	__u32 __reserved;
	__u64 start;		/* in: ranged modes only */
	__u64 end;		/* in: ranged modes only, > start */
	__u64 acquire_ns;	/* out: when the lock was taken */
	__u64 release_ns;	/* out: when it was released */
};

/*
 * range_lock stress: @nr_threads kthreads lock random ranges of
 * [0, @space) for @duration_ms, a fraction @write_pct of them for write,
 * and check each acquisition against an independent overlap checker.
 * -EOPNOTSUPP without CONFIG_RANGE_LOCK.
 */
struct mmscale_range_stress {
	__u32 nr_threads;	/* in: 1..64 */
	__u32 duration_ms;	/* in: 1..60000 */
	__u32 write_pct;	/* in: 0..100 */
	__u32 __reserved;
	__u64 space;		/* in: size of the locked space, >= 2 */
	__u64 seed;		/* in */
	__u64 acquisitions;	/* out */
	__u64 violations;	/* out: must be 0 */
};

/* mmscale_lock_bench.lock */
enum mmscale_lock_bench_lock {
	MMSCALE_LB_RWSEM = 0,		/* an rw_semaphore */
	MMSCALE_LB_RANGE_FULL = 1,	/* range_lock_init_full() requests */
	MMSCALE_LB_RANGE_DISJOINT = 2,	/* range lock, one page per thread */
	MMSCALE_LB_LOCK_MAX,
};

/*
 * Lock microbenchmark: @nr_threads kthreads lock and unlock one lock of
 * kind @lock (for write if @write) in a loop for @duration_ms, each hold
 * busy for @hold_ns.  One thread measures the uncontended cost of a
 * lock+unlock pair (@ns / @ops), more measure throughput under contention.
 * The range lock kinds are -EOPNOTSUPP without CONFIG_RANGE_LOCK.
 */
struct mmscale_lock_bench {
	__u32 lock;		/* in: enum mmscale_lock_bench_lock */
	__u32 write;		/* in: 0 read, 1 write */
	__u32 nr_threads;	/* in: 1..64 */
	__u32 duration_ms;	/* in: 1..60000 */
	__u32 hold_ns;		/* in: 0..100000 */
	__u32 __reserved;
	__u64 ops;		/* out: lock+unlock pairs, all threads */
	__u64 ns;		/* out: wall time of the run */
};

/* MMSCALE_IOC_WARN argument: must be this magic, to avoid accidents. */
#define MMSCALE_WARN_MAGIC	0x5741524eU	/* "WARN" */

/*
 * The lockdep self-test of speculative page faults: mark the VMA at @addr
 * of the caller's mm for a change (vma_spf_write_begin()) while holding
 * the PMD lock of @addr.  A speculative fault that installs a PTE table
 * takes that lock while it carries the VMA's busy bias, which
 * vma_spf_write_begin() waits for, so this is a lock order inversion
 * that lockdep must report once it has seen such a fault (and after
 * which it switches itself off: run it last).  @addr must be mapped by a
 * PTE table (not a huge page) in a private anonymous VMA.  @magic must be
 * MMSCALE_WARN_MAGIC.  -EOPNOTSUPP without CONFIG_SPECULATIVE_PAGE_FAULT,
 * -ENOENT if @addr has no PTE table, -EINVAL for any other bad argument.
 */
struct mmscale_spf_inversion {
	__u64 addr;		/* in: page aligned */
	__u32 magic;		/* in: MMSCALE_WARN_MAGIC */
	__u32 __reserved;
};

/*
 * The KASAN self-test of CONFIG_DEBUG_VM_SPF_FREE: find the VMA that
 * starts at @addr in the caller's mm, unmap all of it, wait for pending
 * RCU callbacks (rcu_barrier()) and read the VMA's vm_start through the
 * pointer kept from before, a use after free as a speculative fault that
 * forgot its reference would commit it.  With spf_vma_free=rcu (the
 * default of that option) the VMA was freed into a cache that KASAN
 * watches, and KASAN must report the read (after which it reports
 * nothing more: run it last).  Do not use it with spf_vma_free=typesafe
 * (check /sys/kernel/slab/vm_area_struct/destroy_by_rcu first): the read
 * would then go unseen.  @start returns what the read found.  @magic must
 * be MMSCALE_WARN_MAGIC.  -EOPNOTSUPP without CONFIG_DEBUG_VM_SPF_FREE,
 * -EINVAL for a bad argument or if no VMA starts at @addr.
 */
struct mmscale_stale_vma {
	__u64 addr;		/* in: the start of a VMA */
	__u32 magic;		/* in: MMSCALE_WARN_MAGIC */
	__u32 __reserved;
	__u64 start;		/* out: vm_start read after the free */
};

/* mmscale_notifier.op */
enum mmscale_notifier_op {
	MMSCALE_NOTIFIER_REGISTER = 0,
	MMSCALE_NOTIFIER_UNREGISTER = 1,
	MMSCALE_NOTIFIER_OP_MAX,
};

/*
 * Register an MMU notifier on the caller's mm that counts the
 * invalidations delivered to it, or unregister it and report the counts.
 * The notifier belongs to the open file (one at a time); closing the file
 * unregisters it.  -EOPNOTSUPP without CONFIG_MMU_NOTIFIER, -EBUSY for a
 * second registration, -ENOENT to unregister none, -EINVAL for a bad @op
 * or a non-zero @__reserved.
 */
struct mmscale_notifier {
	__u32 op;		/* in: enum mmscale_notifier_op */
	__u32 __reserved;
	__u64 starts;		/* out: invalidate_range_start() calls */
	__u64 ends;		/* out: invalidate_range_end() calls */
	__u64 unmatched;	/* out: ends while none was open: must be 0 */
	__u64 strays;		/* out: ->invalidate_range() calls of one
				 * page while none was open: 0 unless a
				 * PTE changed unseen (always 0 on 6.6+)
				 */
};

#define MMSCALE_IOC_MAGIC	'M'
#define MMSCALE_IOC_FEATURES	_IOR(MMSCALE_IOC_MAGIC, 0, struct mmscale_features)
#define MMSCALE_IOC_GUP		_IOWR(MMSCALE_IOC_MAGIC, 1, struct mmscale_gup)
#define MMSCALE_IOC_HOLD	_IOWR(MMSCALE_IOC_MAGIC, 2, struct mmscale_hold)
#define MMSCALE_IOC_RANGE_STRESS _IOWR(MMSCALE_IOC_MAGIC, 3, struct mmscale_range_stress)
#define MMSCALE_IOC_WARN	_IOW(MMSCALE_IOC_MAGIC, 4, __u32)
#define MMSCALE_IOC_LOCK_BENCH	_IOWR(MMSCALE_IOC_MAGIC, 5, struct mmscale_lock_bench)
#define MMSCALE_IOC_SPF_INVERSION _IOW(MMSCALE_IOC_MAGIC, 6, struct mmscale_spf_inversion)
#define MMSCALE_IOC_NOTIFIER	_IOWR(MMSCALE_IOC_MAGIC, 7, struct mmscale_notifier)
#define MMSCALE_IOC_STALE_VMA	_IOWR(MMSCALE_IOC_MAGIC, 8, struct mmscale_stale_vma)

#endif /* MMSCALE_TEST_H */
