// The kernels' persistent thread pool: coverage of every index, grain alignment, reuse.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "cpu/thread_pool.h"

using strongbox::inference::cpu::ThreadPool;

TEST_CASE("parallel_for visits every index exactly once for any size and thread count") {
    for (int threads : {1, 2, 3}) {
        ThreadPool pool(threads);
        CHECK(pool.size() == threads);
        for (size_t n : {size_t{0}, size_t{1}, size_t{5}, size_t{64}, size_t{1001}}) {
            std::vector<std::atomic<int>> hits(n);
            pool.parallel_for(n, [&](size_t begin, size_t end) {
                REQUIRE(begin < end);
                for (size_t i = begin; i < end; ++i) {
                    hits[i].fetch_add(1);
                }
            });
            for (size_t i = 0; i < n; ++i) {
                REQUIRE(hits[i].load() == 1);
            }
        }
    }
}

TEST_CASE("parallel_for ranges start on multiples of the grain") {
    ThreadPool pool(2);
    std::mutex mu;
    std::set<std::pair<size_t, size_t>> ranges;
    pool.parallel_for(1000, 16, [&](size_t begin, size_t end) {
        std::lock_guard lock(mu);
        ranges.emplace(begin, end);
    });
    size_t covered = 0;
    for (const auto & [begin, end] : ranges) {
        CHECK(begin % 16 == 0);
        CHECK((end % 16 == 0 || end == 1000));
        CHECK(begin == covered);
        covered = end;
    }
    CHECK(covered == 1000);
}

TEST_CASE("the pool runs work on more than one thread and survives many back-to-back jobs") {
    ThreadPool pool(2);
    // Many tiny jobs, as decode issues them, with a result that depends on every chunk running.
    std::atomic<uint64_t> total{0};
    for (int job = 0; job < 20000; ++job) {
        pool.parallel_for(8, [&](size_t begin, size_t end) {
            for (size_t i = begin; i < end; ++i) {
                total.fetch_add(i + 1);
            }
        });
    }
    CHECK(total.load() == 20000u * 36u);
    // Work that blocks until a second thread joins in proves a worker takes chunks.
    std::atomic<int> arrived{0};
    std::atomic<bool> both{false};
    pool.parallel_for(2, [&](size_t, size_t) {
        arrived.fetch_add(1);
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
        while (arrived.load() < 2 && std::chrono::steady_clock::now() < deadline) {
            std::this_thread::yield();
        }
        both = both.load() || arrived.load() == 2;
    });
    CHECK(both.load());
}

TEST_CASE("a pool that went idle wakes up for the next job and shuts down cleanly") {
    ThreadPool pool(2);
    std::atomic<int> count{0};
    pool.parallel_for(4, [&](size_t begin, size_t end) { count.fetch_add(static_cast<int>(end - begin)); });
    std::this_thread::sleep_for(std::chrono::milliseconds(50));  // workers stop spinning and sleep
    pool.parallel_for(4, [&](size_t begin, size_t end) { count.fetch_add(static_cast<int>(end - begin)); });
    CHECK(count.load() == 8);
}
