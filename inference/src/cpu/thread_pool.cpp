// Persistent worker threads for the CPU kernels.
//
// Design notes:
// 1. One 64-bit atomic, `work`, holds the job generation (high half) and the number of chunks not
//    yet claimed (low half). A thread claims a chunk by compare-and-swap of that word, so a claim
//    can only succeed for the job the thread saw, and only while chunks remain. The owner writes
//    the job fields before it publishes a new generation (release); a successful claim (acquire)
//    therefore sees the fields of its own job, and they stay valid until every claimed chunk is
//    done, because the owner returns only when `completed` reaches the chunk count.
// 2. The owner claims chunks like any worker. It never waits for a worker that has not claimed
//    anything: if a worker is slow to wake (or descheduled on a busy machine), the owner simply
//    runs the remaining chunks itself.
// 3. Work is cut into about four chunks per thread so a thread that started late does not leave
//    the others waiting at the end.
// 4. Idle workers spin (with a pause hint) for a short while before sleeping on the condition
//    variable: decode issues kernels back to back, and a futex wake-up per kernel would cost more
//    than many small kernels themselves. The owner, waiting for chunks claimed by others, yields
//    its time slice after a short spin instead of burning it.
#include "cpu/thread_pool.h"

#include "strongbox/core/result.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace strongbox::inference::cpu {
namespace {

constexpr int kSpinIterations = 4000;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

constexpr uint64_t generation_of(uint64_t work) {
    return work >> 32;
}

}  // namespace

struct ThreadPool::State {
    int n_threads = 1;
    std::vector<std::thread> workers;

    std::mutex mu;
    std::condition_variable cv;
    std::atomic<uint64_t> work{0};  // generation << 32 | unclaimed chunks
    std::atomic<bool> stop{false};

    // Current job; written by the owner before the generation in `work` changes.
    const std::function<void(size_t, size_t)> * fn = nullptr;
    size_t n = 0;
    size_t chunk = 1;
    size_t n_chunks = 0;
    std::atomic<size_t> completed{0};

    // Claims and runs chunks of the job of generation `gen` until none is left.
    void run_chunks(uint64_t gen) {
        uint64_t w = work.load(std::memory_order_acquire);
        for (;;) {
            if (generation_of(w) != gen || (w & 0xFFFFFFFFu) == 0) {
                return;
            }
            if (!work.compare_exchange_weak(w, w - 1, std::memory_order_acq_rel, std::memory_order_acquire)) {
                continue;  // w now holds the current value
            }
            const size_t remaining = static_cast<size_t>(w & 0xFFFFFFFFu);
            const size_t begin = (n_chunks - remaining) * chunk;
            (*fn)(begin, std::min(n, begin + chunk));
            completed.fetch_add(1, std::memory_order_acq_rel);
            w = work.load(std::memory_order_acquire);
        }
    }

    void worker_loop() {
        uint64_t seen = 0;
        for (;;) {
            uint64_t gen = generation_of(work.load(std::memory_order_acquire));
            for (int i = 0; gen == seen && i < kSpinIterations; ++i) {
                cpu_relax();
                gen = generation_of(work.load(std::memory_order_acquire));
            }
            if (gen == seen) {
                std::unique_lock lock(mu);
                cv.wait(lock, [&] {
                    return generation_of(work.load(std::memory_order_acquire)) != seen ||
                           stop.load(std::memory_order_acquire);
                });
                gen = generation_of(work.load(std::memory_order_acquire));
            }
            if (stop.load(std::memory_order_acquire)) {
                return;
            }
            seen = gen;
            run_chunks(gen);
        }
    }
};

ThreadPool::ThreadPool(int n_threads) : state_(std::make_unique<State>()) {
    state_->n_threads = std::max(1, n_threads);
    for (int i = 1; i < state_->n_threads; ++i) {
        state_->workers.emplace_back([s = state_.get()] { s->worker_loop(); });
    }
}

ThreadPool::~ThreadPool() {
    {
        std::lock_guard lock(state_->mu);
        state_->stop.store(true, std::memory_order_release);
    }
    state_->cv.notify_all();
    for (std::thread & t : state_->workers) {
        t.join();
    }
}

int ThreadPool::size() const {
    return state_->n_threads;
}

void ThreadPool::parallel_for(size_t n, const std::function<void(size_t begin, size_t end)> & fn) {
    parallel_for(n, 1, fn);
}

void ThreadPool::parallel_for(size_t n, size_t grain, const std::function<void(size_t begin, size_t end)> & fn) {
    if (n == 0) {
        return;
    }
    grain = std::max<size_t>(grain, 1);
    State & s = *state_;
    if (s.n_threads == 1 || n <= grain) {
        fn(0, n);
        return;
    }
    const size_t per_thread = 4 * static_cast<size_t>(s.n_threads);
    const size_t target = (n + per_thread - 1) / per_thread;
    s.chunk = std::max(grain, (target + grain - 1) / grain * grain);
    s.n = n;
    s.n_chunks = (n + s.chunk - 1) / s.chunk;
    SB_CHECK(s.n_chunks < (size_t{1} << 32));
    s.fn = &fn;
    s.completed.store(0, std::memory_order_relaxed);
    const uint64_t gen = generation_of(s.work.load(std::memory_order_relaxed)) + 1;
    {
        // Publishing under the mutex orders it against a worker that is about to sleep.
        std::lock_guard lock(s.mu);
        s.work.store(gen << 32 | s.n_chunks, std::memory_order_release);
    }
    s.cv.notify_all();
    s.run_chunks(gen);
    for (int spins = 0; s.completed.load(std::memory_order_acquire) != s.n_chunks; ++spins) {
        if (spins < kSpinIterations) {
            cpu_relax();
        } else {
            std::this_thread::yield();
        }
    }
    s.fn = nullptr;
}

}  // namespace strongbox::inference::cpu
