// CorpusService: a small query service over plain-text files, for the web UI tests and the
// browser end-to-end server. Each blank-line separated paragraph is a chunk with its line range and
// the file's sha256; ask() ranks chunks by how many distinct question terms they contain and
// answers with the best-matching sentence of each, citing it, or refuses when no chunk matches
// enough of the question. Thread-safe after loading (read-only).
#pragma once

#include "unsupported_services.h"

#include "strongbox/core/answer.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace strongbox::webui::testing {

class CorpusService : public UnsupportedServices {
  public:
    core::Status add_file(const std::filesystem::path & path) {
        SB_ASSIGN_OR_RETURN(std::string text, core::read_file(path));
        add_text(std::filesystem::absolute(path).string(), text);
        return core::ok_status();
    }

    void add_text(const std::string & source_path, const std::string & text) {
        const std::string sha = core::sha256_hex(text);
        const size_t doc = n_documents_++;
        std::vector<std::string_view> lines = core::split(text, '\n');
        std::string paragraph;
        int first_line = 0;
        auto flush = [&](int last_line) {
            if (paragraph.empty()) {
                return;
            }
            Entry e;
            e.document = doc;
            e.text = core::collapse_whitespace(paragraph);
            e.provenance.source_path = source_path;
            e.provenance.source_sha256 = sha;
            e.provenance.line_start = first_line;
            e.provenance.line_end = last_line;
            e.provenance.extractor = "plain-text";
            e.provenance.ingested_at = "2026-11-22T12:00:00Z";
            entries_.push_back(std::move(e));
            paragraph.clear();
        };
        for (size_t i = 0; i < lines.size(); ++i) {
            const int line_no = static_cast<int>(i) + 1;
            if (core::trim(lines[i]).empty()) {
                flush(line_no - 1);
                continue;
            }
            if (paragraph.empty()) {
                first_line = line_no;
            }
            paragraph += lines[i];
            paragraph += '\n';
        }
        flush(static_cast<int>(lines.size()));
    }

    core::Result<core::Answer> ask(const AskRequest & request) override {
        const auto start = std::chrono::steady_clock::now();
        core::Answer answer;
        answer.question = request.question;
        answer.answerer = "extractive";
        const std::set<std::string> terms = terms_of(request.question);

        std::vector<std::pair<size_t, size_t>> ranked;  // (matched terms, entry index)
        for (size_t i = 0; i < entries_.size(); ++i) {
            const std::set<std::string> have = terms_of(entries_[i].text);
            size_t matched = 0;
            for (const std::string & t : terms) {
                matched += have.count(t);
            }
            // Half of the question's content words must appear, so unrelated questions are refused.
            if (matched > 0 && matched * 2 >= terms.size()) {
                ranked.emplace_back(matched, i);
            }
        }
        std::stable_sort(ranked.begin(), ranked.end(),
                         [](const auto & a, const auto & b) { return a.first > b.first; });
        const size_t keep = std::min<size_t>({ranked.size(), static_cast<size_t>(std::max(1, request.top_k)), 3});
        for (size_t k = 0; k < keep; ++k) {
            const Entry & e = entries_[ranked[k].second];
            const std::string sentence = best_sentence(e.text, terms);
            core::Citation c;
            c.number = static_cast<int>(k) + 1;
            c.chunk_id = static_cast<int64_t>(ranked[k].second) + 1;
            c.quote = sentence;
            c.provenance = e.provenance;
            c.score = static_cast<double>(ranked[k].first) / static_cast<double>(terms.size());
            core::AnswerSentence s;
            s.text = sentence;
            s.citations = {c.number};
            s.support = k == 0 ? core::Support::kSupported : core::Support::kPartial;
            answer.sentences.push_back(std::move(s));
            answer.citations.push_back(std::move(c));
        }
        if (answer.citations.empty()) {
            answer.refused = true;
            answer.refusal_reason = "No passage in the indexed documents addresses this question.";
        }
        answer.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
        return answer;
    }

