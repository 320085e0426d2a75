// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: drive get_user_pages() and friends against the
 * address space of a user process from kernel threads.
 *
 * MMSCALE_IOC_GUP splits [addr, addr + size) into one contiguous share of
 * pages per kernel thread.  Each thread walks its share @loops times, in
 * batches of up to MMSCALE_GUP_BATCH pages for the GUP operations and page
 * by page for the fault operations, taking mmap_lock for read around each
 * batch only, so that user threads racing with it (munmap, mprotect,
 * mremap, MADV_DONTNEED, fork) get the lock in between.
 *
 * A page that cannot be reached (not mapped, not accessible) is counted as
 * an error and skipped.  With MMSCALE_GUP_VERIFY, each page reached is read
 * through the kernel mapping and must hold the pattern of mmscale_pattern()
 * or be entirely zero.
 *
 * The threads take no mm of their own: get_user_pages_remote() and the
 * fault paths take the mm explicitly, and the ioctl holds an mm_users
 * reference for them until all of them have been stopped.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/err.h>
#include <linux/highmem.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include "mmscale_internal.h"

#define MMSCALE_GUP_MAX_SIZE	SZ_1G
#define MMSCALE_GUP_MAX_THREADS	64
#define MMSCALE_GUP_BATCH	32
#define MMSCALE_GUP_FLAGS	(MMSCALE_GUP_WRITE | MMSCALE_GUP_VERIFY)

struct mmscale_gup_run;

struct mmscale_gup_worker {
	struct mmscale_gup_run *run;
	unsigned long start;		/* first user address of the share */
	unsigned long nr_pages;		/* size of the share */
	struct page *pages[MMSCALE_GUP_BATCH];
};

struct mmscale_gup_run {
	struct mm_struct *mm;
	u64 seed;
	unsigned int op;
	bool write;
	bool verify;
	unsigned int loops;
	bool abort;			/* the caller was killed */
	struct mmscale_crew crew;
	atomic64_t pages_done;
	atomic64_t retries;
	atomic64_t errors;
	atomic64_t mismatches;
	unsigned int nr_workers;
	struct mmscale_gup_worker workers[];
};

static bool mmscale_gup_should_stop(struct mmscale_gup_run *run)
{
	return READ_ONCE(run->abort) || kthread_should_stop();
}

/*
 * Does the page mapped at @uaddr hold the pattern, or only zeroes?  The user
 * side may be writing to it at the same time, so read each word once.
 */
static bool mmscale_page_ok(struct page *page, unsigned long uaddr, u64 seed)
{
	const u64 *words = kmap_local_page(page);
	bool zero = !READ_ONCE(words[0]);
	bool ok = true;
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / sizeof(u64); i++) {
		u64 want = zero ? 0 : mmscale_pattern(seed, uaddr + i * sizeof(u64));

		if (READ_ONCE(words[i]) != want) {
			ok = false;
			break;
		}
	}
	kunmap_local(words);

	return ok;
}

static void mmscale_check_page(struct mmscale_gup_run *run, struct page *page,
			       unsigned long uaddr)
{
	if (run->verify && !mmscale_page_ok(page, uaddr, run->seed))
		atomic64_inc(&run->mismatches);
}

/*
 * get_user_pages_remote() or pin_user_pages_remote() on up to
 * MMSCALE_GUP_BATCH pages.  Return the number of pages consumed: those
 * handled, or one that could not be reached.
 */
static unsigned long mmscale_gup_batch(struct mmscale_gup_worker *w,
				       unsigned long addr, unsigned long nr)
{
	struct mmscale_gup_run *run = w->run;
	struct mm_struct *mm = run->mm;
	unsigned int gup_flags = run->write ? FOLL_WRITE : 0;
	int locked = 1;
	long got, i;

	mmap_read_lock(mm);
	switch (run->op) {
	case MMSCALE_GUP_REMOTE:
		got = mmscale_gup_remote(mm, addr, nr, gup_flags, w->pages,
					 &locked);
		break;
	case MMSCALE_PIN:
		got = mmscale_pin_remote(mm, addr, nr, gup_flags, w->pages,
					 &locked);
		break;
	default:
		/* FOLL_LONGTERM cannot drop mmap_lock: no @locked. */
		got = mmscale_pin_remote(mm, addr, nr,
					 gup_flags | FOLL_LONGTERM,
					 w->pages, NULL);
		break;
	}
	/* GUP returns with the lock dropped only if it had to retry. */
	if (locked)
		mmap_read_unlock(mm);
	else
		atomic64_inc(&run->retries);

	if (got <= 0) {
		atomic64_inc(&run->errors);
		return 1;
	}

	for (i = 0; i < got; i++)
		mmscale_check_page(run, w->pages[i], addr + i * PAGE_SIZE);
	if (run->op == MMSCALE_GUP_REMOTE) {
		for (i = 0; i < got; i++)
			put_page(w->pages[i]);
	} else {
		unpin_user_pages(w->pages, got);
	}
	atomic64_add(got, &run->pages_done);

	return got;
}

