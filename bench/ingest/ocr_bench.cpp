// Ingest of documents: OCR accuracy (character error rate against reference texts) and
// throughput of the text-layer and OCR paths, each next to a baseline measured in the same run:
//   - accuracy: the tesseract command-line tool on the same page rendered at the same dpi
//     (no orientation detection, no deskew), when it is installed;
//   - text layer: Poppler's own plain page text (no lines, boxes or chunks), and pdftotext when
//     installed;
//   - OCR: the tesseract command-line tool, one page after another.
// Prints medians over the repetitions; never asserts on time.
//
//   strongbox_bench_ocr [data_dir] [repetitions]
#include "ocr.h"
#include "pdf_pages.h"

#include "strongbox/core/file.h"
#include "strongbox/ingest/ingest.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace fs = std::filesystem;
using namespace strongbox;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double median(std::vector<double> v) {
    if (v.empty()) {
        return 0;
    }
    std::sort(v.begin(), v.end());
    return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
}

bool have_tool(const char * name) {
    const std::string cmd = std::string("command -v ") + name + " >/dev/null 2>&1";
    return std::system(cmd.c_str()) == 0;
}

std::string run_capture(const std::string & cmd) {
    std::string out;
    std::unique_ptr<FILE, int (*)(FILE *)> pipe(::popen(cmd.c_str(), "r"), ::pclose);
    if (!pipe) {
        return out;
    }
    char buf[4096];
    size_t n = 0;
    while ((n = std::fread(buf, 1, sizeof buf, pipe.get())) > 0) {
        out.append(buf, n);
    }
    return out;
}

bool write_pgm(const fs::path & path, const ingest::GrayImage & img) {
    std::string bytes = "P5\n" + std::to_string(img.width) + " " + std::to_string(img.height) + "\n255\n";
    bytes.append(reinterpret_cast<const char *>(img.pixels.data()), img.pixels.size());
    return core::write_file_atomic(path, bytes).ok();
}

std::vector<std::string> page_texts(const core::ExtractedDocument & doc) {
    std::vector<std::string> pages(static_cast<size_t>(std::max(doc.page_count, 0)));
    for (const core::Chunk & c : doc.chunks) {
        if (c.provenance.page >= 1 && c.provenance.page <= doc.page_count) {
            pages[static_cast<size_t>(c.provenance.page - 1)] += c.text + "\n";
        }
    }
    return pages;
}

struct AccuracyCase {
    const char * pdf;
    const char * reference;
};

}  // namespace

