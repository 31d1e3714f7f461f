// Shared helpers for the web UI tests: request builders, a corpus loaded from tests/data/webui,
// and a service wrapper that holds asks until released, for overload tests.
#pragma once

#include "corpus_service.h"

#include "strongbox/core/json.h"
#include "strongbox/webui/http.h"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace strongbox::webui::testing {

inline std::string data_path(const std::string & name) {
    return std::string(SB_TEST_DATA_DIR) + "/webui/" + name;
}

inline void load_corpus(CorpusService & service) {
    for (const char * name : {"pubmed-10340286.txt", "pubmed-10354335.txt", "pubmed-10593212.txt"}) {
        core::Status st = service.add_file(data_path(name));
        REQUIRE_MESSAGE(st.ok(), st.error().to_string());
    }
}

inline HttpRequest get(const std::string & path) {
    HttpRequest r;
    r.method = "GET";
    r.path = path;
    return r;
}

inline HttpRequest post_json(const std::string & path, const std::string & body) {
    HttpRequest r;
    r.method = "POST";
    r.path = path;
    r.body = body;
    r.content_length = static_cast<int64_t>(body.size());
    r.headers.emplace_back("Content-Type", "application/json");
    return r;
}

inline core::Json json_of(const std::string & body) {
    core::Result<core::Json> j = core::Json::parse(body);
    REQUIRE_MESSAGE(j.ok(), "not JSON: " << body);
    return j.value();
}

// Waits for a condition another thread makes true; fails the test instead of hanging forever.
inline bool eventually(const std::function<bool()> & cond, std::chrono::milliseconds limit = std::chrono::seconds(10)) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > until) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    return true;
}

// Holds every ask() until release(), counting the ones that have started.
class HoldingService : public CorpusService {
  public:
    core::Result<core::Answer> ask(const AskRequest & request) override {
        {
            std::unique_lock lock(mu_);
            ++started_;
            cv_.notify_all();
            cv_.wait(lock, [this] { return released_; });
        }
        return CorpusService::ask(request);
    }

    void release() {
        std::lock_guard lock(mu_);
        released_ = true;
        cv_.notify_all();
    }

    int started() {
        std::lock_guard lock(mu_);
        return started_;
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    int started_ = 0;
    bool released_ = false;
};

}  // namespace strongbox::webui::testing
