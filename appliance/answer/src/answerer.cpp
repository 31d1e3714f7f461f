#include "strongbox/answer/answerer.h"

#include "strongbox/core/text.h"
#include "strongbox/retrieval/analyzer.h"

#include <algorithm>
#include <array>
#include <cctype>
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
    std::vector<std::string> sequence;  // its terms in order
    std::set<std::string> words;
    bool heading = false;      // a Markdown heading line: context for the sentences under it, never an answer
    bool instruction = false;  // addressed to a model (looks_like_instruction): never an answer
};

// The kinds of answer a question can ask for, by its wording, and whether a candidate holds one
// that the question does not already name ("Which file ..." wants a path the question lacks).
enum AnswerKind : size_t { kPath, kVariable, kOption, kCommand, kNumber, kTime, kPerson, kAnswerKinds };

bool is_word_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_';
}

// Whether `lower` holds `phrase` as whole words (ASCII), or anywhere (a Korean phrase).
bool mentions(std::string_view lower, std::string_view phrase) {
    const bool ascii = static_cast<unsigned char>(phrase.front()) < 0x80;
    for (size_t at = lower.find(phrase); at != std::string_view::npos; at = lower.find(phrase, at + 1)) {
        const size_t after = at + phrase.size();
        if (!ascii ||
            ((at == 0 || !is_word_char(lower[at - 1])) && (after == lower.size() || !is_word_char(lower[after])))) {
            return true;
        }
    }
    return false;
}

std::array<bool, kAnswerKinds> kinds_asked(const std::string & question) {
    static const std::vector<std::string_view> kWords[kAnswerKinds] = {
        {"file", "files", "directory", "folder", "path", "where", "파일", "폴더", "경로", "디렉토리", "어디"},
        {"variable", "변수"},
        {"option", "flag", "switch", "parameter", "argument", "옵션"},
        {"how do i", "how can i", "how should i", "command", "program", "tool", "utility", "명령", "어떻게"},
        {"how many", "how much", "how long", "how often", "how old", "how big", "how large", "how fast", "number",
         "version",  "port",     "size",     "priority",  "mode",    "uid",     "gid",       "address",  "limit",
         "lowest",   "highest",  "maximum",  "minimum",   "timeout", "며칠",    "몇",        "얼마"},
        {"when", "what time", "what date", "which year", "since which", "언제"},
        {"who", "whom", "누가", "누구"},
    };
    const std::string lower = core::ascii_lower(question);
    std::array<bool, kAnswerKinds> asked{};
    for (size_t k = 0; k < kAnswerKinds; ++k) {
        asked[k] =
            std::any_of(kWords[k].begin(), kWords[k].end(), [&](std::string_view w) { return mentions(lower, w); });
    }
    return asked;
}

bool is_month(std::string_view lower_word) {
    static const char * const kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                           "jul", "aug", "sep", "oct", "nov", "dec"};
    return lower_word.size() >= 3 &&
           std::all_of(lower_word.begin(), lower_word.end(), [](char c) { return c >= 'a' && c <= 'z'; }) &&
           std::any_of(std::begin(kMonths), std::end(kMonths),
                       [&](const char * m) { return lower_word.rfind(m, 0) == 0; });
}

