// A one-line progress bar on stderr when it is a terminal; silent otherwise (logs and CI get the
// per-file result lines only). Not thread-safe: one owner draws.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace strongbox::appliance {

class ProgressBar {
  public:
    ProgressBar(std::string label, size_t total);
    ~ProgressBar();
    ProgressBar(const ProgressBar &) = delete;
    ProgressBar & operator=(const ProgressBar &) = delete;

    void update(size_t done, const std::string & item);
    // Prints a message above the bar without tearing it.
    void message(const std::string & line);
    void finish();

  private:
    void draw();
    void clear_line();

    std::string label_;
    size_t total_;
    size_t done_ = 0;
    std::string item_;
    bool enabled_;
    bool finished_ = false;
    std::chrono::steady_clock::time_point start_;
};

}  // namespace strongbox::appliance
