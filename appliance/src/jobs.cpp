#include "strongbox/appliance/jobs.h"

#include "strongbox/core/log.h"

#include <algorithm>

namespace strongbox::appliance {

JobQueue::JobQueue(size_t capacity, Runner runner) : capacity_(capacity), runner_(std::move(runner)) {
    worker_ = std::thread([this] { work(); });
}

JobQueue::~JobQueue() {
    shutdown();
}

void JobQueue::shutdown() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (worker_.joinable()) {
        worker_.join();
    }
    std::lock_guard lock(mu_);
    for (const std::string & id : queue_) {
        Job & job = jobs_[id];
        job.state = "failed";
        for (JobFile & f : job.files) {
            f.state = "failed";
            f.error = "the appliance stopped before this job ran; it runs when the appliance serves again";
        }
    }
    queue_.clear();
}

core::Status JobQueue::submit(Job job) {
    std::lock_guard lock(mu_);
    if (stopping_) {
        return core::Error(core::ErrorCode::kUnavailable, "job " + job.id + ": the appliance is shutting down");
    }
    if (queue_.size() >= capacity_) {
        return core::Error(core::ErrorCode::kResourceExhausted, "job " + job.id + ": " + std::to_string(capacity_) +
                                                                    " uploads are already waiting; try again later");
    }
    job.state = "queued";
    queue_.push_back(job.id);
    const std::string id = job.id;
    jobs_[id] = std::move(job);
    cv_.notify_all();
    return core::ok_status();
}

std::optional<Job> JobQueue::get(const std::string & id) const {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) {
        return std::nullopt;
    }
    return it->second;
}

void JobQueue::update_file(const std::string & id, size_t index, const std::function<void(JobFile &)> & change) {
    std::lock_guard lock(mu_);
    auto it = jobs_.find(id);
    if (it != jobs_.end() && index < it->second.files.size()) {
        change(it->second.files[index]);
    }
}

void JobQueue::work() {
    for (;;) {
        Job job;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
            if (stopping_) {
                return;
            }
            const std::string id = queue_.front();
            queue_.pop_front();
            Job & j = jobs_[id];
            j.state = "running";
            job = j;
        }
        std::string crash;
        try {
            runner_(job);
        } catch (const std::exception & e) {
            crash = e.what();
        } catch (...) {
            crash = "unknown exception";
        }
        std::lock_guard lock(mu_);
        Job & j = jobs_[job.id];
        for (JobFile & f : j.files) {
            if (!crash.empty() && (f.state == "queued" || f.state == "running")) {
                f.state = "failed";
                f.error = "internal error: " + crash;
                std::error_code ec;
                std::filesystem::remove(f.staged, ec);  // never ingested: nothing else will clean it up
            }
        }
        if (!crash.empty()) {
            SB_LOG_ERROR("job %s failed: %s", job.id.c_str(), crash.c_str());
        }
        const bool any_in = std::any_of(j.files.begin(), j.files.end(), [](const JobFile & f) {
            return f.state == "added" || f.state == "new_version" || f.state == "unchanged";
        });
        j.state = any_in ? "done" : "failed";
        finished_.push_back(job.id);
        while (finished_.size() > kKeepFinished) {
            jobs_.erase(finished_.front());
            finished_.pop_front();
        }
    }
}

}  // namespace strongbox::appliance