bool is_capitalised(std::string_view w) {
    return w.size() >= 2 && w[0] >= 'A' && w[0] <= 'Z' &&
           std::all_of(w.begin() + 1, w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

// Which kinds of answer the text holds, among words the question (lower-cased) does not use.
std::array<bool, kAnswerKinds> kinds_held(std::string_view text, const std::string & question_lower) {
    std::array<bool, kAnswerKinds> held{};
    std::vector<std::string_view> words;
    for (std::string_view raw : core::split(text, ' ')) {
        for (std::string_view piece : core::split(raw, '\n')) {
            if (!piece.empty()) {
                words.push_back(piece);
            }
        }
    }
    for (size_t i = 0; i < words.size(); ++i) {
        const std::string_view raw = words[i];
        std::string_view w = raw;
        while (!w.empty() && std::string_view("\"'(`[<").find(w.front()) != std::string_view::npos) {
            w.remove_prefix(1);
        }
        while (!w.empty() && std::string_view("\"'),;:.`]>?!").find(w.back()) != std::string_view::npos) {
            w.remove_suffix(1);
        }
        if (w.empty()) {
            continue;
        }
        const std::string lower = core::ascii_lower(w);
        if (mentions(question_lower, lower)) {
            continue;  // the question's own word is not an answer to it
        }
        const bool digit = std::any_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
        const bool alpha =
            std::any_of(w.begin(), w.end(), [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
        const size_t dot = w.rfind('.');
        const bool named_file = dot != std::string_view::npos && dot > 0 && dot + 1 < w.size() &&
                                w.size() - dot - 1 <= 8 &&
                                std::all_of(w.begin() + static_cast<std::ptrdiff_t>(dot) + 1, w.end(),
                                            [](char c) { return std::isalpha(static_cast<unsigned char>(c)) != 0; });
        held[kPath] = held[kPath] || (w.find('/') != std::string_view::npos && (alpha || digit)) || named_file;
        const bool upper_name = std::all_of(
            w.begin(), w.end(), [](char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'; });
        held[kVariable] = held[kVariable] ||
                          (upper_name && alpha && (w.find('_') != std::string_view::npos || w.size() >= 4)) ||
                          (w.size() > 1 && w[0] == '$' && std::isalpha(static_cast<unsigned char>(w[1])) != 0);
        held[kOption] = held[kOption] || (w.size() > 1 && w[0] == '-' &&
                                          (std::isalpha(static_cast<unsigned char>(w[1])) != 0 || w[1] == '-'));
        const bool joined_lower = std::islower(static_cast<unsigned char>(w[0])) != 0 &&
                                  w.find_first_of("-_") != std::string_view::npos &&
                                  w.find_first_of("-_") + 1 < w.size();
        held[kCommand] = held[kCommand] || raw.front() == '`' || joined_lower ||
                         (i > 0 && (words[i - 1] == "$" || words[i - 1] == "#"));
        held[kNumber] = held[kNumber] || digit;
        const bool clock = w.find(':') != std::string_view::npos && digit;
        const bool year = w.size() == 4 && (w.rfind("19", 0) == 0 || w.rfind("20", 0) == 0) &&
                          std::all_of(w.begin(), w.end(), [](char c) { return c >= '0' && c <= '9'; });
        const bool korean_date =
            digit && (w.find("년") != std::string_view::npos || w.find("월") != std::string_view::npos ||
                      w.find("일") != std::string_view::npos);
        held[kTime] = held[kTime] || clock || year || korean_date || is_month(lower) || lower == "before" ||
                      lower == "after" || lower == "during" || lower == "once" || lower == "daily" || lower == "weekly";
        held[kPerson] = held[kPerson] || w.find('@') != std::string_view::npos || lower == "maintainer" ||
                        lower == "team" || lower == "group" ||
                        (i + 1 < words.size() && is_capitalised(w) && is_capitalised(words[i + 1]));
    }
    return held;
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
        "coverage",           // weighted share of the question's terms in the candidate
        "context_coverage",   // weighted share found only in its heading or the sentence before
        "relative_coverage",  // coverage over the best candidate's coverage
        "passage_rank",       // 1 / (1 + the passage's retrieval rank)
        "length",             // the candidate's terms, log-scaled to about 0..1
        "new_terms",          // share of the candidate's terms the question does not have
        "question_terms",     // 1 / the question's term count
        "phrases",            // share of the question's adjacent term pairs adjacent in the candidate
        "passage_coverage",   // weighted share of the question's terms anywhere in the passage
        "passage_score",      // the passage's retrieval score over the best passage's
        "two_sentences",      // 1: the candidate is a sentence and the one before it
        "last_coverage",      // for two sentences: the coverage of the second alone
        // The question asks for a kind of answer: +1 the candidate holds one the question does
        // not name, -1 it holds none; 0 when not asked.
        "kind_path",
        "kind_variable",
        "kind_option",
        "kind_command",
        "kind_number",
        "kind_time",
        "kind_person",
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
            Sentence s{
                p, b, e, content_words(std::string(text)), {}, text.front() == '#', looks_like_instruction(text)};
            s.words.insert(s.sequence.begin(), s.sequence.end());
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
    auto coverage_of = [&](const std::set<std::string> & words) {
        double matched = 0;
        for (const std::string & w : query) {
            matched += words.count(w) > 0 ? weight[w] : 0.0;
        }
        return matched / total;
    };
    std::vector<double> passage_coverage(passages.size(), 0.0);
    for (size_t p = 0; p < passages.size(); ++p) {
        passage_coverage[p] = eligible[p] ? coverage_of(passage_terms[p]) : 0.0;
    }
    double best_passage_score = 0;
    for (const Passage & p : passages) {
        best_passage_score = std::max(best_passage_score, p.score);
    }
    std::set<std::pair<std::string, std::string>> question_pairs;
    for (size_t i = 0; i + 1 < q_words.size(); ++i) {
        question_pairs.emplace(q_words[i], q_words[i + 1]);
    }
    const std::array<bool, kAnswerKinds> asked = kinds_asked(question);
    const std::string question_lower = core::ascii_lower(question);

    std::vector<std::array<bool, kAnswerKinds>> held;
    for (const Sentence & s : sentences) {
        held.push_back(
            kinds_held(std::string_view(passages[s.passage].text).substr(s.begin, s.end - s.begin), question_lower));
    }
    double best_coverage = 0;
    for (size_t last = 0; last < sentences.size(); ++last) {
        const Sentence & s = sentences[last];
        if (s.heading || s.instruction) {
            continue;  // a heading is context for the sentences under it, never an answer
        }
        // The sentence before joins it when each holds part of the answer the other lacks: the
        // earlier one a question term ("`$SYSTEMD_HOME_RECORD_DIR` defines ..."), the later one a
        // question term or the kind of answer asked for ("When unspecified defaults to /var/...").
        auto adds_terms = [&](const Sentence & a, const Sentence & b) {
            return std::any_of(query.begin(), query.end(),
                               [&](const std::string & w) { return a.words.count(w) > 0 && b.words.count(w) == 0; });
        };
        bool has_previous = false;
        if (last > 0 && sentences[last - 1].passage == s.passage && !sentences[last - 1].heading &&
            !sentences[last - 1].instruction && adds_terms(sentences[last - 1], s)) {
            has_previous = adds_terms(s, sentences[last - 1]);
            for (size_t k = 0; k < kAnswerKinds; ++k) {
                has_previous = has_previous || (asked[k] && held[last][k] && !held[last - 1][k]);
            }
        }
        for (size_t first = has_previous ? last - 1 : last;; ++first) {
            const Passage & passage = passages[s.passage];
            std::set<std::string> words;
            std::vector<std::string> sequence;
            for (size_t k = first; k <= last; ++k) {
                words.insert(sentences[k].words.begin(), sentences[k].words.end());
                sequence.insert(sequence.end(), sentences[k].sequence.begin(), sentences[k].sequence.end());
            }
            // A word the candidate lacks still counts as context when its heading or the sentence
            // before states it ("## Backup failures" ... "Rerun the job before 07:00").
            auto in_context = [&](const std::string & w) {
                for (size_t k = 0; k < first; ++k) {
                    const Sentence & c = sentences[k];
                    if (c.passage == s.passage && (c.heading || k + 1 == first) && c.words.count(w) > 0) {
                        return true;
                    }
                }
                return false;
            };
            double context = 0;
            for (const std::string & w : query) {
                context += words.count(w) == 0 && in_context(w) ? weight[w] : 0.0;
            }
            size_t new_terms = 0;
            for (const std::string & w : words) {
                new_terms += query.count(w) == 0 ? 1 : 0;
            }
            size_t phrases = 0;
            std::set<std::pair<std::string, std::string>> seen_pairs;
            for (size_t i = 0; i + 1 < sequence.size(); ++i) {
                const std::pair<std::string, std::string> pair(sequence[i], sequence[i + 1]);
                if (question_pairs.count(pair) > 0 && seen_pairs.insert(pair).second) {
                    ++phrases;
                }
            }
            Candidate c;
            c.passage = s.passage;
            c.begin = sentences[first].begin;
            c.end = s.end;
            std::array<bool, kAnswerKinds> kinds{};
            for (size_t k = 0; k < kAnswerKinds; ++k) {
                kinds[k] = held[first][k] || held[last][k];
            }
            const double coverage = coverage_of(words);
            c.features = {
                coverage,
                context / total,
                0,  // relative coverage, once the best is known
                1.0 / (1.0 + static_cast<double>(s.passage)),
                std::min(1.0, std::log1p(static_cast<double>(words.size())) / std::log(50.0)),
                words.empty() ? 0.0 : static_cast<double>(new_terms) / static_cast<double>(words.size()),
                1.0 / static_cast<double>(query.size()),
                question_pairs.empty() ? 0.0
                                       : static_cast<double>(phrases) / static_cast<double>(question_pairs.size()),
                passage_coverage[s.passage],
                best_passage_score > 0 ? passage.score / best_passage_score : 0.0,
                first < last ? 1.0 : 0.0,
                first < last ? coverage_of(s.words) : 0.0,
            };
            for (size_t k = 0; k < kAnswerKinds; ++k) {
                c.features.push_back(asked[k] ? (kinds[k] ? 1.0 : -1.0) : 0.0);
            }
            best_coverage = std::max(best_coverage, coverage);
            out.candidates.push_back(std::move(c));
            if (first == last) {
                break;
            }
        }
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
    scorer.score(found.candidates);
    // Best first; the passage's retrieval rank breaks ties.
    std::stable_sort(found.candidates.begin(), found.candidates.end(),
                     [](const Candidate & a, const Candidate & b) { return a.score > b.score; });
    answer.score = found.candidates.empty() ? 0.0 : found.candidates.front().confidence;

    // Further candidates must come close to the best one, so a sentence that shares only the
    // common words of the question does not ride along.
    const double floor =
        found.candidates.empty() ? 1.0 : std::max(options.min_coverage, options.relative_floor * answer.score);
    std::map<size_t, int> citation_of_passage;
    std::set<std::string> seen_text;
    std::vector<const Candidate *> chosen;
    for (const Candidate & s : found.candidates) {
        if (static_cast<int>(answer.sentences.size()) >= options.max_sentences) {
            break;
        }
        if (s.confidence < floor ||
            std::any_of(chosen.begin(), chosen.end(), [&](const Candidate * c) { return c->overlaps(s); })) {
            continue;
        }
        const Passage & p = passages[s.passage];
        std::string text = core::collapse_whitespace(p.text.substr(s.begin, s.end - s.begin));
        if (!seen_text.insert(text).second) {
            continue;  // the same sentence from two versions or overlapping chunks
        }
        chosen.push_back(&s);
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
            core::AnswerSentence{text, {it->second}, core::Support::kSupported, std::clamp(s.confidence, 0.0, 1.0)});
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
