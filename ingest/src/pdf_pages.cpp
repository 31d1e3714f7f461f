// Per-page PDF pipeline.
//
// Design notes:
//  1. Pass one (serial, cheap): text layer of every page and the verdict on it. Pages whose
//     layer is usable become chunks at once.
//  2. Pass two (parallel): the other pages are rendered (under the document lock) and OCR'd
//     (unlocked) by up to ocr_workers threads, each with its own OcrEngine. Results land in
//     per-page slots, so the output order, and therefore the chunks, do not depend on timing.
//  3. The first worker error stops the others and is returned naming the page.
#include "pdf_pages.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <exception>
#include <mutex>
#include <optional>
#include <thread>

#include <omp.h>

namespace strongbox::ingest {
namespace {

struct PageOutcome {
    std::vector<core::Chunk> chunks;
    std::vector<std::string> warnings;
};

std::string format_confidence(double c) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", c);
    return buf;
}

class Progress {
  public:
    Progress(const IngestOptions & options, size_t total) : callback_(options.progress), total_(total) {}

    void page_done() {
        std::lock_guard lock(mutex_);
        ++done_;
        if (callback_) {
            callback_(done_, total_);
        }
    }

  private:
    const std::function<void(size_t, size_t)> & callback_;
    size_t total_;
    size_t done_ = 0;
    std::mutex mutex_;
};

// Tesseract parallelises inside a page with OpenMP (fixed thread counts). With our own pool
// of page workers that oversubscribes the cores and the idle OpenMP threads spin: on two cores
// a page took 2.5x the CPU time. Dynamic adjustment with one thread per region keeps each
// worker to its own core; the setting is per thread, so only our workers are affected.
void limit_openmp_in_this_thread() {
    omp_set_dynamic(1);
    omp_set_num_threads(1);
}

}  // namespace

double ink_outside_text(const GrayImage & image, const std::vector<Word> & words) {
    if (image.empty()) {
        return 0;
    }
    const double scale = image.dpi / 72.0;
    std::vector<uint8_t> covered(image.pixels.size(), 0);
    for (const Word & w : words) {
        const int x0 = std::max(0, static_cast<int>(std::floor(w.x0 * scale)) - 1);
        const int y0 = std::max(0, static_cast<int>(std::floor(w.y0 * scale)) - 1);
        const int x1 = std::min(image.width, static_cast<int>(std::ceil(w.x1 * scale)) + 1);
        const int y1 = std::min(image.height, static_cast<int>(std::ceil(w.y1 * scale)) + 1);
        for (int y = y0; y < y1; ++y) {
            std::fill(covered.begin() + static_cast<ptrdiff_t>(y) * image.width + x0,
                      covered.begin() + static_cast<ptrdiff_t>(y) * image.width + std::max(x0, x1), 1);
        }
    }
    size_t dark_outside = 0;
    for (size_t i = 0; i < image.pixels.size(); ++i) {
        if (image.pixels[i] < 128 && covered[i] == 0) {
            ++dark_outside;
        }
    }
    return static_cast<double>(dark_outside) / static_cast<double>(image.pixels.size());
}

