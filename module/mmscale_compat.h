/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmscale test module: what differs between the kernels it is built for.
 *
 * The module is built against 6.1.y (with and without the series) and,
 * for the benchmark's per-VMA lock baseline, against 6.12.y.  This is the
 * one place that knows kernel versions (checkpatch's LINUX_VERSION_CODE
 * warning does not apply to an out-of-tree module and is ignored for
 * this file only, see scripts/check.sh).
 */
#ifndef MMSCALE_COMPAT_H
#define MMSCALE_COMPAT_H

#include <linux/mm.h>
#include <linux/version.h>

/* Since 6.5 the remote GUP calls take no vmas array. */
static inline long mmscale_gup_remote(struct mm_struct *mm, unsigned long addr,
				      unsigned long nr, unsigned int flags,
				      struct page **pages, int *locked)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return get_user_pages_remote(mm, addr, nr, flags, pages, locked);
#else
	return get_user_pages_remote(mm, addr, nr, flags, pages, NULL, locked);
#endif
}

static inline long mmscale_pin_remote(struct mm_struct *mm, unsigned long addr,
				      unsigned long nr, unsigned int flags,
				      struct page **pages, int *locked)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
	return pin_user_pages_remote(mm, addr, nr, flags, pages, locked);
#else
	return pin_user_pages_remote(mm, addr, nr, flags, pages, NULL, locked);
#endif
}

/*
 * Until 6.6, ->invalidate_range() tells a notifier that PTEs of a range
 * changed, between (or at the end of) invalidate_range_start() and
 * invalidate_range_end().  Since then ->arch_invalidate_secondary_tlbs()
 * does, called from the architecture's TLB flushes as well, outside any
 * such pair: the module watches the first only.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 6, 0)
#define MMSCALE_MN_INVALIDATE_RANGE	1
#endif

#endif /* MMSCALE_COMPAT_H */
