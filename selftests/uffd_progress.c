// SPDX-License-Identifier: GPL-2.0
/*
 * userfaultfd keeps working, and does not stall the rest of the process.
 *
 * A fault on a userfaultfd-registered (MISSING mode) anonymous range must
 * reach the handler thread, which resolves it with UFFDIO_COPY.  While it
 * waits for the handler, the faulting thread must not hold mmap_lock:
 * other threads fault fresh pages elsewhere and even mmap()/munmap() (a
 * write lock) in the meantime.  A speculative fault handler has to leave
 * userfaultfd ranges to the locked path, which drops the lock to wait.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/userfaultfd.h>

#include "kselftest_harness.h"
#include "mmscale_util.h"

#define UFFD_PAGES	64
#define ELSEWHERE_PAGES	256
#define NR_FAULTERS	4
#define WAIT_MS		20000	/* a bound on waits for other threads */

#ifndef USERFAULTFD_IOC_NEW
#define USERFAULTFD_IOC_NEW	_IO(0xAA, 0x00)
#endif

static int uffd_open(void)
{
	int fd = syscall(__NR_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int dev;

	if (fd >= 0 || (errno != EPERM && errno != ENOSYS))
		return fd;
	/* Unprivileged userfaultfd may be off; the device may not be. */
	dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
	if (dev < 0)
		return -1;
	fd = ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
	close(dev);
	return fd;
}

/* Wait for the eventfd @efd to be signalled, at most WAIT_MS. */
static int wait_event(int efd)
{
	struct pollfd pfd = { .fd = efd, .events = POLLIN };
	uint64_t v;

	if (poll(&pfd, 1, WAIT_MS) != 1)
		return -1;
	return read(efd, &v, sizeof(v)) == sizeof(v) ? 0 : -1;
}

static void signal_event(int efd)
{
	uint64_t one = 1;

	if (write(efd, &one, sizeof(one)) != sizeof(one))
		abort();
}

/* The page holds the pattern: it was filled by the handler. */
static bool has_pattern(const char *page, uint64_t seed)
{
	return *(const volatile uint64_t *)page &&
	       pattern_page_ok(page, 0, seed);
}

struct handler {
	int uffd;
	int stop;		/* eventfd: the handler must exit */
	int first_seen;		/* eventfd: the first fault arrived */
	int release_first;	/* eventfd: resolve the first fault now */
	bool hold_first;	/* wait for release_first before resolving */
	uint64_t seed;
	char *staging;
	unsigned long events;
	unsigned long copies;
	char failure[128];
};

static void *handler_fn(void *arg)
{
	struct handler *h = arg;
	struct pollfd pfd[2] = {
		{ .fd = h->uffd, .events = POLLIN },
		{ .fd = h->stop, .events = POLLIN },
	};

	while (!h->failure[0]) {
		struct uffdio_copy copy = { 0 };
		struct uffd_msg msg;
		uint64_t addr;

		if (poll(pfd, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			snprintf(h->failure, sizeof(h->failure), "poll: %s",
				 strerror(errno));
			break;
		}
		if (pfd[1].revents)
			break;
		if (read(h->uffd, &msg, sizeof(msg)) != sizeof(msg)) {
			if (errno == EAGAIN)
				continue;
			snprintf(h->failure, sizeof(h->failure), "read: %s",
				 strerror(errno));
			break;
		}
		if (msg.event != UFFD_EVENT_PAGEFAULT) {
			snprintf(h->failure, sizeof(h->failure),
				 "unexpected event %u", msg.event);
			break;
		}
		if (!h->events++ && h->hold_first) {
			signal_event(h->first_seen);
			if (wait_event(h->release_first)) {
				snprintf(h->failure, sizeof(h->failure),
					 "not released");
				break;
			}
		}

		addr = msg.arg.pagefault.address & ~(uint64_t)(PAGE_SZ - 1);
		pattern_fill_for(h->staging, PAGE_SZ, h->seed, addr);
		copy.dst = addr;
		copy.src = (uintptr_t)h->staging;
		copy.len = PAGE_SZ;
		if (ioctl(h->uffd, UFFDIO_COPY, &copy)) {
			/* Another thread's fault on the same page won. */
			if (errno == EEXIST)
				continue;
			snprintf(h->failure, sizeof(h->failure),
				 "UFFDIO_COPY: %s", strerror(errno));
			break;
		}
		h->copies++;
	}
	/*
	 * On failure, closing the userfaultfd wakes the faulting threads, so
	 * that the test fails instead of hanging.
	 */
	if (h->failure[0])
		close(h->uffd);
	return NULL;
}

FIXTURE(uffd) {
	struct handler h;
	pthread_t handler;
	bool running;
	char *region;
};

FIXTURE_SETUP(uffd)
{
	struct uffdio_api api = { .api = UFFD_API };
	struct uffdio_register reg = { 0 };

	self->h.uffd = -1;
	self->h.seed = mmscale_seed();
	self->h.stop = eventfd(0, EFD_CLOEXEC);
	self->h.first_seen = eventfd(0, EFD_CLOEXEC);
	self->h.release_first = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, self->h.stop);
	ASSERT_LE(0, self->h.first_seen);
	ASSERT_LE(0, self->h.release_first);
	self->h.staging = map_anon(PAGE_SZ);
	self->region = map_anon(UFFD_PAGES * PAGE_SZ);
	ASSERT_NE(NULL, self->h.staging);
	ASSERT_NE(NULL, self->region);

	self->h.uffd = uffd_open();
	if (self->h.uffd < 0 &&
	    (errno == EPERM || errno == ENOSYS || errno == ENOENT ||
	     errno == EACCES))
		return;		/* the test skips */
	ASSERT_LE(0, self->h.uffd) TH_LOG("userfaultfd: %s", strerror(errno));
	ASSERT_EQ(0, ioctl(self->h.uffd, UFFDIO_API, &api));

	reg.range.start = (uintptr_t)self->region;
	reg.range.len = UFFD_PAGES * PAGE_SZ;
	reg.mode = UFFDIO_REGISTER_MODE_MISSING;
	ASSERT_EQ(0, ioctl(self->h.uffd, UFFDIO_REGISTER, &reg))
		TH_LOG("UFFDIO_REGISTER: %s", strerror(errno));
	ASSERT_TRUE(reg.ioctls & (1ULL << _UFFDIO_COPY));
}

/* Stop the handler: its counters are final then. */
static void stop_handler(FIXTURE_DATA(uffd) *self)
{
	if (self->running) {
		signal_event(self->h.stop);
		pthread_join(self->handler, NULL);
		self->running = false;
	}
}

FIXTURE_TEARDOWN(uffd)
{
	stop_handler(self);
	if (self->h.uffd >= 0 && !self->h.failure[0])
		close(self->h.uffd);
	munmap(self->region, UFFD_PAGES * PAGE_SZ);
	munmap(self->h.staging, PAGE_SZ);
	close(self->h.stop);
	close(self->h.first_seen);
	close(self->h.release_first);
}

#define start_handler_or_skip() do {					\
	if (self->h.uffd < 0)						\
		SKIP(return, "userfaultfd unavailable");		\
	ASSERT_EQ(0, pthread_create(&self->handler, NULL, handler_fn,	\
				    &self->h));				\
	self->running = true;						\
} while (0)

