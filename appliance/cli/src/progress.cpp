#include "progress.h"

#include <cstdio>

#include <unistd.h>

namespace strongbox::appliance {

ProgressBar::ProgressBar(std::string label, size_t total)
    : label_(std::move(label)),
      total_(total),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {}

ProgressBar::~ProgressBar() {
    finish();
}

void ProgressBar::update(size_t done, const std::string & item) {
    done_ = done;
    item_ = item;
    draw();
}

void ProgressBar::message(const std::string & line) {
    clear_line();
    std::fprintf(stderr, "%s\n", line.c_str());
    draw();
}

void ProgressBar::finish() {
    if (!finished_) {
        clear_line();
        finished_ = true;
    }
}

void ProgressBar::clear_line() {
    if (enabled_) {
        std::fputs("\r\033[2K", stderr);
    }
}

void ProgressBar::draw() {
    if (!enabled_ || finished_) {
        return;
    }
    constexpr int kWidth = 30;
    const double frac = total_ == 0 ? 1.0 : static_cast<double>(done_) / static_cast<double>(total_);
    const int filled = static_cast<int>(frac * kWidth);
    std::string bar(static_cast<size_t>(filled), '#');
    bar.resize(kWidth, '.');
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::string eta;
    if (done_ > 0 && done_ < total_) {
        eta =
            " ~" +
            std::to_string(static_cast<int>(secs / static_cast<double>(done_) * static_cast<double>(total_ - done_))) +
            "s left";
    }
    std::string item = item_.size() > 40 ? "..." + item_.substr(item_.size() - 37) : item_;
    std::fprintf(stderr, "\r\033[2K%s [%s] %zu/%zu%s %s", label_.c_str(), bar.c_str(), done_, total_, eta.c_str(),
                 item.c_str());
    std::fflush(stderr);
}

}  // namespace strongbox::appliance
