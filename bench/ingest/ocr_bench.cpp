// Ingest of documents: OCR accuracy (character error rate against reference texts) and
// throughput of the text-layer and OCR paths, each next to a baseline measured in the same run:
//   - accuracy: the tesseract command-line tool on the same page rendered at the same dpi
//     (no orientation detection, no deskew), when it is installed;
//   - text layer: Poppler's own plain page text (no lines, boxes or chunks), and pdftotext when
//     installed;
//   - OCR: the tesseract command-line tool, one page after another.
// Prints medians over the repetitions; never asserts on time.
//
// Also prints the size of chunk provenance as JSON, with and without word boxes.
//
//   strongbox_bench_ocr [data_dir] [repetitions] [sections: accuracy,text,ocr,size (default all)]
#include "bench_util.h"
#include "layout.h"
#include "ocr.h"
#include "pdf_pages.h"

#include "strongbox/core/file.h"
#include "strongbox/ingest/ingest.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

using strongbox::bench::median;

namespace fs = std::filesystem;
using namespace strongbox;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
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
    const char * pdf;  // or an image file
    const char * reference;
};

// The reference texts of the UNLV-style sets are typed in ASCII: typographic quotes and dashes
// in the page (which OCR reads correctly) count as errors against them. The folded figure maps
// both sides to ASCII first, to tell such differences from misreadings.
std::string fold_typography(std::string s) {
    const std::pair<const char *, const char *> folds[] = {
        {"\xE2\x80\x98", "'"}, {"\xE2\x80\x99", "'"}, {"\xE2\x80\x9C", "\""}, {"\xE2\x80\x9D", "\""},
        {"\xE2\x80\x94", "-"}, {"\xE2\x80\x93", "-"}, {"\xEF\xAC\x81", "fi"}, {"\xEF\xAC\x82", "fl"},
    };
    for (const auto & [from, to] : folds) {
        for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + std::strlen(to))) {
            s.replace(pos, std::strlen(from), to);
        }
    }
    return s;
}

bool is_image(const fs::path & p) {
    const std::string ext = p.extension().string();
    return ext == ".tif" || ext == ".png";
}

// Text of an image file read the way a PDF page is: OSD, deskew, OCR, lines, paragraphs, chunks.
std::string ocr_image_text(const fs::path & path) {
    auto image = ingest::read_image(path.string());
    auto engine = ingest::OcrEngine::create("eng", "");
    if (!image.ok() || !engine.ok()) {
        return {};
    }
    auto r = engine.value()->recognize(image.value());
    if (!r.ok()) {
        return {};
    }
    std::string out;
    const auto chunks = ingest::build_chunks(ingest::group_paragraphs(ingest::group_lines(r->words)), {}, 1200);
    for (const core::Chunk & c : chunks) {
        out += c.text + "\n";
    }
    return out;
}

bool wanted(const std::string & sections, const char * name) {
    return sections == "all" || ("," + sections + ",").find(std::string(",") + name + ",") != std::string::npos;
}

}  // namespace

