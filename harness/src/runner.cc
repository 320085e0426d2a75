#include "runner.h"

#include <sys/resource.h>
#include <time.h>

#include <exception>
#include <latch>
#include <mutex>
#include <thread>

#include "error.h"

namespace mmscale {

std::uint64_t monotonic_ns() {
  timespec ts{};
  if (::clock_gettime(CLOCK_MONOTONIC, &ts) != 0) throw_errno("clock_gettime");
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ULL +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

CpuTimes process_cpu_times() {
  rusage ru{};
  if (::getrusage(RUSAGE_SELF, &ru) != 0) throw_errno("getrusage");
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + static_cast<double>(tv.tv_usec) / 1e6;
  };
  return {seconds(ru.ru_utime), seconds(ru.ru_stime)};
}

TimedRun run_timed(std::span<const ThreadBody> bodies, std::chrono::duration<double> duration) {
  using Clock = std::chrono::steady_clock;
  std::atomic<bool> stop{false};
  std::latch ready(static_cast<std::ptrdiff_t>(bodies.size()) + 1);
  std::latch go(1);
  Clock::time_point start;
  TimedRun run;
  run.threads.resize(bodies.size());
  std::mutex error_lock;
  std::exception_ptr error;
  {
    std::vector<std::jthread> threads;
    threads.reserve(bodies.size());
    for (std::size_t i = 0; i < bodies.size(); ++i) {
      threads.emplace_back([&, i] {
        ready.count_down();
        go.wait();
        try {
          run.threads[i].ops = bodies[i](stop);
        } catch (...) {
          const std::scoped_lock lock(error_lock);
          if (!error) error = std::current_exception();
          stop.store(true, std::memory_order_relaxed);
        }
        run.threads[i].seconds = std::chrono::duration<double>(Clock::now() - start).count();
      });
    }
    ready.arrive_and_wait();
    const CpuTimes cpu0 = process_cpu_times();
    start = Clock::now();
    go.count_down();
    // Timed wait, not synchronisation: the run lasts @duration unless a
    // thread fails first.
    const auto deadline = start + std::chrono::duration_cast<Clock::duration>(duration);
    while (Clock::now() < deadline && !stop.load(std::memory_order_relaxed))
      std::this_thread::sleep_for(
          std::min<Clock::duration>(deadline - Clock::now(), std::chrono::milliseconds(10)));
    stop.store(true, std::memory_order_relaxed);
    run.wall_s = std::chrono::duration<double>(Clock::now() - start).count();
    for (std::jthread& t : threads) t.join();
    const CpuTimes cpu1 = process_cpu_times();
    run.cpu = {cpu1.user_s - cpu0.user_s, cpu1.sys_s - cpu0.sys_s};
  }
  if (error) std::rethrow_exception(error);
  return run;
}

double total_rate(std::span<const ThreadResult> threads) {
  double sum = 0;
  for (const ThreadResult& t : threads) sum += t.rate();
  return sum;
}

}  // namespace mmscale
