#include "strongbox/answer/answerer.h"

#include "strongbox/core/text.h"
#include "strongbox/retrieval/analyzer.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <string_view>

namespace strongbox::appliance {
namespace {

struct Sentence {
    size_t passage = 0;
    size_t begin = 0;  // byte range in the passage text
    size_t end = 0;
    std::set<std::string> words;
    bool heading = false;  // a Markdown heading line: context for the sentences under it, never an answer
};

// What kind of answer a question asks for, when its wording says so.
enum class AnswerType { kAny, kTime, kQuantity };

AnswerType answer_type(const std::string & question) {
    const std::string q = " " + core::ascii_lower(question) + " ";
    auto has = [&](std::string_view w) {
        return q.find(w) != std::string::npos;
    };
    if (has(" when ") || has(" what time") || has(" what date") || has("언제") || has("몇 시")) {
        return AnswerType::kTime;
    }
    if (has(" how many ") || has(" how much ") || has(" how long ") || has(" how often ") || has(" how old ") ||
        has(" how big ") || has(" how large ") || has("며칠") || has("몇") || has("얼마")) {
        return AnswerType::kQuantity;
    }
    return AnswerType::kAny;
}

// Whether a sentence holds something of the asked type: a number, or a word that is one.
bool holds_type(std::string_view sentence, AnswerType type) {
    if (type == AnswerType::kAny) {
        return true;
    }
    if (std::any_of(sentence.begin(), sentence.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        return true;
    }
    static const char * const kQuantityWords[] = {
        " one ",    " two ",     " three ",  " four ",  " five ", " six ",  " seven ", " eight ",  " nine ",  " ten ",
        " twelve ", " once ",    " twice ",  " every ", " each ", " daily", " weekly", " monthly", " yearly", " hourly",
        " half ",   " several ", " single ", "매일",    "매주",   "매월",   "매년",    "마다",     "한 번",   "두 번",
    };
    static const char * const kTimeWords[] = {
        " monday",   " tuesday",  " wednesday", " thursday", " friday", " saturday", " sunday",  " january",
        " february", " march",    " april",     " may ",     " june",   " july",     " august",  " september",
        " october",  " november", " december",  " before ",  " after ", " during ",  " at boot", " at startup",
        " daily",    " weekly",   " monthly",   " every ",   " night",  " morning",  " evening", "요일",
        "매일",      "매주",      "매월",       " 전에",     " 후에",   "때 ",       "동안",
    };
    const std::string lower = " " + core::ascii_lower(sentence) + " ";
    auto any_of = [&](const auto & words) {
        return std::any_of(std::begin(words), std::end(words),
                           [&](const char * w) { return lower.find(w) != std::string::npos; });
    };
    return type == AnswerType::kTime ? any_of(kTimeWords) : any_of(kQuantityWords);
}

// Whether the question asks for a name written as code: a command, option, file, variable, key.
bool asks_for_code(const std::string & question) {
    static const char * const kWords[] = {
        "command", "option", "flag", "file",     "directory", "folder",  "path",      "variable", "package", "field",
        "program", "tool",   "key",  "shortcut", "menu",      "setting", "parameter", "argument", "utility", "script",
        "명령",    "옵션",   "파일", "경로",     "변수",      "패키지",  "단축키",    "메뉴",     "설정",    "키",
    };
    const std::string lower = core::ascii_lower(question);
    return std::any_of(std::begin(kWords), std::end(kWords),
                       [&](const char * w) { return lower.find(w) != std::string::npos; });
}

// Whether a sentence holds something written as code: a path, an option, an identifier, a
// quoted command, an upper-case name or a key combination.
bool holds_code(std::string_view sentence) {
    for (const retrieval::Term & t : retrieval::analyze(sentence)) {
        const std::string_view raw = sentence.substr(t.begin, t.end - t.begin);
        const bool joined =
            std::any_of(raw.begin(), raw.end(), [](char c) { return c == '_' || c == '-' || c == '.'; });
        const bool upper = raw.size() >= 3 && std::all_of(raw.begin(), raw.end(), [](char c) {
                               return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
                           });
        if ((joined && !t.colocated) || upper) {
            return true;
        }
    }
    return sentence.find('/') != std::string_view::npos || sentence.find('`') != std::string_view::npos ||
           sentence.find("Ctrl") != std::string_view::npos || sentence.find('$') != std::string_view::npos;
}

// The question's key terms: the words that name what it is about rather than what it asks
// (numbers, identifiers and options, capitalised names, Latin words in a Korean question).
// A passage that holds none of one cannot be about the same thing.
std::vector<std::pair<std::string, std::string>> key_terms(const std::string & question) {
    std::vector<std::pair<std::string, std::string>> keys;  // term, as written
    // Lead bytes of U+A000..U+DFFF, the block Hangul syllables lie in.
    const bool hangul = std::any_of(question.begin(), question.end(), [](char c) {
        const auto b = static_cast<unsigned char>(c);
        return b >= 0xEA && b <= 0xED;
    });
    bool first_word = true;
    for (const retrieval::Term & t : retrieval::analyze(question)) {
        if (t.colocated) {
            continue;
        }
        const std::string_view raw = std::string_view(question).substr(t.begin, t.end - t.begin);
        const bool was_first = first_word;
        first_word = false;
        if (t.stop) {
            continue;
        }
        const bool ascii =
            std::all_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
        const bool digit = std::any_of(raw.begin(), raw.end(), [](char c) { return c >= '0' && c <= '9'; });
        const bool joined =
            std::any_of(raw.begin(), raw.end(), [](char c) { return c == '_' || c == '-' || c == '.'; });
        const bool capital =
            !was_first && std::any_of(raw.begin(), raw.end(), [](char c) { return c >= 'A' && c <= 'Z'; });
        if (digit || joined || capital || (hangul && ascii)) {
            keys.emplace_back(t.text, std::string(raw));
        }
    }
    return keys;
}

// Text addressed to a language model rather than to a reader: injected instructions, fake system
// prompts and chat-template control spellings. Such a sentence states no fact about the subject,
// so it is never quoted as an answer (it stays retrievable and citable as a document).
bool looks_like_instruction(std::string_view sentence) {
    static const char * const kMarkers[] = {
        "previous instructions",
        "prior instructions",
        "above instructions",
        "ignore all",
        "ignore the above",
        "disregard",
        "you are now",
        "system prompt",
        "developer mode",
        "<|",
        "|>",
        "[inst]",
        "<<sys>>",
        "</s>",
        "cite [",
    };
    const std::string lower = core::ascii_lower(sentence);
    return std::any_of(std::begin(kMarkers), std::end(kMarkers),
                       [&](const char * m) { return lower.find(m) != std::string::npos; });
}

}  // namespace

// Splits a passage into sentences: at . ! ? followed by whitespace, at line breaks after a
// statement or before a blank line, and at every line break when each line is a record (logs).
std::vector<std::pair<size_t, size_t>> sentence_spans(const std::string & text, bool line_records) {
    std::vector<std::pair<size_t, size_t>> spans;
    size_t start = 0;
    auto push = [&](size_t end) {
        std::string_view piece = core::trim(std::string_view(text).substr(start, end - start));
        if (!piece.empty()) {
            size_t b = static_cast<size_t>(piece.data() - text.data());
            spans.emplace_back(b, b + piece.size());
        }
        start = end;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '\n') {
            // A wrapped line continues the sentence unless the line ended a statement.
            size_t j = i;
            while (j > start && (text[j - 1] == ' ' || text[j - 1] == '\r')) {
                --j;
            }
            bool ends_statement =
                j > start && (text[j - 1] == '.' || text[j - 1] == '!' || text[j - 1] == '?' || text[j - 1] == ':');
            bool blank_next = i + 1 < text.size() && text[i + 1] == '\n';
            // A Markdown heading is a line of its own, never the start of the sentence after it.
            const size_t line_begin =
                text.rfind('\n', i == 0 ? 0 : i - 1) == std::string::npos ? 0 : text.rfind('\n', i - 1) + 1;
            const bool heading = line_begin >= start && text.compare(line_begin, 1, "#") == 0;
            if (heading && line_begin > start) {
                push(line_begin);
            }
            if (line_records || ends_statement || blank_next || heading) {
                push(i + 1);
            }
        } else if ((c == '.' || c == '!' || c == '?') && i + 1 < text.size() &&
                   (text[i + 1] == ' ' || text[i + 1] == '\n')) {
            // "e.g. " and "No. 5" are rare in our corpora; a following lower-case letter keeps them whole.
            size_t k = i + 1;
            while (k < text.size() && text[k] == ' ') {
                ++k;
            }
            if (k >= text.size() || std::islower(static_cast<unsigned char>(text[k])) == 0) {
                push(i + 1);
            }
        }
    }
    push(text.size());
    return spans;
}

std::vector<std::string> content_words(const std::string & text) {
    return retrieval::query_terms(text);
}

const std::vector<std::string> & candidate_feature_names() {
    static const std::vector<std::string> kNames = {
        "coverage",           // weighted share of the question's terms in the sentence
        "context_coverage",   // weighted share found only in its heading or the sentence before
        "relative_coverage",  // coverage over the best candidate's coverage
        "keys_in_sentence",   // share of the question's key terms in the sentence itself (1: none asked)
        "type_missing",       // the question asks for a time or quantity the sentence lacks
        "passage_rank",       // 1 / (1 + the passage's retrieval rank)
        "length",             // the sentence's terms, log-scaled to about 0..1
        "new_terms",          // share of the sentence's terms the question does not have
        "question_terms",     // 1 / the question's term count
        "code_match",         // the question asks for a command, file, option...: +1 the sentence has one, -1 not
    };
    return kNames;
}

Candidates candidate_sentences(const std::string & question, const std::vector<Passage> & passages) {
    Candidates out;
    const std::vector<std::string> q_words = content_words(question);
    const std::set<std::string> query(q_words.begin(), q_words.end());
    if (query.empty()) {
        out.refusal = "The question has no content words to look for; please ask about something specific.";
        return out;
    }
    if (passages.empty()) {
        out.refusal = "Not found in the indexed documents: no passage matches the question.";
        return out;
    }

    // Only passages that mention every key term of the question can answer it. Each passage's
    // terms are analyzed once, for the check and for naming what is missing.
    const auto keys = key_terms(question);
    std::vector<std::set<std::string>> passage_terms;
    std::vector<bool> eligible(passages.size(), true);
    for (size_t p = 0; p < passages.size(); ++p) {
        const std::vector<std::string> words = content_words(passages[p].text);
        const std::set<std::string> & have = passage_terms.emplace_back(words.begin(), words.end());
        for (const auto & [term, raw] : keys) {
            eligible[p] = eligible[p] && have.count(term) > 0;
        }
    }
    if (std::none_of(eligible.begin(), eligible.end(), [](bool e) { return e; })) {
        // Name what no passage mentions at all, else say the key terms never meet.
        std::string absent;
        std::string all;
        auto append = [](std::string & list, const std::string & word) {
            list += (list.empty() ? "\"" : ", \"") + word + "\"";
        };
        for (const auto & [term, raw] : keys) {
            const bool anywhere =
                std::any_of(passage_terms.begin(), passage_terms.end(),
                            [&term = term](const std::set<std::string> & have) { return have.count(term) > 0; });
            append(anywhere ? all : absent, raw);
        }
        out.refusal = absent.empty() ? "Not found in the indexed documents: no passage mentions " + all + " together."
                                     : "Not found in the indexed documents: no passage mentions " + absent + ".";
        return out;
    }

    std::vector<Sentence> sentences;
    for (size_t p = 0; p < passages.size(); ++p) {
        if (!eligible[p]) {
            continue;
        }
        const bool line_records = passages[p].provenance.extractor.rfind("log", 0) == 0;
        for (auto [b, e] : sentence_spans(passages[p].text, line_records)) {
            const std::string_view text = std::string_view(passages[p].text).substr(b, e - b);
            if (looks_like_instruction(text)) {
                continue;
            }
            Sentence s{p, b, e, {}, text.front() == '#'};
            for (std::string & w : content_words(std::string(text))) {
                s.words.insert(std::move(w));
            }
            sentences.push_back(std::move(s));
        }
    }

    // Rarer question words weigh more: a sentence holding the specific term beats one holding
    // only the common one.
    std::map<std::string, double> weight;
    double total = 0;
    for (const std::string & w : query) {
        size_t df = static_cast<size_t>(std::count_if(sentences.begin(), sentences.end(),
                                                      [&](const Sentence & s) { return s.words.count(w) > 0; }));
        weight[w] = 1.0 + std::log((1.0 + static_cast<double>(sentences.size())) / (1.0 + static_cast<double>(df)));
        total += weight[w];
    }
    const AnswerType type = answer_type(question);
    const bool code_asked = asks_for_code(question);
    double best_coverage = 0;
    for (size_t i = 0; i < sentences.size(); ++i) {
        Sentence & s = sentences[i];
        if (s.heading) {
            continue;  // a heading is context for the sentences under it, never an answer
        }
        // A word the sentence lacks still counts as context when its heading or the sentence
        // before states it ("## Backup failures" ... "Rerun the job before 07:00").
        auto in_context = [&](const std::string & w) {
            for (size_t k = 0; k < i; ++k) {
                const Sentence & c = sentences[k];
                if (c.passage == s.passage && (c.heading || k + 1 == i) && c.words.count(w) > 0) {
                    return true;
                }
            }
            return false;
        };
        double matched = 0;
        double context = 0;
        for (const std::string & w : query) {
            if (s.words.count(w) > 0) {
                matched += weight[w];
            } else if (in_context(w)) {
                context += weight[w];
            }
        }
        size_t keys_here = 0;
        for (const auto & [term, raw] : keys) {
            keys_here += s.words.count(term);
        }
        size_t new_terms = 0;
        for (const std::string & w : s.words) {
            new_terms += query.count(w) == 0 ? 1 : 0;
        }
        const std::string_view text = std::string_view(passages[s.passage].text).substr(s.begin, s.end - s.begin);
        Candidate c;
        c.passage = s.passage;
        c.begin = s.begin;
        c.end = s.end;
        c.features = {
            matched / total,
            context / total,
            0,  // relative coverage, once the best is known
            keys.empty() ? 1.0 : static_cast<double>(keys_here) / static_cast<double>(keys.size()),
            holds_type(text, type) ? 0.0 : 1.0,
            1.0 / (1.0 + static_cast<double>(s.passage)),
            std::min(1.0, std::log1p(static_cast<double>(s.words.size())) / std::log(50.0)),
            s.words.empty() ? 0.0 : static_cast<double>(new_terms) / static_cast<double>(s.words.size()),
            1.0 / static_cast<double>(query.size()),
            code_asked ? (holds_code(text) ? 1.0 : -1.0) : 0.0,
        };
        best_coverage = std::max(best_coverage, c.features[0]);
        out.candidates.push_back(std::move(c));
    }
    for (Candidate & c : out.candidates) {
        c.features[2] = best_coverage > 0 ? c.features[0] / best_coverage : 0.0;
    }
    if (out.candidates.empty()) {
        out.refusal = "Not found in the indexed documents: no passage states an answer to the question.";
    }
    return out;
}

core::Answer answer_extractively(const std::string & question, const std::vector<Passage> & passages,
                                 const AnswerOptions & options) {
    core::Answer answer;
    answer.question = question;
    answer.answerer = "extractive";
    answer.threshold = options.min_coverage;
    const AnswerScorer & scorer = options.scorer != nullptr ? *options.scorer : AnswerScorer::shipped();
    Candidates found = candidate_sentences(question, passages);
    for (Candidate & c : found.candidates) {
        // The passage's retrieval rank breaks near-ties.
        c.score = scorer.probability(c.features) - 1e-6 * static_cast<double>(c.passage);
    }
    std::stable_sort(found.candidates.begin(), found.candidates.end(),
                     [](const Candidate & a, const Candidate & b) { return a.score > b.score; });
    answer.score = found.candidates.empty() ? 0.0 : std::clamp(found.candidates.front().score, 0.0, 1.0);

    // Further sentences must come close to the best one, so a sentence that shares only the
    // common words of the question does not ride along.
    const double floor = found.candidates.empty()
                             ? 1.0
                             : std::max(options.min_coverage, options.relative_floor * found.candidates.front().score);
    std::map<size_t, int> citation_of_passage;
    std::set<std::string> seen_text;
    for (const Candidate & s : found.candidates) {
        if (static_cast<int>(answer.sentences.size()) >= options.max_sentences || s.score < floor) {
            break;
        }
        const Passage & p = passages[s.passage];
        std::string text = core::collapse_whitespace(p.text.substr(s.begin, s.end - s.begin));
        if (!seen_text.insert(text).second) {
            continue;  // the same sentence from two versions or overlapping chunks
        }
        auto [it, inserted] = citation_of_passage.emplace(s.passage, static_cast<int>(answer.citations.size()) + 1);
        if (inserted) {
            core::Citation c;
            c.number = it->second;
            c.chunk_id = p.chunk_id;
            c.provenance = p.provenance;
            c.score = p.score;
            answer.citations.push_back(std::move(c));
        }
        core::Citation & c = answer.citations[static_cast<size_t>(it->second - 1)];
        c.quote += (c.quote.empty() ? "" : " ") + text;
        narrow_citation(c, p, s.begin, s.end, inserted);
        answer.sentences.push_back(
            core::AnswerSentence{text, {it->second}, core::Support::kSupported, std::clamp(s.score, 0.0, 1.0)});
    }
    if (answer.sentences.empty()) {
        answer.refused = true;
        answer.refusal_reason =
            !found.refusal.empty() ? found.refusal
                                   : "Not found in the indexed documents: no passage states an answer to the question.";
        return answer;
    }
    answer.confidence = answer.score >= options.high_confidence ? "high" : "medium";
    return answer;
}

void narrow_citation(core::Citation & c, const Passage & p, size_t begin, size_t end, bool first) {
    // Boxes: the words of the range where the lines have word boxes, else its lines.
    if (!p.provenance.boxes.empty() && p.provenance.boxes.front().text_begin >= 0) {
        if (first) {
            c.provenance.boxes.clear();
            c.provenance.word_boxes.clear();
        }
        auto add = [](std::vector<core::Box> & to, const core::Box & box) {
            if (std::find(to.begin(), to.end(), box) == to.end()) {
                to.push_back(box);
            }
        };
        const auto b = static_cast<int64_t>(begin);
        const auto e = static_cast<int64_t>(end);
        for (const core::Box & box : core::boxes_for_span(p.provenance, b, e)) {
            add(c.provenance.boxes, box);
        }
        for (const core::Box & box : p.provenance.word_boxes) {
            if (box.text_end > b && box.text_begin < e) {
                add(c.provenance.word_boxes, box);
            }
        }
    }
    // Lines (text, Markdown and log sources): the lines the range touches.
    if (p.provenance.line_start > 0) {
        auto line_at = [&](size_t offset) {
            const auto stop = p.text.begin() + static_cast<std::ptrdiff_t>(offset);
            return p.provenance.line_start + static_cast<int>(std::count(p.text.begin(), stop, '\n'));
        };
        const int lb = line_at(begin);
        const int last = line_at(end);
        const int le = p.provenance.line_end > 0 ? std::min(last, p.provenance.line_end) : last;
        c.provenance.line_start = first ? lb : std::min(c.provenance.line_start, lb);
        c.provenance.line_end = first ? le : std::max(c.provenance.line_end, le);
    }
}

}  // namespace strongbox::appliance
