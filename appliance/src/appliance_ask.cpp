// Appliance::ask: retrieval within the caller's collections, caps and quota, the extractive or
// grounded answer, citation checks, and the audit record without which no answer is returned.
#include "appliance_impl.h"

namespace strongbox::appliance {
namespace {

// The refusal shown when retrieval found nothing close enough, or the answerer found no answer:
// says so explicitly and shows the nearest passages as numbered sources.
void refuse_with_nearest(core::Answer & answer, const std::string & reason, const std::vector<Passage> & passages) {
    answer.refused = true;
    answer.sentences.clear();
    answer.citations.clear();
    answer.refusal_reason = refusal_with_nearest(reason, passages);
    for (size_t i = 0; i < passages.size() && i < 3; ++i) {
        core::Citation c;
        c.number = static_cast<int>(i) + 1;
        c.chunk_id = passages[i].chunk_id;
        c.quote = core::collapse_whitespace(passages[i].text);
        c.provenance = passages[i].provenance;
        c.score = passages[i].score;
        answer.citations.push_back(std::move(c));
    }
}

}  // namespace

double best_question_coverage(const std::string & question, const std::vector<Passage> & passages) {
    const std::vector<std::string> q = content_words(question);
    const std::set<std::string> want(q.begin(), q.end());
    if (want.empty()) {
        return 0;
    }
    double best = 0;
    for (const Passage & p : passages) {
        const std::vector<std::string> w = content_words(p.text);
        const std::set<std::string> have(w.begin(), w.end());
        size_t n = 0;
        for (const std::string & x : want) {
            n += have.count(x);
        }
        best = std::max(best, static_cast<double>(n) / static_cast<double>(want.size()));
    }
    return best;
}

core::Result<core::Answer> Appliance::ask(const std::string & question, const std::string & user,
                                          const std::string & channel, int top_k) {
    return ask(question, user, channel, top_k, {});
}

core::Result<core::Answer> Appliance::ask(const std::string & question, const std::string & user,
                                          const std::string & channel, int top_k,
                                          const std::function<bool(std::string_view)> & on_text,
                                          const std::vector<std::string> * collections) {
    const auto start = std::chrono::steady_clock::now();
    const Settings & settings = impl_->settings;
    if (question.empty()) {
        return core::Error(core::ErrorCode::kInvalidArgument, "the question is empty");
    }
    if (top_k < 1 || top_k > 50) {
        return core::Error(core::ErrorCode::kInvalidArgument, "top_k must be between 1 and 50");
    }
    SB_ASSIGN_OR_RETURN(std::vector<retrieval::SearchHit> hits,
                        impl_->retriever.search(question, impl_->search_options(top_k, collections, *this)));
    std::vector<Passage> passages;
    double best_bm25 = 0;
    for (retrieval::SearchHit & h : hits) {
        best_bm25 = std::max(best_bm25, h.bm25_score);
        passages.push_back(Passage{h.chunk_id, h.text, h.provenance, h.score});
    }
    const double coverage = best_question_coverage(question, passages);

    core::Answer answer;
    answer.question = question;
    std::vector<SentenceCheck> checks;
    std::string stopped_by;
    GroundedRun run;
    const bool generative = impl_->grounded != nullptr;
    answer.answerer = generative ? "generative (" + impl_->grounded->model_info().file_name + ")" : "extractive";
    bool quota_left = true;
    if (generative) {
        SB_ASSIGN_OR_RETURN(quota_left, impl_->quota->has_room(user, settings.caps.daily_user_tokens));
    }
    if (!quota_left) {
        stopped_by = kCapDailyQuota;
        refuse_with_nearest(answer, "Not answered: " + describe_cap(kCapDailyQuota, settings.caps), {});
    } else if (passages.empty() || coverage < settings.min_question_coverage) {
        // Say what is missing when that is the reason ("no passage mentions \"NAS-9\"").
        const std::string why = candidate_sentences(question, passages).refusal;
        refuse_with_nearest(
            answer,
            !why.empty() ? why : "Not found in the indexed documents: no passage is close enough to the question.",
            passages);
    } else if (generative) {
        GroundedRequest request;
        request.caps = settings.caps;
        request.verifier = settings.verifier;
        request.deadline = start + std::chrono::milliseconds(settings.caps.deadline_ms);
        request.on_text = on_text;
        SB_ASSIGN_OR_RETURN(run, impl_->grounded->answer(question, passages, request));
        // The tokens are spent whether or not the answer survives verification.
        if (auto charged = impl_->quota->charge(user, static_cast<int64_t>(run.prompt_tokens + run.generated_tokens));
            !charged.ok()) {
            SB_LOG_ERROR("ask: %s", charged.error().message().c_str());
        }
        answer = std::move(run.answer);
        checks = run.checks;
        stopped_by = run.stopped_by;
    } else {
        answer = answer_extractively(question, passages, settings.answer);
        // The extractive sentences are quotes, so this should always pass; it is checked anyway
        // so a fault in sentence splitting or citation numbering cannot reach a user unflagged.
        checks = verify_citations(answer, passages);
        if (settings.verifier.remove_unsupported) {
            std::erase_if(answer.sentences,
                          [](const core::AnswerSentence & s) { return s.support == core::Support::kUnsupported; });
        }
        const bool any_supported = std::any_of(answer.sentences.begin(), answer.sentences.end(),
                                               [](const auto & s) { return s.support == core::Support::kSupported; });
        if (answer.refused || !any_supported) {
            refuse_with_nearest(
                answer,
                answer.refused && !answer.refusal_reason.empty()
                    ? answer.refusal_reason
                    : "Not found in the indexed documents: no passage states an answer to the question.",
                passages);
        }
        if (on_text && !on_text(answer.text())) {
            return core::Error(core::ErrorCode::kCancelled, "the client went away before the answer was sent");
        }
    }
    answer.latency_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    AnswerRecordContext ctx;
    ctx.channel = channel;
    for (const retrieval::SearchHit & h : hits) {
        ctx.retrieved.push_back(RetrievedChunk{h.chunk_id, h.score, h.bm25_rank, h.dense_rank});
    }
    ctx.embedder = impl_->retriever.embedder().identity().to_string();
    ctx.analyzer = std::string(retrieval::kAnalyzerVersion);
    ctx.scorer = AnswerScorer::shipped().version + " sha256:" + AnswerScorer::shipped().sha256();
    ctx.settings_version = settings.settings_version();
    ctx.salt_fingerprint = provisioning::salt_fingerprint(impl_->salt());
    ctx.caps = appliance::to_json(settings.caps);
    ctx.caps["top_k"] = top_k;
    ctx.latency_ms = answer.latency_ms;
    if (generative) {
        const PromptTemplate & t = impl_->grounded->prompt_template();
        ctx.model_sha256 = impl_->grounded->model_info().sha256;
        ctx.prompt_template_version = t.id + "/v" + std::to_string(t.version);
        ctx.prompt_template_sha256 = t.sha256;
    }
    core::Json body = answer_record(answer, ctx);
    body["stopped_by"] = stopped_by;  // empty when no cap stopped the answer
    body["best_bm25_score"] = best_bm25;
    body["question_coverage"] = coverage;
    body["min_question_coverage"] = settings.min_question_coverage;
    core::Json verification = core::Json::array();
    for (const SentenceCheck & c : checks) {
        verification.push_back(to_json(c));
    }
    body["verification"] = std::move(verification);
    if (generative) {
        core::Json model = core::Json::object();
        model["file"] = impl_->grounded->model_info().file_name;
        model["sha256"] = impl_->grounded->model_info().sha256;
        model["architecture"] = impl_->grounded->model_info().architecture;
        model["device"] = impl_->grounded->model_info().device;
        body["model"] = std::move(model);
        core::Json tokens = core::Json::object();
        tokens["prompt"] = static_cast<uint64_t>(run.prompt_tokens);
        tokens["generated"] = static_cast<uint64_t>(run.generated_tokens);
        tokens["passages_in_prompt"] = static_cast<uint64_t>(run.passages_in_prompt);
        tokens["user_today"] = impl_->quota->used(user).value_or(-1);
        body["tokens"] = std::move(tokens);
        body["generated_text"] = run.raw_text;
    }
    auto id = impl_->audit->append(audit_kind::kAsk, user, body);
    if (!id.ok()) {
        return std::move(id).error().with_context("the answer was not returned because its audit record failed");
    }
    answer.audit_id = *id;
    return answer;
}

}  // namespace strongbox::appliance