core::Result<core::ExtractedDocument> extract_pdf_pages(PdfPages & pages, const std::filesystem::path & path,
                                                        const std::string & sha256, const IngestOptions & options,
                                                        core::ExtractedDocument doc) {
    const int n = pages.count();
    std::vector<PageOutcome> outcomes(static_cast<size_t>(n));
    std::vector<std::pair<int, std::string>> to_ocr;  // page index, why
    Progress progress(options, static_cast<size_t>(n));
    const core::Provenance text_base = base_provenance(path, sha256, options, "poppler-text", poppler_version());

    for (int i = 0; i < n; ++i) {
        PageOutcome & out = outcomes[static_cast<size_t>(i)];
        const std::string page_name = "page " + std::to_string(i + 1);
        PageText text = pages.text(i);
        if (!text.readable) {
            out.warnings.push_back(page_name + " could not be read");
            progress.page_done();
            continue;
        }
        const TextLayerStats stats = text_layer_stats(text.words);
        double ink = 0;
        if (stats.chars > 0 && stats.chars < kFewChars) {
            ink = ink_outside_text(pages.render(i, kInkCheckDpi), text.words);
        }
        const LayerVerdict verdict = judge_text_layer(stats, ink);
        if (verdict.usable) {
            core::Provenance base = text_base;
            base.page = i + 1;
            out.chunks = build_chunks(group_paragraphs(group_lines(text.words)), base, options.max_chunk_chars);
            progress.page_done();
        } else if (!options.ocr_enabled) {
            out.warnings.push_back(page_name + " " + verdict.reason);
            progress.page_done();
        } else {
            to_ocr.emplace_back(i, verdict.reason);
        }
    }

    if (!to_ocr.empty()) {
        SB_ASSIGN_OR_RETURN(const std::string tessdata, find_tessdata(options.ocr_language, options.tessdata_dir));
        const std::string version = tesseract_version();
        core::Provenance ocr_base = base_provenance(path, sha256, options, "tesseract-ocr", version);
        ocr_base.ocr_engine = "tesseract " + version;
        ocr_base.language = options.ocr_language;

        size_t workers = options.ocr_workers > 0 ? static_cast<size_t>(options.ocr_workers)
                                                 : std::max(1u, std::thread::hardware_concurrency());
        workers = std::min(workers, to_ocr.size());
        std::atomic<size_t> next{0};
        std::atomic<bool> failed{false};
        std::mutex error_mutex;
        std::optional<core::Error> first_error;
        auto fail = [&](core::Error e) {
            std::lock_guard lock(error_mutex);
            if (!first_error) {
                first_error = std::move(e);
            }
            failed = true;
        };

        auto work = [&]() {
            // Top frame of a worker: nothing may escape it.
            try {
                limit_openmp_in_this_thread();
                auto engine = OcrEngine::create(options.ocr_language, tessdata);
                if (!engine.ok()) {
                    fail(std::move(engine).error());
                    return;
                }
                for (size_t k = next++; k < to_ocr.size() && !failed; k = next++) {
                    const int index = to_ocr[k].first;
                    const std::string page_name = "page " + std::to_string(index + 1);
                    PageOutcome & out = outcomes[static_cast<size_t>(index)];
                    const GrayImage image = pages.render(index, options.ocr_dpi > 0 ? options.ocr_dpi : 300);
                    if (image.empty()) {
                        out.warnings.push_back(page_name + " " + to_ocr[k].second +
                                               " and could not be rendered for OCR");
                        progress.page_done();
                        continue;
                    }
                    auto result = engine.value()->recognize(image);
                    if (!result.ok()) {
                        fail(std::move(result).error().with_context(page_name));
                        return;
                    }
                    const OcrResult & r = result.value();
                    const bool low = r.words.empty() || r.mean_confidence < options.ocr_low_confidence;
                    core::Provenance base = ocr_base;
                    base.page = index + 1;
                    base.ocr_confidence = r.mean_confidence;
                    base.low_confidence = low;  // every chunk of the page carries the flag into its citations
                    out.chunks = build_chunks(group_paragraphs(group_lines(r.words)), base, options.max_chunk_chars);
                    core::Json meta = core::Json::object();
                    meta["reason"] = to_ocr[k].second;
                    meta["page_confidence"] = r.mean_confidence;
                    meta["rotation_degrees"] = r.rotation_degrees;
                    meta["ocr_language"] = r.language;
                    meta["skew_degrees"] = std::round(r.skew_degrees * 100) / 100;
                    meta["low_confidence"] = low;
                    for (core::Chunk & c : out.chunks) {
                        c.metadata["ocr"] = meta;
                    }
                    if (r.words.empty()) {
                        out.warnings.push_back(page_name + " " + to_ocr[k].second + " and OCR found no text");
                    } else if (low) {
                        out.warnings.push_back(page_name + ": OCR confidence " + format_confidence(r.mean_confidence) +
                                               " is below " + format_confidence(options.ocr_low_confidence));
                    }
                    progress.page_done();
                }
            } catch (const std::exception & e) {
                fail(core::Error(core::ErrorCode::kInternal, std::string("OCR worker failed: ") + e.what()));
            } catch (...) {
                fail(core::Error(core::ErrorCode::kInternal, "OCR worker failed"));
            }
        };

        // Always on threads of our own, even for one worker, so the OpenMP limit set there
        // never changes the caller's thread.
        std::vector<std::thread> threads;
        threads.reserve(workers);
        for (size_t t = 0; t < workers; ++t) {
            threads.emplace_back(work);
        }
        for (std::thread & t : threads) {
            t.join();
        }
        if (first_error) {
            return std::move(*first_error);
        }
    }

    for (PageOutcome & out : outcomes) {
        for (core::Chunk & c : out.chunks) {
            doc.chunks.push_back(std::move(c));
        }
        for (std::string & w : out.warnings) {
            doc.warnings.push_back(std::move(w));
        }
    }
    if (doc.chunks.empty()) {
        doc.warnings.push_back("no text found in any page");
    }
    return doc;
}

}  // namespace strongbox::ingest