int main(int argc, char ** argv) {
    // Default: ../shared/data next to the repository this file was built from.
    const fs::path repo = fs::path(__FILE__).parent_path().parent_path().parent_path();
    const fs::path data = argc > 1 ? fs::path(argv[1]) : repo / ".." / "shared" / "data";
    const int reps = argc > 2 ? std::max(1, std::atoi(argv[2])) : 3;
    const std::string sections = argc > 3 ? argv[3] : "all";
    const bool cli = have_tool("tesseract");
    const bool pdftotext = have_tool("pdftotext");
    const fs::path tmp = fs::temp_directory_path() / ("strongbox_ocr_bench_" + std::to_string(::getpid()));
    fs::create_directories(tmp);
    std::printf("Strongbox ingest bench: data %s, %d repetitions, tesseract %s\n", data.c_str(), reps,
                ingest::tesseract_version().c_str());

    // 1. Accuracy -------------------------------------------------------------------------------
    if (wanted(sections, "accuracy")) {
        std::printf("\n== OCR character error rate (lower is better), 300 dpi, eng ==\n");
        std::printf("%-34s %10s %12s %10s %10s %10s\n", "page", "strongbox", "tesseract-cli", "cli/ours", "ours-fold",
                    "cli-fold");
        const std::vector<AccuracyCase> cases = {
            {"pdfs-ocrmypdf/linn.pdf", "pdfs-ocrmypdf/linn.txt"},
            {"pdfs-ocrmypdf/skew.pdf", "pdfs-ocrmypdf/linn.txt"},
            {"pdfs-ocrmypdf/rotated_skew.pdf", "pdfs-ocrmypdf/linn.txt"},
            {"pdfs-ocrmypdf/cardinal.pdf", "pdfs-ocrmypdf/linn.txt"},
            {"ocr-images-tesseract/phototest-scan.pdf", "ocr-images-tesseract/phototest.txt"},
            {"ocr-images-tesseract/eurotext-scan.pdf", "ocr-images-tesseract/eurotext.txt"},
            {"ocr-images-tesseract/8087_054.3B-scan.pdf", "ocr-images-tesseract/8087_054.3B.txt"},
            {"ocr-images-tesseract/phototest.tif", "ocr-images-tesseract/phototest.txt"},
            {"ocr-images-tesseract/phototest-rotated-L.png", "ocr-images-tesseract/phototest.txt"},
            {"ocr-images-tesseract/phototest-rotated-R.png", "ocr-images-tesseract/phototest.txt"},
            {"ocr-images-tesseract/phototest-rotated-180.png", "ocr-images-tesseract/phototest.txt"},
            {"ocr-images-tesseract/eurotext.tif", "ocr-images-tesseract/eurotext.txt"},
            {"ocr-images-tesseract/8087_054.3B.tif", "ocr-images-tesseract/8087_054.3B.txt"},
            {"ocr-images-tesseract/8071_093.3B.tif", "ocr-images-tesseract/8071_093.3B.txt"},
        };
        for (const AccuracyCase & c : cases) {
            auto reference = core::read_file(data / c.reference);
            if (is_image(c.pdf) && reference.ok()) {
                const std::string ours_text = ocr_image_text(data / c.pdf);
                const double ours = ingest::character_error_rate(ours_text, reference.value());
                const double ours_fold =
                    ingest::character_error_rate(fold_typography(ours_text), fold_typography(reference.value()));
                if (cli) {
                    const std::string theirs_text =
                        run_capture("tesseract '" + (data / c.pdf).string() + "' stdout -l eng 2>/dev/null");
                    const double theirs = ingest::character_error_rate(theirs_text, reference.value());
                    const double theirs_fold =
                        ingest::character_error_rate(fold_typography(theirs_text), fold_typography(reference.value()));
                    std::printf("%-34s %10.4f %12.4f %10.1f %10.4f %10.4f\n", fs::path(c.pdf).filename().c_str(), ours,
                                theirs, ours > 0 ? theirs / ours : 0.0, ours_fold, theirs_fold);
                } else {
                    std::printf("%-34s %10.4f %12s %10s %10.4f\n", fs::path(c.pdf).filename().c_str(), ours, "n/a",
                                "n/a", ours_fold);
                }
                continue;
            }
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
                const double ours_fold =
                    ingest::character_error_rate(fold_typography(texts[p]), fold_typography(reference.value()));
                const std::string name =
                    fs::path(c.pdf).filename().string() + (texts.size() > 1 ? " p" + std::to_string(p + 1) : "");
                if (cli && p < images.size() && !images[p].empty()) {
                    const fs::path pgm = tmp / "page.pgm";
                    write_pgm(pgm, images[p]);
                    const std::string theirs_text =
                        run_capture("tesseract '" + pgm.string() + "' stdout --dpi 300 -l eng 2>/dev/null");
                    const double theirs = ingest::character_error_rate(theirs_text, reference.value());
                    const double theirs_fold =
                        ingest::character_error_rate(fold_typography(theirs_text), fold_typography(reference.value()));
                    std::printf("%-34s %10.4f %12.4f %10.1f %10.4f %10.4f\n", name.c_str(), ours, theirs,
                                ours > 0 ? theirs / ours : 0.0, ours_fold, theirs_fold);
                } else {
                    std::printf("%-34s %10.4f %12s %10s %10.4f\n", name.c_str(), ours, "n/a", "n/a", ours_fold);
                }
            }
        }
    }

    // 2. Text layer throughput ----------------------------------------------------------------
    const std::vector<std::string> text_pdfs = {"pdfs-ocrmypdf/tagged.pdf", "pdfs-ocrmypdf/link.pdf",
                                                "pdfs-ocrmypdf/graph_ocred.pdf"};
    if (wanted(sections, "text")) {
        std::printf("\n== Text-layer pages per second (median of %d) ==\n", reps);
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
    if (wanted(sections, "ocr")) {
        std::printf("\n== OCR pages per second, cardinal.pdf (4 pages, 300 dpi), median of %d ==\n", reps);
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
    // 4. Provenance size ----------------------------------------------------------------------
    if (wanted(sections, "size")) {
        std::printf("\n== Provenance JSON bytes per byte of chunk text ==\n");
        for (const char * f : {"pdfs-ocrmypdf/tagged.pdf", "pdfs-ocrmypdf/linn.pdf"}) {
            auto doc = ingest::extract_file(data / f, {});
            if (!doc.ok()) {
                continue;
            }
            size_t text = 0;
            size_t with_words = 0;
            size_t lines_only = 0;
            size_t n_words = 0;
            for (core::Chunk c : doc->chunks) {
                text += c.text.size();
                with_words += core::to_json(c.provenance).dump().size();
                n_words += c.provenance.word_boxes.size();
                c.provenance.word_boxes.clear();
                lines_only += core::to_json(c.provenance).dump().size();
            }
            const double t = static_cast<double>(std::max<size_t>(text, 1));
            std::printf("%-28s %zu chunks, %zu text bytes, %zu word boxes: lines only %.2f, with words %.2f "
                        "(%.1f bytes per word box)\n",
                        f, doc->chunks.size(), text, n_words, static_cast<double>(lines_only) / t,
                        static_cast<double>(with_words) / t,
                        n_words > 0 ? static_cast<double>(with_words - lines_only) / static_cast<double>(n_words)
                                    : 0.0);
        }
    }
    std::error_code ec;
    fs::remove_all(tmp, ec);
    return 0;
}