int main(int argc, char ** argv) {
    // Default: ../shared/data next to the repository this file was built from.
    const fs::path repo = fs::path(__FILE__).parent_path().parent_path().parent_path();
    const fs::path data = argc > 1 ? fs::path(argv[1]) : repo / ".." / "shared" / "data";
    const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
    const bool cli = have_tool("tesseract");
    const bool pdftotext = have_tool("pdftotext");
    const fs::path tmp = fs::temp_directory_path() / ("strongbox_ocr_bench_" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    std::printf("Strongbox ingest bench: data %s, %d repetitions, tesseract %s\n", data.c_str(), reps,
                ingest::tesseract_version().c_str());

    // 1. Accuracy -------------------------------------------------------------------------------
    std::printf("\n== OCR character error rate (lower is better), 300 dpi, eng ==\n");
    std::printf("%-34s %10s %12s %10s\n", "page", "strongbox", "tesseract-cli", "cli/ours");
    const std::vector<AccuracyCase> cases = {
        {"pdfs-ocrmypdf/linn.pdf", "pdfs-ocrmypdf/linn.txt"},
        {"pdfs-ocrmypdf/skew.pdf", "pdfs-ocrmypdf/linn.txt"},
        {"pdfs-ocrmypdf/rotated_skew.pdf", "pdfs-ocrmypdf/linn.txt"},
        {"pdfs-ocrmypdf/cardinal.pdf", "pdfs-ocrmypdf/linn.txt"},
        {"ocr-images-tesseract/phototest-scan.pdf", "ocr-images-tesseract/phototest.txt"},
        {"ocr-images-tesseract/eurotext-scan.pdf", "ocr-images-tesseract/eurotext.txt"},
        {"ocr-images-tesseract/8087_054.3B-scan.pdf", "ocr-images-tesseract/8087_054.3B.txt"},
    };
    for (const AccuracyCase & c : cases) {
        auto reference = core::read_file(data / c.reference);
        auto bytes = core::read_file(data / c.pdf);
        auto doc = ingest::extract_file(data / c.pdf, {});
        if (!reference.ok() || !bytes.ok() || !doc.ok()) {
            std::printf("%-34s skipped: %s\n", c.pdf, doc.ok() ? "missing file" : doc.error().to_string().c_str());
            continue;
        }
        const std::vector<std::string> texts = page_texts(doc.value());
        std::vector<ingest::GrayImage> images;
        if (cli) {
            auto rendered = ingest::render_pdf(bytes.value(), 300);
            if (rendered.ok()) {
                images = std::move(rendered).value();
            }
        }
        for (size_t p = 0; p < texts.size(); ++p) {
            const double ours = ingest::character_error_rate(texts[p], reference.value());
            const std::string name =
                fs::path(c.pdf).filename().string() + (texts.size() > 1 ? " p" + std::to_string(p + 1) : "");
            if (cli && p < images.size() && !images[p].empty()) {
                const fs::path pgm = tmp / "page.pgm";
                write_pgm(pgm, images[p]);
                const std::string theirs_text =
                    run_capture("tesseract '" + pgm.string() + "' stdout --dpi 300 -l eng 2>/dev/null");
                const double theirs = ingest::character_error_rate(theirs_text, reference.value());
                std::printf("%-34s %10.4f %12.4f %10.1f\n", name.c_str(), ours, theirs, ours > 0 ? theirs / ours : 0.0);
            } else {
                std::printf("%-34s %10.4f %12s %10s\n", name.c_str(), ours, "n/a", "n/a");
            }
        }
    }

    // 2. Text layer throughput ----------------------------------------------------------------
    std::printf("\n== Text-layer pages per second (median of %d) ==\n", reps);
    const std::vector<std::string> text_pdfs = {"pdfs-ocrmypdf/tagged.pdf", "pdfs-ocrmypdf/link.pdf",
                                                "pdfs-ocrmypdf/graph_ocred.pdf"};
    {
        ingest::IngestOptions opts;
        opts.ocr_enabled = false;
        std::vector<double> ours;
        std::vector<double> raw;
        std::vector<double> tool;
        const int inner = 20;
        for (int r = 0; r < reps; ++r) {
            size_t pages = 0;
            auto t0 = std::chrono::steady_clock::now();
            for (int k = 0; k < inner; ++k) {
                for (const std::string & f : text_pdfs) {
                    auto doc = ingest::extract_file(data / f, opts);
                    pages += doc.ok() ? static_cast<size_t>(doc->page_count) : 0;
                }
            }
            ours.push_back(static_cast<double>(pages) / seconds_since(t0));

            pages = 0;
            t0 = std::chrono::steady_clock::now();
            for (int k = 0; k < inner; ++k) {
                for (const std::string & f : text_pdfs) {
                    auto bytes = core::read_file(data / f);
                    if (!bytes.ok()) {
                        continue;
                    }
                    auto texts = ingest::plain_page_texts(bytes.value());
                    pages += texts.ok() ? texts->size() : 0;
                }
            }
            raw.push_back(static_cast<double>(pages) / seconds_since(t0));

            if (pdftotext) {
                pages = 0;
                t0 = std::chrono::steady_clock::now();
                for (int k = 0; k < inner; ++k) {
                    for (const std::string & f : text_pdfs) {
                        run_capture("pdftotext '" + (data / f).string() + "' - 2>/dev/null");
                        pages += f.find("graph") != std::string::npos ? 1 : 2;
                    }
                }
                tool.push_back(static_cast<double>(pages) / seconds_since(t0));
            }
        }
        std::printf("strongbox (lines, boxes, chunks, layer check) %10.1f pages/s\n", median(ours));
        std::printf("poppler page text only (baseline)             %10.1f pages/s   ratio ours/baseline %.2f\n",
                    median(raw), median(ours) / median(raw));
        if (pdftotext) {
            std::printf("pdftotext process per file (baseline)         %10.1f pages/s   ratio ours/baseline %.2f\n",
                        median(tool), median(ours) / median(tool));
        } else {
            std::printf("pdftotext: not installed, no baseline\n");
        }
    }

    // 3. OCR throughput -----------------------------------------------------------------------
    std::printf("\n== OCR pages per second, cardinal.pdf (4 pages, 300 dpi), median of %d ==\n", reps);
    {
        const fs::path pdf = data / "pdfs-ocrmypdf/cardinal.pdf";
        double one = 0;
        for (int workers : {1, 2}) {
            ingest::IngestOptions opts;
            opts.ocr_workers = workers;
            std::vector<double> rates;
            for (int r = 0; r < reps; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                auto doc = ingest::extract_file(pdf, opts);
                if (doc.ok()) {
                    rates.push_back(static_cast<double>(doc->page_count) / seconds_since(t0));
                }
            }
            const double m = median(rates);
            if (workers == 1) {
                one = m;
            }
            std::printf("strongbox, %d worker%s (OSD + deskew + OCR)   %8.3f pages/s   speed-up vs 1 worker %.2f\n",
                        workers, workers > 1 ? "s" : " ", m, one > 0 ? m / one : 0.0);
        }
        if (cli) {
            auto bytes = core::read_file(pdf);
            auto images =
                bytes.ok() ? ingest::render_pdf(bytes.value(), 300)
                           : core::Result<std::vector<ingest::GrayImage>>(core::Error(core::ErrorCode::kNotFound, ""));
            std::vector<double> rates;
            for (int r = 0; images.ok() && r < reps; ++r) {
                const auto t0 = std::chrono::steady_clock::now();
                for (size_t p = 0; p < images->size(); ++p) {
                    const fs::path pgm = tmp / ("page" + std::to_string(p) + ".pgm");
                    write_pgm(pgm, (*images)[p]);
                    run_capture("tesseract '" + pgm.string() + "' stdout --dpi 300 -l eng 2>/dev/null");
                }
                rates.push_back(static_cast<double>(images->size()) / seconds_since(t0));
            }
            std::printf("tesseract-cli, serial (baseline, OCR only)    %8.3f pages/s   ratio 1 worker/baseline %.2f\n",
                        median(rates), median(rates) > 0 ? one / median(rates) : 0.0);
        } else {
            std::printf("tesseract CLI: not installed, no baseline\n");
        }
    }
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return 0;
}
