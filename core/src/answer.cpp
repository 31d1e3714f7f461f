#include "strongbox/core/answer.h"

namespace strongbox::core {

std::string Answer::text() const {
    if (refused) {
        return refusal_reason;
    }
    std::string out;
    for (const AnswerSentence & s : sentences) {
        if (!out.empty()) {
            out += ' ';
        }
        out += s.text;
        for (int n : s.citations) {
            out += " [" + std::to_string(n) + "]";
        }
    }
    return out;
}

std::string_view to_string(Support s) {
    switch (s) {
        case Support::kSupported: return "supported";
        case Support::kPartial: return "partial";
        case Support::kUnsupported: return "unsupported";
    }
    return "unsupported";
}

Json to_json(const Citation & c) {
    Json j = Json::object();
    j["number"] = c.number;
    j["chunk_id"] = c.chunk_id;
    j["quote"] = c.quote;
    j["location"] = describe_location(c.provenance);
    j["provenance"] = to_json(c.provenance);
    j["score"] = c.score;
    return j;
}

Json to_json(const Answer & a) {
    Json j = Json::object();
    j["question"] = a.question;
    j["answer"] = a.text();
    j["refused"] = a.refused;
    if (a.refused) {
        j["refusal_reason"] = a.refusal_reason;
    }
    j["answerer"] = a.answerer;
    j["latency_ms"] = a.latency_ms;
    if (a.audit_id > 0) {
        j["audit_id"] = a.audit_id;
    }
    Json sentences = Json::array();
    for (const AnswerSentence & s : a.sentences) {
        Json sj = Json::object();
        sj["text"] = s.text;
        Json cites = Json::array();
        for (int n : s.citations) {
            cites.push_back(n);
        }
        sj["citations"] = std::move(cites);
        sj["support"] = std::string(to_string(s.support));
        sentences.push_back(std::move(sj));
    }
    j["sentences"] = std::move(sentences);
    Json citations = Json::array();
    for (const Citation & c : a.citations) {
        citations.push_back(to_json(c));
    }
    j["citations"] = std::move(citations);
    return j;
}

}  // namespace strongbox::core
