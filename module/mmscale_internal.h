/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmscale test module: declarations shared by its source files.
 */
#ifndef MMSCALE_INTERNAL_H
#define MMSCALE_INTERNAL_H

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/compiler.h>
#include <linux/fs.h>
#include <linux/mm_types.h>

#include "mmscale_compat.h"
#include "mmscale_test.h"

struct mm_struct *mmscale_get_mm(pid_t nr);

/* Kernel threads that run one operation together (mmscale_crew.c). */
struct mmscale_crew {
	struct task_struct **tasks;
	unsigned int nr;
	atomic_t running;		/* threads not yet done */
	struct completion done;		/* running dropped to zero */
};

int mmscale_crew_create(struct mmscale_crew *crew, unsigned int nr,
			int (*fn)(void *), void *args, size_t size,
			const char *name);
void mmscale_crew_wake(struct mmscale_crew *crew);
void mmscale_crew_done(struct mmscale_crew *crew);
int mmscale_crew_wait(struct mmscale_crew *crew);
void mmscale_crew_stop(struct mmscale_crew *crew);

long mmscale_ioc_gup(struct mmscale_gup __user *uarg);
long mmscale_ioc_hold(struct mmscale_hold __user *uarg);
long mmscale_ioc_range_stress(struct mmscale_range_stress __user *uarg);
long mmscale_ioc_lock_bench(struct mmscale_lock_bench __user *uarg);
long mmscale_ioc_spf_inversion(struct mmscale_spf_inversion __user *uarg);
long mmscale_ioc_stale_vma(struct mmscale_stale_vma __user *uarg);
long mmscale_ioc_notifier(struct file *file,
			  struct mmscale_notifier __user *uarg);
void mmscale_notifier_release(struct file *file);

#endif /* MMSCALE_INTERNAL_H */