struct blocked_reader {
	const char *page;
	uint64_t seed;
	atomic_bool done;
	bool ok;
};

static void *blocked_reader_fn(void *arg)
{
	struct blocked_reader *b = arg;

	b->ok = has_pattern(b->page, b->seed);
	atomic_store(&b->done, true);
	return NULL;
}

/*
 * Fault fresh pages, and map and unmap, while another thread waits in a
 * userfaultfd fault.  Returns the number of faults done.
 */
static size_t work_elsewhere(void)
{
	size_t len = ELSEWHERE_PAGES * PAGE_SZ, i;
	char *p = map_anon(len);

	if (!p)
		return 0;
	for (i = 0; i < ELSEWHERE_PAGES; i++) {
		void *q;

		p[i * PAGE_SZ] = 1;
		if (i % 16)
			continue;
		q = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED)
			break;
		munmap(q, PAGE_SZ);
	}
	munmap(p, len);
	return i;
}

/* One fault held in the handler; the rest of the process goes on. */
TEST_F_TIMEOUT(uffd, progress_while_fault_pending, 60)
{
	struct blocked_reader b = {
		.page = self->region + 5 * PAGE_SZ,
		.seed = self->h.seed,
	};
	pthread_t reader;
	size_t done;

	self->h.hold_first = true;
	start_handler_or_skip();
	atomic_init(&b.done, false);
	ASSERT_EQ(0, pthread_create(&reader, NULL, blocked_reader_fn, &b));

	ASSERT_EQ(0, wait_event(self->h.first_seen))
		TH_LOG("the userfaultfd fault never arrived");
	done = work_elsewhere();
	EXPECT_FALSE(atomic_load(&b.done));
	signal_event(self->h.release_first);
	pthread_join(reader, NULL);
	stop_handler(self);

	EXPECT_EQ(ELSEWHERE_PAGES, done);
	EXPECT_TRUE(b.ok);
	EXPECT_EQ(0, self->h.failure[0]) TH_LOG("handler: %s", self->h.failure);
	EXPECT_EQ(1, self->h.copies);
}

