// SPDX-License-Identifier: GPL-2.0
/*
 * mmscale test module: crews of kernel threads.
 *
 * The ioctls that drive an operation from several kernel threads (gup,
 * range stress, lock bench) all need the same things: create every thread
 * before waking any, so that a failure leaves nothing running; hold a
 * reference on each task, so that kthread_stop() stays valid on a thread
 * that has already returned; know when all of them have finished; stop
 * them all, early on a fatal signal.
 */
#include <linux/err.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/sched/task.h>
#include <linux/slab.h>

#include "mmscale_internal.h"

/**
 * mmscale_crew_create - Create @nr threads, none of them running yet
 * @crew: the crew, zeroed by the caller
 * @nr: number of threads, at least 1
 * @fn: what each thread runs; it calls mmscale_crew_done() before it returns
 * @args: an array of @nr elements of @size bytes: thread i gets element i
 * @size: size of an element of @args
 * @name: thread name prefix ("<name>/<i>")
 *
 * Return: 0, or a negative errno; call mmscale_crew_stop() in both cases.
 */
int mmscale_crew_create(struct mmscale_crew *crew, unsigned int nr,
			int (*fn)(void *), void *args, size_t size,
			const char *name)
{
	unsigned int i;

	crew->tasks = kcalloc(nr, sizeof(*crew->tasks), GFP_KERNEL);
	if (!crew->tasks)
		return -ENOMEM;
	crew->nr = nr;
	init_completion(&crew->done);
	atomic_set(&crew->running, nr);

	for (i = 0; i < nr; i++) {
		struct task_struct *task;

		task = kthread_create(fn, (char *)args + i * size, "%s/%u",
				      name, i);
		if (IS_ERR(task))
			return PTR_ERR(task);
		crew->tasks[i] = get_task_struct(task);
	}
	return 0;
}

/* Let every thread of a created crew run. */
void mmscale_crew_wake(struct mmscale_crew *crew)
{
	unsigned int i;

	for (i = 0; i < crew->nr; i++)
		wake_up_process(crew->tasks[i]);
}

/* Called by each thread of the crew as it returns. */
void mmscale_crew_done(struct mmscale_crew *crew)
{
	if (atomic_dec_and_test(&crew->running))
		complete(&crew->done);
}

/* Until every thread called mmscale_crew_done(): 0, or -EINTR if killed. */
int mmscale_crew_wait(struct mmscale_crew *crew)
{
	return wait_for_completion_killable(&crew->done) ? -EINTR : 0;
}

/*
 * Stop (or reap) every thread that was created; kthread_stop() waits for
 * each.  A thread that was never woken is stopped before it runs @fn.
 */
void mmscale_crew_stop(struct mmscale_crew *crew)
{
	unsigned int i;

	for (i = 0; crew->tasks && i < crew->nr; i++) {
		if (!crew->tasks[i])
			continue;
		kthread_stop(crew->tasks[i]);
		put_task_struct(crew->tasks[i]);
	}
	kfree(crew->tasks);
	crew->tasks = NULL;
}
