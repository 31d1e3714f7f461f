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
    case Support::kSupported:
        return "supported";
    case Support::kPartial:
        return "partial";
    case Support::kUnsupported:
        return "unsupported";
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
    if (a.score >= 0) {
        j["score"] = a.score;
        j["threshold"] = a.threshold;
        if (!a.confidence.empty()) {
            j["confidence"] = a.confidence;
        }
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
        if (s.score >= 0) {
            sj["score"] = s.score;
        }
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

Result<Answer> answer_from_json(const Json & j) {
    if (!j.is_object() || !j.contains("question")) {
        return Error(ErrorCode::kCorruptInput, "answer JSON lacks a question");
    }
    Answer a;
    a.question = j.get_string("question");
    a.refused = j.get_bool("refused");
    a.refusal_reason = j.get_string("refusal_reason");
    a.answerer = j.get_string("answerer");
    a.latency_ms = j.get_double("latency_ms");
    a.audit_id = j.get_int("audit_id");
    a.score = j.get_double("score", -1);
    a.threshold = j.get_double("threshold");
    a.confidence = j.get_string("confidence");
    if (const Json * sentences = j.find("sentences"); sentences != nullptr && sentences->is_array()) {
        for (const Json & sj : sentences->as_array()) {
            AnswerSentence s;
            s.text = sj.get_string("text");
            if (const Json * cites = sj.find("citations"); cites != nullptr && cites->is_array()) {
                for (const Json & n : cites->as_array()) {
                    s.citations.push_back(static_cast<int>(n.as_int()));
                }
            }
            const std::string support = sj.get_string("support");
            s.support = support == "partial"       ? Support::kPartial
                        : support == "unsupported" ? Support::kUnsupported
                                                   : Support::kSupported;
            s.score = sj.get_double("score", -1);
            a.sentences.push_back(std::move(s));
        }
    }
    if (const Json * citations = j.find("citations"); citations != nullptr && citations->is_array()) {
        for (const Json & cj : citations->as_array()) {
            Citation c;
            c.number = static_cast<int>(cj.get_int("number"));
            c.chunk_id = cj.get_int("chunk_id");
            c.quote = cj.get_string("quote");
            c.score = cj.get_double("score");
            if (const Json * p = cj.find("provenance"); p != nullptr) {
                SB_ASSIGN_OR_RETURN(c.provenance, provenance_from_json(*p));
            }
            a.citations.push_back(std::move(c));
        }
    }
    return a;
}

}  // namespace strongbox::core