struct faulter {
	char *region;
	uint64_t seed;
	unsigned int first;	/* page to start at */
	bool write;
	unsigned long bad;	/* pages without the pattern */
};

static void *faulter_fn(void *arg)
{
	struct faulter *f = arg;
	unsigned int n;

	for (n = 0; n < UFFD_PAGES; n++) {
		char *page = f->region +
			     ((f->first + n) % UFFD_PAGES) * PAGE_SZ;
		volatile uint64_t *w = (uint64_t *)page + n % (PAGE_SZ / 8);

		/* A write stores what the handler put there. */
		if (f->write)
			*w = mmscale_pattern(f->seed, (uintptr_t)w);
		if (!has_pattern(page, f->seed))
			f->bad++;
	}
	return NULL;
}

static void *elsewhere_fn(void *arg)
{
	*(size_t *)arg = work_elsewhere();
	return NULL;
}

/* Several threads fault the range in different orders, reads and writes. */
TEST_F_TIMEOUT(uffd, concurrent_missing_faults, 60)
{
	struct faulter f[NR_FAULTERS];
	pthread_t t[NR_FAULTERS], other;
	size_t other_done = 0;
	int i;

	start_handler_or_skip();
	ASSERT_EQ(0, pthread_create(&other, NULL, elsewhere_fn, &other_done));
	for (i = 0; i < NR_FAULTERS; i++) {
		f[i] = (struct faulter) {
			.region = self->region,
			.seed = self->h.seed,
			.first = i * UFFD_PAGES / NR_FAULTERS,
			.write = i & 1,
		};
		ASSERT_EQ(0, pthread_create(&t[i], NULL, faulter_fn, &f[i]));
	}
	for (i = 0; i < NR_FAULTERS; i++) {
		pthread_join(t[i], NULL);
		EXPECT_EQ(0, f[i].bad) TH_LOG("faulter %d", i);
	}
	pthread_join(other, NULL);
	stop_handler(self);

	EXPECT_EQ(ELSEWHERE_PAGES, other_done);
	EXPECT_EQ(0, self->h.failure[0]) TH_LOG("handler: %s", self->h.failure);
	/* Each page was copied once, whoever faulted it first. */
	EXPECT_EQ(UFFD_PAGES, self->h.copies);
	EXPECT_GE(self->h.events, UFFD_PAGES);
}

TEST_HARNESS_MAIN
