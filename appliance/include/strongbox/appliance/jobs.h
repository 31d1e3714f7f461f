// Background ingest jobs for uploads: a bounded queue worked by one thread.
//
// Design notes
// 1. Job states: queued -> running -> done | failed. A job is "failed" only when none of its
//    files went in; per-file states say what happened to each ("added", "new_version",
//    "unchanged", "failed" with its error).
// 2. One worker: ingest serialises on the appliance anyway, and one thread keeps OCR from
//    competing with itself. The queue is bounded so an upload flood is refused
//    (kResourceExhausted) instead of filling memory and disk.
// 3. Destruction stops intake, lets the running job finish, and marks jobs that never ran as
//    failed ("the appliance stopped before this job ran"). Their staged files stay: the runner's
//    owner keeps a record of each job and queues it again at the next start (uploads.h).
// 4. Finished jobs stay queryable until kKeepFinished newer ones have finished.
//
// Thread-safety: all methods may be called from any thread. The runner is called on the worker
// thread and reports through update_file(); an exception from it fails the job instead of
// escaping the thread.
#pragma once

#include "strongbox/core/result.h"

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace strongbox::appliance {

struct JobFile {
    std::string name;
    std::filesystem::path staged;  // where the bytes wait until the worker takes them
    std::string state = "queued";  // queued | running | added | new_version | unchanged | failed
    int64_t pages_done = 0;
    int64_t pages_total = 0;
    std::string error;
};

struct Job {
    std::string id;
    std::string collection;
    std::string actor;
    std::string state = "queued";  // queued | running | done | failed
    std::string created_at;
    std::vector<JobFile> files;
};

class JobQueue {
  public:
    using Runner = std::function<void(const Job & job)>;

    static constexpr size_t kKeepFinished = 256;

    JobQueue(size_t capacity, Runner runner);
    ~JobQueue();
    JobQueue(const JobQueue &) = delete;
    JobQueue & operator=(const JobQueue &) = delete;

    // Queues the job (its id must be unique); kResourceExhausted when the queue is full,
    // kUnavailable after shutdown began.
    core::Status submit(Job job);

    std::optional<Job> get(const std::string & id) const;

    // Stops intake, waits for the running job and fails the queued ones; idempotent. The
    // destructor calls it; owners call it first when the runner uses the queue through them.
    void shutdown();

    // Lets the runner report progress on file `index` of job `id`.
    void update_file(const std::string & id, size_t index, const std::function<void(JobFile &)> & change);

  private:
    void work();

    size_t capacity_;
    Runner runner_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> queue_;
    std::map<std::string, Job> jobs_;
    std::deque<std::string> finished_;
    bool stopping_ = false;
    std::thread worker_;
};

}  // namespace strongbox::appliance
