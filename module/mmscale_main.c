// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: debugfs interface.
 *
 * /sys/kernel/debug/mmscale/ctl takes the ioctls of mmscale_test.h.  Each
 * operation runs in the context of the calling thread (plus, for GUP, kernel
 * threads that it waits for), so the module keeps no state between calls
 * and unloading it only has to remove the debugfs directory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bug.h>
#include <linux/debugfs.h>
#include <linux/err.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/sched/task.h>
#include <linux/uaccess.h>

#include "mmscale_internal.h"

static struct dentry *mmscale_dir;

/**
 * mmscale_get_mm - take a reference on the address space of a process
 * @nr: pid in the caller's pid namespace, 0 for the caller itself
 *
 * Return: the mm with mm_users raised (release it with mmput()), or an
 * ERR_PTR: -EINVAL for a negative pid, -ESRCH when there is no such process
 * or it has no address space (a kernel thread, or one that is exiting).
 */
struct mm_struct *mmscale_get_mm(pid_t nr)
{
	struct task_struct *task;
	struct mm_struct *mm;
	struct pid *pid;

	if (nr < 0)
		return ERR_PTR(-EINVAL);
	if (!nr)
		return get_task_mm(current) ?: ERR_PTR(-ESRCH);

	pid = find_get_pid(nr);
	if (!pid)
		return ERR_PTR(-ESRCH);
	task = get_pid_task(pid, PIDTYPE_PID);
	put_pid(pid);
	if (!task)
		return ERR_PTR(-ESRCH);
	mm = get_task_mm(task);
	put_task_struct(task);

	return mm ?: ERR_PTR(-ESRCH);
}

static long mmscale_ioc_features(struct mmscale_features __user *uarg)
{
	struct mmscale_features f = {
		.features = MMSCALE_FEAT_GUP | MMSCALE_FEAT_HOLD_MMAP_LOCK,
		.version = MMSCALE_ABI_VERSION,
	};

#ifdef CONFIG_RANGE_LOCK
	f.features |= MMSCALE_FEAT_RANGE_LOCK;
#endif
#ifdef CONFIG_MMAP_LOCK_RANGE
	f.features |= MMSCALE_FEAT_MMAP_LOCK_RANGE;
#endif
#ifdef CONFIG_SPECULATIVE_PAGE_FAULT
	f.features |= MMSCALE_FEAT_SPF;
#endif
#ifdef CONFIG_MMU_NOTIFIER
	f.features |= MMSCALE_FEAT_MMU_NOTIFIER;
#endif
#ifdef CONFIG_DEBUG_VM_SPF_FREE
	f.features |= MMSCALE_FEAT_SPF_VMA_FREE;
#endif
#ifdef CONFIG_KASAN
	f.features |= MMSCALE_FEAT_KASAN;
#endif

	return copy_to_user(uarg, &f, sizeof(f)) ? -EFAULT : 0;
}

/*
 * The splat scanner of the test runner checks itself with this: it must see
 * the warning in the kernel log, or it cannot be trusted to see real ones.
 */
static long mmscale_ioc_warn(u32 __user *uarg)
{
	u32 magic;

	if (get_user(magic, uarg))
		return -EFAULT;
	if (magic != MMSCALE_WARN_MAGIC)
		return -EINVAL;

	WARN_ONCE(1, "mmscale_test: deliberate warning requested by user space\n");
	return 0;
}

static long mmscale_ctl_ioctl(struct file *file, unsigned int cmd,
			      unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case MMSCALE_IOC_FEATURES:
		return mmscale_ioc_features(uarg);
	case MMSCALE_IOC_GUP:
		return mmscale_ioc_gup(uarg);
	case MMSCALE_IOC_HOLD:
		return mmscale_ioc_hold(uarg);
	case MMSCALE_IOC_RANGE_STRESS:
		return mmscale_ioc_range_stress(uarg);
	case MMSCALE_IOC_WARN:
		return mmscale_ioc_warn(uarg);
	case MMSCALE_IOC_LOCK_BENCH:
		return mmscale_ioc_lock_bench(uarg);
	case MMSCALE_IOC_SPF_INVERSION:
		return mmscale_ioc_spf_inversion(uarg);
	case MMSCALE_IOC_NOTIFIER:
		return mmscale_ioc_notifier(file, uarg);
	case MMSCALE_IOC_STALE_VMA:
		return mmscale_ioc_stale_vma(uarg);
	default:
		return -ENOTTY;
	}
}

static int mmscale_ctl_release(struct inode *inode, struct file *file)
{
	mmscale_notifier_release(file);
	return 0;
}

static const struct file_operations mmscale_ctl_fops = {
	.owner		= THIS_MODULE,
	.open		= nonseekable_open,
	.release	= mmscale_ctl_release,
	.unlocked_ioctl	= mmscale_ctl_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
};

static int __init mmscale_init(void)
{
	struct dentry *ctl;

	mmscale_dir = debugfs_create_dir("mmscale", NULL);
	ctl = debugfs_create_file("ctl", 0600, mmscale_dir, NULL,
				  &mmscale_ctl_fops);
	if (IS_ERR(ctl)) {
		/* Without its control file the module is of no use. */
		debugfs_remove(mmscale_dir);
		return PTR_ERR(ctl);
	}

	return 0;
}

static void __exit mmscale_exit(void)
{
	debugfs_remove(mmscale_dir);
}

module_init(mmscale_init);
module_exit(mmscale_exit);

MODULE_DESCRIPTION("mmscale: mmap_lock scalability test driver");
MODULE_LICENSE("GPL");
