// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: an MMU notifier that checks its invalidations pair up.
 *
 * A secondary MMU (KVM, an HMM mirror, an IOMMU sharing the process's
 * page tables) learns from invalidate_range_start() that it must stop
 * using a range, and from invalidate_range_end() that it may map it
 * again.  KVM counts the invalidations in flight: an end whose start it
 * never saw takes that count below zero, and its guest page faults then
 * retry forever.  So every end delivered to a notifier must follow a
 * start delivered to it.
 *
 * Classic page faults hold mmap_lock, and mmu_notifier_register() takes
 * it for write, so no notifier appears in the middle of a fault.  A
 * speculative page fault holds no mmap_lock: had it started an
 * invalidation before a notifier was registered, it would end it after.
 * The series has a speculative fault start none, and abort when the mm
 * has notifiers (counted as spf_abort_notifier).
 *
 * A copy-on-write fault replaces its PTE with ptep_clear_flush_notify(),
 * which calls ->invalidate_range() for that one page, inside such a pair.
 * A one-page ->invalidate_range() while no invalidation is open (a stray)
 * is a PTE change whose start the notifier never saw, as a speculative
 * copy-on-write fault that committed while a notifier was registered
 * would make.  Larger ranges are left alone: a zap (MADV_DONTNEED,
 * munmap) flushes its TLB batch, and calls ->invalidate_range() for all
 * the pages it zapped, after its invalidate_range_end() (tlb_finish_mmu()).
 *
 * MMSCALE_IOC_NOTIFIER registers a notifier on the caller's mm that
 * counts the starts, the ends, the ends that came while no invalidation
 * was open, and the strays (kernels before 6.6 only, see
 * mmscale_compat.h); the tests register and unregister it while other
 * threads fault.  The notifier belongs to the open file, and
 * closing the file unregisters it.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "mmscale_compat.h"
#include "mmscale_internal.h"

#ifdef CONFIG_MMU_NOTIFIER
struct mmscale_notifier_sub {
	struct mmu_notifier mn;
	atomic_long_t open;		/* invalidations started, not ended */
	atomic64_t starts;
	atomic64_t ends;
	atomic64_t unmatched;		/* ends that found none open */
	atomic64_t strays;		/* one-page ->invalidate_range(), none open */
};

/* Serialises the changes of file->private_data. */
static DEFINE_MUTEX(mmscale_notifier_mutex);

static struct mmscale_notifier_sub *to_sub(struct mmu_notifier *mn)
{
	return container_of(mn, struct mmscale_notifier_sub, mn);
}

static int mmscale_mn_start(struct mmu_notifier *mn,
			    const struct mmu_notifier_range *range)
{
	struct mmscale_notifier_sub *sub = to_sub(mn);

	atomic64_inc(&sub->starts);
	atomic_long_inc(&sub->open);
	return 0;
}

static void mmscale_mn_end(struct mmu_notifier *mn,
			   const struct mmu_notifier_range *range)
{
	struct mmscale_notifier_sub *sub = to_sub(mn);

	atomic64_inc(&sub->ends);
	if (!atomic_long_add_unless(&sub->open, -1, 0))
		atomic64_inc(&sub->unmatched);
}

#ifdef MMSCALE_MN_INVALIDATE_RANGE
static void mmscale_mn_range(struct mmu_notifier *mn, struct mm_struct *mm,
			     unsigned long start, unsigned long end)
{
	struct mmscale_notifier_sub *sub = to_sub(mn);

	if (end - start == PAGE_SIZE && !atomic_long_read(&sub->open))
		atomic64_inc(&sub->strays);
}
#endif

static const struct mmu_notifier_ops mmscale_mn_ops = {
	.invalidate_range_start	= mmscale_mn_start,
	.invalidate_range_end	= mmscale_mn_end,
#ifdef MMSCALE_MN_INVALIDATE_RANGE
	.invalidate_range	= mmscale_mn_range,
#endif
};

static int mmscale_notifier_register(struct file *file)
{
	struct mmscale_notifier_sub *sub;
	int ret;

	if (!current->mm)
		return -EINVAL;
	if (file->private_data)
		return -EBUSY;
	sub = kzalloc(sizeof(*sub), GFP_KERNEL);
	if (!sub)
		return -ENOMEM;
	sub->mn.ops = &mmscale_mn_ops;
	ret = mmu_notifier_register(&sub->mn, current->mm);
	if (ret) {
		kfree(sub);
		return ret;
	}
	file->private_data = sub;
	return 0;
}

/* Unregister the notifier of @file, if any, with its counts in @n. */
static int mmscale_notifier_unregister(struct file *file,
				       struct mmscale_notifier *n)
{
	struct mmscale_notifier_sub *sub = file->private_data;

	if (!sub)
		return -ENOENT;
	/* No callback runs once this returns. */
	mmu_notifier_unregister(&sub->mn, sub->mn.mm);
	file->private_data = NULL;
	if (n) {
		n->starts = atomic64_read(&sub->starts);
		n->ends = atomic64_read(&sub->ends);
		n->unmatched = atomic64_read(&sub->unmatched);
		n->strays = atomic64_read(&sub->strays);
	}
	kfree(sub);
	return 0;
}

long mmscale_ioc_notifier(struct file *file,
			  struct mmscale_notifier __user *uarg)
{
	struct mmscale_notifier n;
	long ret;

	if (copy_from_user(&n, uarg, sizeof(n)))
		return -EFAULT;
	if (n.op >= MMSCALE_NOTIFIER_OP_MAX || n.__reserved)
		return -EINVAL;

	mutex_lock(&mmscale_notifier_mutex);
	if (n.op == MMSCALE_NOTIFIER_REGISTER)
		ret = mmscale_notifier_register(file);
	else
		ret = mmscale_notifier_unregister(file, &n);
	mutex_unlock(&mmscale_notifier_mutex);
	if (ret)
		return ret;

	return copy_to_user(uarg, &n, sizeof(n)) ? -EFAULT : 0;
}

void mmscale_notifier_release(struct file *file)
{
	mutex_lock(&mmscale_notifier_mutex);
	mmscale_notifier_unregister(file, NULL);
	mutex_unlock(&mmscale_notifier_mutex);
}
#else /* !CONFIG_MMU_NOTIFIER */
long mmscale_ioc_notifier(struct file *file,
			  struct mmscale_notifier __user *uarg)
{
	return -EOPNOTSUPP;
}

void mmscale_notifier_release(struct file *file)
{
}
#endif /* CONFIG_MMU_NOTIFIER */
