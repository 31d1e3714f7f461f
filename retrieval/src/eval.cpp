#include "strongbox/retrieval/eval.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"
#include "strongbox/core/text.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

namespace strongbox::retrieval {

using core::Error;
using core::ErrorCode;
using core::Json;
using core::Result;

namespace {

constexpr int kChunkDepth = 100;  // chunk hits fetched per query; enough for 10 distinct documents
const std::string kEvalCollection = "eval";

// Calls on_line(json, line_number) for each non-empty line of a JSON-lines file.
template <typename F>
core::Status for_each_jsonl(const std::filesystem::path & path, F && on_line) {
    auto text = core::read_file(path);
    if (!text.ok()) {
        return std::move(text).error();
    }
    int line_no = 0;
    for (std::string_view line : core::split(*text, '\n')) {
        ++line_no;
        if (core::trim(line).empty()) {
            continue;
        }
        auto j = Json::parse(line);
        if (!j.ok() || !j->is_object()) {
            return Error(ErrorCode::kCorruptInput, path.string() + ":" + std::to_string(line_no) + ": " +
                                                       (j.ok() ? "not a JSON object" : j.error().message()));
        }
        SB_TRY(on_line(*j, line_no));
    }
    return {};
}

std::string id_string(const Json * v) {
    if (v == nullptr) {
        return "";
    }
    if (v->is_string()) {
        return v->as_string();
    }
    if (v->is_int()) {
        return std::to_string(v->as_int());
    }
    return "";
}

}  // namespace

Result<EvalDataset> load_pubmedqa(const std::filesystem::path & dir) {
    EvalDataset data;
    data.name = "pubmedqa-pqal";
    auto corpus_path = dir / "corpus_contexts1000.jsonl";
    SB_TRY(for_each_jsonl(corpus_path, [&](const Json & j, int line) -> core::Status {
        EvalDocument doc;
        doc.id = id_string(j.find("pmid"));
        const Json * contexts = j.find("contexts");
        if (doc.id.empty() || contexts == nullptr || !contexts->is_array()) {
            return Error(ErrorCode::kCorruptInput,
                         corpus_path.string() + ":" + std::to_string(line) + ": needs pmid and contexts[]");
        }
        for (const auto & c : contexts->as_array()) {
            if (c.is_string() && !core::trim(c.as_string()).empty()) {
                doc.passages.push_back(c.as_string());
            }
        }
        data.corpus.push_back(std::move(doc));
        return {};
    }));
    auto queries_path = dir / "queries_dev500.jsonl";
    SB_TRY(for_each_jsonl(queries_path, [&](const Json & j, int line) -> core::Status {
        EvalQuery q;
        q.id = id_string(j.find("qid"));
        q.text = j.get_string("question");
        std::string gold = id_string(j.find("gold_pmid"));
        if (q.id.empty() || q.text.empty() || gold.empty()) {
            return Error(ErrorCode::kCorruptInput,
                         queries_path.string() + ":" + std::to_string(line) + ": needs qid, question and gold_pmid");
        }
        q.relevant.push_back(gold);
        data.queries.push_back(std::move(q));
        return {};
    }));
    return data;
}

Result<EvalDataset> load_beir(const std::filesystem::path & dir, std::string_view split) {
    EvalDataset data;
    data.name = dir.filename().string();
    auto corpus_path = dir / "corpus.jsonl";
    SB_TRY(for_each_jsonl(corpus_path, [&](const Json & j, int line) -> core::Status {
        EvalDocument doc;
        doc.id = id_string(j.find("_id"));
        std::string title = j.get_string("title");
        std::string text = j.get_string("text");
        if (doc.id.empty()) {
            return Error(ErrorCode::kCorruptInput, corpus_path.string() + ":" + std::to_string(line) + ": needs _id");
        }
        doc.passages.push_back(title.empty() ? text : title + ". " + text);
        data.corpus.push_back(std::move(doc));
        return {};
    }));
    std::map<std::string, EvalQuery> by_id;
    auto queries_path = dir / "queries.jsonl";
    SB_TRY(for_each_jsonl(queries_path, [&](const Json & j, int) -> core::Status {
        EvalQuery q;
        q.id = id_string(j.find("_id"));
        q.text = j.get_string("text");
        by_id[q.id] = std::move(q);
        return {};
    }));
    auto qrels_path = dir / "qrels" / (std::string(split) + ".tsv");
    SB_ASSIGN_OR_RETURN(std::string qrels, core::read_file(qrels_path));
    int line_no = 0;
    for (std::string_view line : core::split(qrels, '\n')) {
        ++line_no;
        auto fields = core::split(core::trim(line), '\t');
        if (fields.size() < 3 || (line_no == 1 && fields[0] == "query-id")) {
            continue;
        }
        auto it = by_id.find(std::string(fields[0]));
        if (it == by_id.end()) {
            return Error(ErrorCode::kCorruptInput, qrels_path.string() + ":" + std::to_string(line_no) +
                                                       ": unknown query id " + std::string(fields[0]));
        }
        if (std::atof(std::string(fields[2]).c_str()) > 0) {
            it->second.relevant.emplace_back(fields[1]);
        }
    }
    for (auto & [id, q] : by_id) {
        if (!q.relevant.empty()) {
            data.queries.push_back(std::move(q));
        }
    }
    return data;
}

EvalMetrics compute_metrics(const std::vector<std::vector<std::string>> & rankings,
                            const std::vector<EvalQuery> & queries) {
    SB_CHECK(rankings.size() == queries.size());
    EvalMetrics m;
    for (size_t qi = 0; qi < queries.size(); ++qi) {
        const auto & relevant = queries[qi].relevant;
        if (relevant.empty()) {
            continue;
        }
        ++m.queries;
        std::unordered_set<std::string> rel(relevant.begin(), relevant.end());
        const auto & ranking = rankings[qi];
        auto recall_at = [&](size_t k) {
            size_t found = 0;
            for (size_t i = 0; i < ranking.size() && i < k; ++i) {
                found += rel.count(ranking[i]);
            }
            return static_cast<double>(found) / static_cast<double>(rel.size());
        };
        m.recall_at_1 += recall_at(1);
        m.recall_at_5 += recall_at(5);
        m.recall_at_10 += recall_at(10);
        double dcg = 0;
        bool first = true;
        for (size_t i = 0; i < ranking.size() && i < 10; ++i) {
            if (rel.count(ranking[i]) != 0) {
                if (first) {
                    m.mrr_at_10 += 1.0 / static_cast<double>(i + 1);
                    first = false;
                }
                dcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
            }
        }
        double idcg = 0;
        for (size_t i = 0; i < rel.size() && i < 10; ++i) {
            idcg += 1.0 / std::log2(static_cast<double>(i) + 2.0);
        }
        m.ndcg_at_10 += dcg / idcg;
    }
    if (m.queries > 0) {
        double n = m.queries;
        m.recall_at_1 /= n;
        m.recall_at_5 /= n;
        m.recall_at_10 /= n;
        m.mrr_at_10 /= n;
        m.ndcg_at_10 /= n;
    }
    return m;
}

Result<std::vector<EvalResult>> evaluate_retrieval(const EvalDataset & dataset, const std::filesystem::path & work_dir,
                                                   std::span<const EvalRun> runs,
                                                   std::shared_ptr<const Embedder> embedder) {
    std::error_code ec;
    std::filesystem::remove_all(work_dir, ec);
    std::filesystem::create_directories(work_dir, ec);
    if (ec) {
        return Error(ErrorCode::kIoError, "evaluation work directory " + work_dir.string() + ": " + ec.message());
    }
    RetrieverOptions opts;
    opts.database = work_dir / "eval.db";
    SB_ASSIGN_OR_RETURN(Retriever retriever, Retriever::open(opts, std::move(embedder)));
    const std::string prefix = "/eval/" + dataset.name + "/";
    for (const auto & doc : dataset.corpus) {
        core::ExtractedDocument ex;
        ex.source_path = prefix + doc.id;
        ex.media_type = "text/plain";
        std::string all;
        for (size_t i = 0; i < doc.passages.size(); ++i) {
            core::Chunk c;
            c.text = doc.passages[i];
            c.provenance.line_start = static_cast<int>(i) + 1;
            c.provenance.line_end = static_cast<int>(i) + 1;
            c.provenance.extractor = "eval-corpus";
            all += doc.passages[i] + "\n";
            ex.chunks.push_back(std::move(c));
        }
        ex.sha256 = core::sha256_hex(all);
        ex.size_bytes = static_cast<int64_t>(all.size());
        ex.page_count = static_cast<int>(doc.passages.size());
        auto added = retriever.index_document(ex, kEvalCollection);
        if (!added.ok()) {
            return std::move(added).error().with_context("index evaluation corpus");
        }
    }
    std::vector<EvalResult> results;
    for (const auto & run : runs) {
        SearchOptions options = run.options;
        options.filter.collections = {kEvalCollection};
        options.k = std::max(options.k, kChunkDepth);
        options.candidates = std::max(options.candidates, kChunkDepth);
        std::vector<std::vector<std::string>> rankings;
        std::vector<double> times_ms;
        for (const auto & q : dataset.queries) {
            auto start = std::chrono::steady_clock::now();
            SB_ASSIGN_OR_RETURN(std::vector<SearchHit> hits, retriever.search(q.text, options));
            auto elapsed = std::chrono::steady_clock::now() - start;
            times_ms.push_back(std::chrono::duration<double, std::milli>(elapsed).count());
            std::vector<std::string> ranking;
            std::unordered_set<std::string> seen;
            for (const auto & hit : hits) {
                std::string id = hit.document.path.substr(prefix.size());
                if (seen.insert(id).second) {
                    ranking.push_back(id);
                }
            }
            rankings.push_back(std::move(ranking));
        }
        EvalResult r;
        r.name = run.name;
        r.metrics = compute_metrics(rankings, dataset.queries);
        r.rankings = std::move(rankings);
        if (!times_ms.empty()) {
            std::nth_element(times_ms.begin(), times_ms.begin() + static_cast<std::ptrdiff_t>(times_ms.size() / 2),
                             times_ms.end());
            r.median_query_ms = times_ms[times_ms.size() / 2];
        }
        results.push_back(std::move(r));
    }
    return results;
}

}  // namespace strongbox::retrieval