    core::Result<SourceView> source(int64_t chunk_id, const Caller &) override {
        if (chunk_id < 1 || chunk_id > static_cast<int64_t>(entries_.size())) {
            return core::Error(core::ErrorCode::kNotFound, "chunk " + std::to_string(chunk_id) + " does not exist");
        }
        const size_t i = static_cast<size_t>(chunk_id - 1);
        SourceView view;
        view.chunk_id = chunk_id;
        view.provenance = entries_[i].provenance;
        view.location = core::describe_location(view.provenance);
        view.passage = entries_[i].text;
        if (i > 0 && entries_[i - 1].document == entries_[i].document) {
            view.before.push_back(entries_[i - 1].text);
        }
        if (i + 1 < entries_.size() && entries_[i + 1].document == entries_[i].document) {
            view.after.push_back(entries_[i + 1].text);
        }
        return view;
    }

    Health health() override {
        Health h;
        h.documents = static_cast<int64_t>(n_documents_);
        h.chunks = static_cast<int64_t>(entries_.size());
        return h;
    }

    // Streams like a generator would: a stage, the answer text sentence by sentence, the answer.
    core::Status ask_stream(const AskRequest & request, const AskSink & sink) override {
        AskProgress stage;
        stage.kind = AskProgress::Kind::kStage;
        stage.text = "retrieving";
        if (!sink(stage)) {
            return core::Error(core::ErrorCode::kCancelled, "client went away");
        }
        SB_ASSIGN_OR_RETURN(core::Answer answer, ask(request));
        for (const core::AnswerSentence & s : answer.sentences) {
            AskProgress piece;
            piece.kind = AskProgress::Kind::kText;
            piece.text = s.text + " ";
            if (!sink(piece)) {
                return core::Error(core::ErrorCode::kCancelled, "client went away");
            }
        }
        AskProgress done;
        done.kind = AskProgress::Kind::kAnswer;
        done.answer = std::move(answer);
        if (!sink(done)) {
            return core::Error(core::ErrorCode::kCancelled, "client went away");
        }
        return core::ok_status();
    }

  private:
    struct Entry {
        size_t document = 0;
        std::string text;
        core::Provenance provenance;
    };

    static std::set<std::string> terms_of(std::string_view text) {
        static const std::set<std::string, std::less<>> kStop = {
            "the",  "and",  "for",  "are", "was",   "were", "with", "that", "this", "there", "what", "which",
            "does", "did",  "can",  "how", "who",   "why",  "when", "from", "into", "than",  "any",  "has",
            "have", "been", "role", "its", "their", "all",  "not",  "but",  "our",  "per",   "use"};
        std::set<std::string> out;
        std::string word;
        // Six leading letters stand in for a stem: "predict" and "predicting" meet as "predic".
        auto push = [&] {
            if (word.size() >= 3 && kStop.find(word) == kStop.end()) {
                out.insert(word.substr(0, 6));
            }
            word.clear();
        };
        for (char ch : text) {
            const auto c = static_cast<unsigned char>(ch);
            if (std::isalnum(c) != 0) {
                word += static_cast<char>(std::tolower(c));
            } else {
                push();
            }
        }
        push();
        return out;
    }

    static std::string best_sentence(const std::string & text, const std::set<std::string> & terms) {
        std::string best;
        size_t best_hits = 0;
        size_t begin = 0;
        while (begin < text.size()) {
            size_t end = text.find(". ", begin);
            end = end == std::string::npos ? text.size() : end + 1;
            std::string sentence(core::trim(std::string_view(text).substr(begin, end - begin)));
            size_t hits = 0;
            for (const std::string & t : terms_of(sentence)) {
                hits += terms.count(t);
            }
            if (hits > best_hits || best.empty()) {
                best_hits = hits;
                best = sentence;
            }
            begin = end;
        }
        return best;
    }

    std::vector<Entry> entries_;
    size_t n_documents_ = 0;
};

}  // namespace strongbox::webui::testing
