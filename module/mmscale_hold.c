// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: hold mmap_lock of a process on demand.
 *
 * MMSCALE_IOC_HOLD is how the tests show that a page fault makes progress
 * (or, without speculative page faults, does not) while another thread
 * holds mmap_lock.  acquire_ns is taken after the lock was acquired and
 * release_ns before it is released, so [acquire_ns, release_ns] lies within
 * the time it was held: a fault that completed in that interval provably
 * did not wait for the lock.
 *
 * While the lock is held nothing here may touch user memory: a fault on
 * the caller's own mm would deadlock against the lock held.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/jiffies.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "mmscale_internal.h"

#define MMSCALE_HOLD_MAX_MS		10000

/* Sleep for @ms or until the task is killed. */
static int mmscale_sleep_killable(unsigned int ms)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(ms);

	while (time_before(jiffies, deadline)) {
		if (fatal_signal_pending(current))
			return -EINTR;
		schedule_timeout_killable(deadline - jiffies);
	}
	return 0;
}

/* What a hold needs to be released: the range of a ranged one. */
struct mmscale_held {
#ifdef CONFIG_MMAP_LOCK_RANGE
	struct mmap_range range;
#endif
};

static bool mmscale_hold_ranged(u32 mode)
{
	return mode == MMSCALE_HOLD_RANGE_WRITE ||
	       mode == MMSCALE_HOLD_RANGE_READ;
}

#ifdef CONFIG_MMAP_LOCK_RANGE
static int mmscale_lock(struct mm_struct *mm, const struct mmscale_hold *h,
			struct mmscale_held *held)
{
	int ret;

	switch (h->mode) {
	case MMSCALE_HOLD_WRITE:
		return mmap_write_lock_killable(mm);
	case MMSCALE_HOLD_READ:
		return mmap_read_lock_killable(mm);
	}

	/* Checked by the caller; user addresses fit in unsigned long. */
	ret = mmap_range_init(&held->range, h->start, h->end);
	if (ret)
		return ret;
	if (h->mode == MMSCALE_HOLD_RANGE_WRITE)
		return mmap_write_range_lock_killable(mm, &held->range);
	return mmap_read_range_lock_killable(mm, &held->range);
}

static void mmscale_unlock(struct mm_struct *mm, const struct mmscale_hold *h,
			   struct mmscale_held *held)
{
	switch (h->mode) {
	case MMSCALE_HOLD_WRITE:
		mmap_write_unlock(mm);
		break;
	case MMSCALE_HOLD_READ:
		mmap_read_unlock(mm);
		break;
	case MMSCALE_HOLD_RANGE_WRITE:
		mmap_write_range_unlock(mm, &held->range);
		break;
	default:
		mmap_read_range_unlock(mm, &held->range);
		break;
	}
}
#else
static int mmscale_lock(struct mm_struct *mm, const struct mmscale_hold *h,
			struct mmscale_held *held)
{
	if (h->mode == MMSCALE_HOLD_WRITE)
		return mmap_write_lock_killable(mm);
	return mmap_read_lock_killable(mm);
}

static void mmscale_unlock(struct mm_struct *mm, const struct mmscale_hold *h,
			   struct mmscale_held *held)
{
	if (h->mode == MMSCALE_HOLD_WRITE)
		mmap_write_unlock(mm);
	else
		mmap_read_unlock(mm);
}
#endif

long mmscale_ioc_hold(struct mmscale_hold __user *uarg)
{
	struct mmscale_held held;
	struct mmscale_hold h;
	struct mm_struct *mm;
	int ret;

	if (copy_from_user(&h, uarg, sizeof(h)))
		return -EFAULT;
	if (h.mode >= MMSCALE_HOLD_MODE_MAX || !h.hold_ms ||
	    h.hold_ms > MMSCALE_HOLD_MAX_MS || h.pid < 0 || h.__reserved)
		return -EINVAL;
	if (mmscale_hold_ranged(h.mode)) {
		if (h.start >= h.end || h.end > TASK_SIZE_MAX)
			return -EINVAL;
		if (!IS_ENABLED(CONFIG_MMAP_LOCK_RANGE))
			return -EOPNOTSUPP;
	}

	mm = mmscale_get_mm(h.pid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);

	ret = mmscale_lock(mm, &h, &held);
	if (ret)
		goto out_mmput;
	h.acquire_ns = ktime_get_ns();
	ret = mmscale_sleep_killable(h.hold_ms);
	h.release_ns = ktime_get_ns();
	mmscale_unlock(mm, &h, &held);

	if (!ret && copy_to_user(uarg, &h, sizeof(h)))
		ret = -EFAULT;
out_mmput:
	mmput(mm);
	return ret;
}
