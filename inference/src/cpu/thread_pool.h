// A fixed set of worker threads that run data-parallel loops for the CPU kernels.
//
// Decode calls a kernel hundreds of times per token, so wake-up latency matters more than
// anything else: workers spin on an atomic generation counter for a short while after each job,
// then block on a condition variable so an idle appliance burns no CPU. The calling thread
// always takes part in the work, so ThreadPool(1) starts no thread at all.
//
// Thread-safety: parallel_for must be called from one thread at a time (the owner); it returns
// only after every chunk has run. fn must not throw (an exception escaping a worker is a bug and
// terminates the process) and must not call parallel_for on the same pool.
//
//   ThreadPool pool(2);
//   pool.parallel_for(rows, [&](size_t begin, size_t end) { for (size_t r = begin; r < end; ++r) ...; });
#pragma once

#include <cstddef>
#include <functional>
#include <memory>

namespace strongbox::inference::cpu {

class ThreadPool {
  public:
    // n_threads counts the calling thread; values below 1 are treated as 1.
    explicit ThreadPool(int n_threads);
    ~ThreadPool();
    ThreadPool(const ThreadPool &) = delete;
    ThreadPool & operator=(const ThreadPool &) = delete;

    int size() const;

    // Splits [0, n) into contiguous ranges and runs fn on each, across all threads. Ranges are
    // handed out dynamically so an unevenly loaded core does not hold everyone back.
    void parallel_for(size_t n, const std::function<void(size_t begin, size_t end)> & fn);

    // As parallel_for, with ranges that are multiples of `grain` (except the last), so a kernel
    // can keep whole tiles together.
    void parallel_for(size_t n, size_t grain, const std::function<void(size_t begin, size_t end)> & fn);

  private:
    struct State;
    std::unique_ptr<State> state_;
};

}  // namespace strongbox::inference::cpu