/*
 * The permission check of the arch fault handlers, and like GUP, keep off
 * mappings without struct pages.
 */
static bool mmscale_vma_permits(struct vm_area_struct *vma, bool write)
{
	if (vma->vm_flags & (VM_IO | VM_PFNMAP))
		return false;
	if (write)
		return vma->vm_flags & VM_WRITE;
	return vma->vm_flags & (VM_READ | VM_WRITE | VM_EXEC);
}

/*
 * handle_mm_fault() on one page, the way an arch fault handler calls it:
 * with FAULT_FLAG_ALLOW_RETRY the fault may drop mmap_lock (VM_FAULT_RETRY,
 * try again with FAULT_FLAG_TRIED; VM_FAULT_COMPLETED, done).  Called with
 * mmap_lock held for read; returns with it held, or -errno.
 */
static int mmscale_fault_page(struct mmscale_gup_run *run, unsigned long addr)
{
	struct mm_struct *mm = run->mm;
	unsigned int flags = FAULT_FLAG_ALLOW_RETRY | FAULT_FLAG_KILLABLE |
			     FAULT_FLAG_REMOTE;
	struct vm_area_struct *vma;
	vm_fault_t ret;

	if (run->write)
		flags |= FAULT_FLAG_WRITE;

	for (;;) {
		vma = vma_lookup(mm, addr);
		if (!vma || !mmscale_vma_permits(vma, run->write))
			return -EFAULT;

		ret = handle_mm_fault(vma, addr, flags, NULL);
		if (ret & VM_FAULT_COMPLETED) {
			mmap_read_lock(mm);
			return 0;
		}
		if (ret & VM_FAULT_RETRY) {
			atomic64_inc(&run->retries);
			mmap_read_lock(mm);
			if (mmscale_gup_should_stop(run))
				return -EINTR;
			flags |= FAULT_FLAG_TRIED;
			continue;
		}
		return (ret & VM_FAULT_ERROR) ? -EFAULT : 0;
	}
}

/*
 * One page of MMSCALE_FIXUP_USER_FAULT or MMSCALE_HANDLE_MM_FAULT.  The page
 * the fault made present is then looked up without faulting, under the same
 * mmap_lock, for verification; if the user side zapped it meanwhile it is
 * not reached, which counts as an error like a failed fault.
 */
static void mmscale_fault_one(struct mmscale_gup_worker *w, unsigned long addr)
{
	struct mmscale_gup_run *run = w->run;
	struct mm_struct *mm = run->mm;
	bool unlocked = false;
	struct page *page;
	int err;

	mmap_read_lock(mm);
	if (run->op == MMSCALE_FIXUP_USER_FAULT) {
		err = fixup_user_fault(mm, addr,
				       FAULT_FLAG_REMOTE |
				       (run->write ? FAULT_FLAG_WRITE : 0),
				       &unlocked);
		if (unlocked)
			atomic64_inc(&run->retries);
	} else {
		err = mmscale_fault_page(run, addr);
	}
	if (err)
		goto out_error;

	if (run->verify) {
		if (mmscale_gup_remote(mm, addr, 1, FOLL_NOFAULT, &page,
				       NULL) != 1)
			goto out_error;
		mmscale_check_page(run, page, addr);
		put_page(page);
	}
	mmap_read_unlock(mm);
	atomic64_inc(&run->pages_done);
	return;

out_error:
	/* Both fault helpers return with mmap_lock held, even on failure. */
	mmap_read_unlock(mm);
	atomic64_inc(&run->errors);
}

