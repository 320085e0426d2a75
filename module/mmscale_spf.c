// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: the lockdep self-test of speculative page faults.
 *
 * A writer that marks a VMA with vma_spf_write_begin() waits, spinning,
 * until no speculative fault carries the VMA's busy bias; a fault carries
 * it while it installs a page table under the PMD (or PUD) lock and while
 * it commits under the PTE lock.  So a writer that marked a VMA while it
 * held one of those locks could wait forever for a fault that waits for
 * it.  The series makes the bias a lockdep map (vma_spf_busy), so that
 * lockdep reports such a writer instead of a hang that needs the race to
 * show.  MMSCALE_IOC_SPF_INVERSION commits exactly that mistake, without
 * a racing fault, so that the test runner can check the report appears.
 *
 * The lock it holds is the PMD lock, the one a fault takes to install a
 * PTE table.  Not the PTE lock: split page-table locks get their lockdep
 * class where their table is constructed (ptlock_init() is inline), so
 * PTE and PMD locks are different classes, and the commit under the PTE
 * lock takes the bias after the lock, the harmless order.
 *
 * MMSCALE_IOC_STALE_VMA is the KASAN self-test of CONFIG_DEBUG_VM_SPF_FREE,
 * which frees VMAs after an RCU grace period rather than into a
 * SLAB_TYPESAFE_BY_RCU cache that KASAN cannot watch: it reads a VMA
 * after munmap() freed it, as a speculative fault that went on without
 * its reference would, and KASAN must report that.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/pgtable.h>
#include <linux/sched/mm.h>
#include <linux/uaccess.h>

#include "mmscale_internal.h"

#ifdef CONFIG_SPECULATIVE_PAGE_FAULT
/* The PMD entry mapping @addr if it points to a PTE table, else NULL. */
static pmd_t *mmscale_pte_table(struct mm_struct *mm, unsigned long addr)
{
	pgd_t *pgd = pgd_offset(mm, addr);
	p4d_t *p4d;
	pud_t *pud;
	pmd_t *pmd;
	pmd_t val;

	if (pgd_none(*pgd) || pgd_bad(*pgd))
		return NULL;
	p4d = p4d_offset(pgd, addr);
	if (p4d_none(*p4d) || p4d_bad(*p4d))
		return NULL;
	pud = pud_offset(p4d, addr);
	if (pud_none(*pud) || pud_bad(*pud))
		return NULL;
	pmd = pmd_offset(pud, addr);
	val = READ_ONCE(*pmd);
	if (pmd_none(val) || pmd_trans_huge(val) || pmd_bad(val))
		return NULL;
	return pmd;
}

long mmscale_ioc_spf_inversion(struct mmscale_spf_inversion __user *uarg)
{
	struct mmscale_spf_inversion arg;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	spinlock_t *ptl;	/* the PMD lock of arg.addr */
	pmd_t *pmd;
	long ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.magic != MMSCALE_WARN_MAGIC || arg.__reserved ||
	    !PAGE_ALIGNED(arg.addr) || arg.addr >= TASK_SIZE || !mm)
		return -EINVAL;

	mmap_write_lock(mm);
	vma = vma_lookup(mm, arg.addr);
	if (!vma || !vma_is_anonymous(vma) || (vma->vm_flags & VM_SHARED)) {
		ret = -EINVAL;
		goto out;
	}
	pmd = mmscale_pte_table(mm, arg.addr);
	if (!pmd) {
		ret = -ENOENT;
		goto out;
	}
	ptl = pmd_lock(mm, pmd);
	pr_info("marking a VMA under its PMD lock: lockdep must report this\n");
	vma_spf_write_begin(vma);
	spin_unlock(ptl);
out:
	mmap_write_unlock(mm);
	return ret;
}
#else
long mmscale_ioc_spf_inversion(struct mmscale_spf_inversion __user *uarg)
{
	return -EOPNOTSUPP;
}
#endif

#ifdef CONFIG_DEBUG_VM_SPF_FREE
long mmscale_ioc_stale_vma(struct mmscale_stale_vma __user *uarg)
{
	struct mmscale_stale_vma arg;
	struct mm_struct *mm = current->mm;
	struct vm_area_struct *vma;
	unsigned long len;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.magic != MMSCALE_WARN_MAGIC || arg.__reserved ||
	    !PAGE_ALIGNED(arg.addr) || arg.addr >= TASK_SIZE || !mm)
		return -EINVAL;

	mmap_read_lock(mm);
	vma = vma_lookup(mm, arg.addr);
	if (!vma || vma->vm_start != arg.addr) {
		mmap_read_unlock(mm);
		return -EINVAL;
	}
	len = vma->vm_end - vma->vm_start;
	mmap_read_unlock(mm);

	/* Frees the VMA, unless another thread changed it meanwhile. */
	ret = vm_munmap(arg.addr, len);
	if (ret)
		return ret;
	/* vm_area_put() freed it with call_rcu(): let that run. */
	rcu_barrier();
	pr_info("reading a freed VMA: KASAN must report this\n");
	arg.start = READ_ONCE(vma->vm_start);

	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}
#else
long mmscale_ioc_stale_vma(struct mmscale_stale_vma __user *uarg)
{
	return -EOPNOTSUPP;
}
#endif