static int mmscale_gup_thread(void *data)
{
	struct mmscale_gup_worker *w = data;
	struct mmscale_gup_run *run = w->run;
	unsigned long end = w->start + w->nr_pages * PAGE_SIZE;
	unsigned long addr;
	unsigned int loop;

	for (loop = 0; loop < run->loops; loop++) {
		for (addr = w->start; addr < end;) {
			if (mmscale_gup_should_stop(run))
				goto out;

			if (run->op >= MMSCALE_FIXUP_USER_FAULT) {
				mmscale_fault_one(w, addr);
				addr += PAGE_SIZE;
			} else {
				unsigned long nr = min_t(unsigned long,
							 (end - addr) >> PAGE_SHIFT,
							 MMSCALE_GUP_BATCH);

				addr += mmscale_gup_batch(w, addr, nr) * PAGE_SIZE;
			}
			cond_resched();
		}
	}
out:
	mmscale_crew_done(&run->crew);
	return 0;
}

static int mmscale_gup_check(const struct mmscale_gup *args)
{
	if (args->op >= MMSCALE_GUP_OP_MAX || args->flags & ~MMSCALE_GUP_FLAGS)
		return -EINVAL;
	if (!args->size || args->size > MMSCALE_GUP_MAX_SIZE ||
	    !PAGE_ALIGNED(args->size) || !PAGE_ALIGNED(args->addr))
		return -EINVAL;
	if (args->addr > TASK_SIZE_MAX - args->size)
		return -EINVAL;
	if (!args->nr_threads || args->nr_threads > MMSCALE_GUP_MAX_THREADS ||
	    !args->loops || args->pid < 0 || args->__reserved)
		return -EINVAL;
	return 0;
}

long mmscale_ioc_gup(struct mmscale_gup __user *uarg)
{
	struct mmscale_gup args;
	struct mmscale_gup_run *run;
	unsigned long nr_pages, first;
	struct mm_struct *mm;
	unsigned int i;
	u64 start_ns;
	long ret;

	if (copy_from_user(&args, uarg, sizeof(args)))
		return -EFAULT;
	ret = mmscale_gup_check(&args);
	if (ret)
		return ret;

	mm = mmscale_get_mm(args.pid);
	if (IS_ERR(mm))
		return PTR_ERR(mm);

	run = kvzalloc(struct_size(run, workers, args.nr_threads), GFP_KERNEL);
	if (!run) {
		ret = -ENOMEM;
		goto out_mmput;
	}
	run->mm = mm;
	run->seed = args.seed;
	run->op = args.op;
	run->write = args.flags & MMSCALE_GUP_WRITE;
	run->verify = args.flags & MMSCALE_GUP_VERIFY;
	run->loops = args.loops;
	run->nr_workers = args.nr_threads;

	nr_pages = args.size >> PAGE_SHIFT;
	first = 0;
	for (i = 0; i < run->nr_workers; i++) {
		unsigned long next = nr_pages * (i + 1) / run->nr_workers;

		run->workers[i].run = run;
		run->workers[i].start = args.addr + first * PAGE_SIZE;
		run->workers[i].nr_pages = next - first;
		first = next;
	}

	start_ns = ktime_get_ns();
	ret = mmscale_crew_create(&run->crew, run->nr_workers,
				  mmscale_gup_thread, run->workers,
				  sizeof(run->workers[0]), "mmscale_gup");
	if (!ret) {
		mmscale_crew_wake(&run->crew);
		ret = mmscale_crew_wait(&run->crew);
		if (ret)	/* killed: make the workers give up early */
			WRITE_ONCE(run->abort, true);
	}
	mmscale_crew_stop(&run->crew);
	args.elapsed_ns = ktime_get_ns() - start_ns;

	args.pages_done = atomic64_read(&run->pages_done);
	args.retries = atomic64_read(&run->retries);
	args.errors = atomic64_read(&run->errors);
	args.mismatches = atomic64_read(&run->mismatches);
	kvfree(run);

	if (!ret && copy_to_user(uarg, &args, sizeof(args)))
		ret = -EFAULT;
out_mmput:
	mmput(mm);
	return ret;
}
