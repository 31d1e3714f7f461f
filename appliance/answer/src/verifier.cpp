#include "strongbox/answer/verifier.h"

#include "strongbox/core/text.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <string_view>

namespace strongbox::appliance {
namespace {

bool is_space(char c) {
    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

// Trims punctuation that belongs to the sentence, not the token: "30." -> "30", "(ERR-42)," -> "ERR-42".
std::string_view strip_token(std::string_view t) {
    auto edge = [](char c) {
        return c == '.' || c == ',' || c == ';' || c == ':' || c == '!' || c == '?' || c == '(' || c == ')' ||
               c == '"' || c == '\'' || c == '[' || c == ']' || c == '{' || c == '}' || c == '%' || c == '*';
    };
    while (!t.empty() && edge(t.front())) {
        t.remove_prefix(1);
    }
    while (!t.empty() && edge(t.back())) {
        t.remove_suffix(1);
    }
    return t;
}

std::vector<std::string_view> raw_tokens(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_space(s[i])) {
            ++i;
        }
        size_t b = i;
        while (i < s.size() && !is_space(s[i])) {
            ++i;
        }
        if (i > b) {
            out.push_back(s.substr(b, i - b));
        }
    }
    return out;
}

std::string without_commas(std::string s) {
    std::erase(s, ',');
    return s;
}

// The normalised tokens of a passage, for key-token lookup: lower-cased, edge punctuation
// stripped, plus each token without thousands separators and the parts of slashed tokens.
std::set<std::string> token_set(std::string_view text) {
    std::set<std::string> out;
    for (std::string_view raw : raw_tokens(text)) {
        std::string t = core::ascii_lower(strip_token(raw));
        if (t.empty()) {
            continue;
        }
        out.insert(without_commas(t));
        for (std::string_view part : core::split(t, '/')) {
            out.insert(std::string(strip_token(part)));
        }
        out.insert(std::move(t));
    }
    return out;
}

std::vector<std::string> quoted_strings(std::string_view s) {
    std::vector<std::string> out;
    static const std::vector<std::pair<std::string_view, std::string_view>> kQuotes = {
        {"\"", "\""}, {"\xE2\x80\x9C", "\xE2\x80\x9D"}};  // "..." and curly quotes
    for (auto [open, close] : kQuotes) {
        size_t pos = 0;
        while ((pos = s.find(open, pos)) != std::string_view::npos) {
            size_t end = s.find(close, pos + open.size());
            if (end == std::string_view::npos) {
                break;
            }
            std::string q = core::collapse_whitespace(s.substr(pos + open.size(), end - pos - open.size()));
            if (!q.empty()) {
                out.push_back(std::move(q));
            }
            pos = end + close.size();
        }
    }
    return out;
}

// A raw sentence of model output, with the byte range it came from.
struct RawSentence {
    std::string text;
    std::vector<int> markers;
};

// Parses "[1]", "[1, 2]", "[1][2]" at `i`; returns the end of the marker or i when there is none.
size_t parse_marker(const std::string & s, size_t i, std::vector<int> & out) {
    if (i >= s.size() || s[i] != '[') {
        return i;
    }
    std::vector<int> found;
    size_t j = i + 1;
    while (true) {
        while (j < s.size() && s[j] == ' ') {
            ++j;
        }
        size_t b = j;
        while (j < s.size() && is_digit(s[j]) && j - b < 4) {
            ++j;
        }
        if (j == b) {
            return i;
        }
        found.push_back(std::stoi(s.substr(b, j - b)));
        while (j < s.size() && s[j] == ' ') {
            ++j;
        }
        if (j < s.size() && s[j] == ',') {
            ++j;
            continue;
        }
        if (j < s.size() && s[j] == ']') {
            out.insert(out.end(), found.begin(), found.end());
            return j + 1;
        }
        return i;
    }
}

std::vector<RawSentence> split_generated(const std::string & s) {
    std::vector<RawSentence> out;
    RawSentence cur;
    auto flush = [&] {
        std::string t = core::collapse_whitespace(cur.text);
        // "kept 30 days ." -> "kept 30 days." once the marker between them is gone.
        for (std::string_view p : {" .", " ,", " ;", " :", " !", " ?"}) {
            size_t pos = 0;
            while ((pos = t.find(p, pos)) != std::string::npos) {
                t.erase(pos, 1);
            }
        }
        if (!t.empty() || !cur.markers.empty()) {
            if (!t.empty()) {
                cur.text = std::move(t);
                out.push_back(std::move(cur));
            } else if (!out.empty()) {
                // Markers on their own after a sentence belong to it.
                out.back().markers.insert(out.back().markers.end(), cur.markers.begin(), cur.markers.end());
            }
        }
        cur = RawSentence{};
    };
    size_t i = 0;
    while (i < s.size()) {
        size_t after = parse_marker(s, i, cur.markers);
        if (after != i) {
            i = after;
            continue;
        }
        char c = s[i];
        if (c == '\n' && i + 1 < s.size() && (s[i + 1] == '\n' || s[i + 1] == '-' || s[i + 1] == '*')) {
            flush();
            ++i;
            continue;
        }
        cur.text += c;
        ++i;
        const bool terminal = c == '.' || c == '!' || c == '?';
        if (terminal && (i >= s.size() || is_space(s[i]) || s[i] == '[')) {
            // Markers right after the full stop ("... days. [1]") still belong to this sentence.
            size_t j = i;
            while (true) {
                size_t k = j;
                while (k < s.size() && s[k] == ' ') {
                    ++k;
                }
                size_t m = parse_marker(s, k, cur.markers);
                if (m == k) {
                    break;
                }
                j = m;
            }
            i = j;
            flush();
        }
    }
    flush();
    return out;
}

// A whitespace-delimited token of a text as the byte range [begin, end).
struct Token {
    size_t begin = 0;
    size_t end = 0;
};

std::vector<Token> tokens_in(std::string_view text, size_t from, size_t to) {
    std::vector<Token> out;
    size_t i = from;
    while (i < to) {
        while (i < to && is_space(text[i])) {
            ++i;
        }
        size_t b = i;
        while (i < to && !is_space(text[i])) {
            ++i;
        }
        if (i > b) {
            out.push_back(Token{b, i});
        }
    }
    return out;
}

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Words that reverse what the words next to them state.
bool is_negation(std::string_view raw) {
    static const std::set<std::string, std::less<>> kCues = {"not",     "no",      "never", "none",   "nobody",
                                                             "nothing", "neither", "nor",   "cannot", "without"};
    const std::string t = core::ascii_lower(strip_token(raw));
    return kCues.count(t) > 0 || ends_with(t, "n't") || ends_with(t, "n\xE2\x80\x99t");
}

// What a claim is made of, for finding it again inside a passage.
struct ClaimWords {
    std::set<std::string> words;    // content words
    std::vector<std::string> keys;  // key tokens as written
    std::set<std::string> key_set;  // and lower-cased, without thousands separators
    std::set<std::string> surface;  // every token, lower-cased: function words too

    explicit ClaimWords(const std::string & sentence) {
        const std::vector<std::string> w = content_words(sentence);
        words.insert(w.begin(), w.end());
        for (std::string_view raw : raw_tokens(sentence)) {
            surface.insert(core::ascii_lower(strip_token(raw)));
        }
        keys = key_tokens(sentence);
        for (const std::string & k : keys) {
            key_set.insert(core::ascii_lower(k));
            key_set.insert(without_commas(core::ascii_lower(k)));
        }
    }

    // The claim's words and key tokens a token of text holds ("w:" content word, "k:" key).
    std::vector<std::string> items(std::string_view raw) const {
        std::vector<std::string> out;
        const std::string t = core::ascii_lower(strip_token(raw));
        if (t.empty()) {
            return out;
        }
        if (key_set.count(t) > 0 || key_set.count(without_commas(t)) > 0) {
            out.push_back("k:" + without_commas(t));
        }
        for (const std::string & w : content_words(std::string(raw))) {
            if (words.count(w) > 0) {
                out.push_back("w:" + w);
            }
        }
        return out;
    }
};

// The shortest run of tokens [first, last] of text[from, to) that holds every claim word and key
// token found there at all, widened over the claim's own function words at its edges ("each
// backup is kept"); first == tokens.size() when none is.
struct WordRun {
    std::vector<Token> toks;
    size_t first = 0;
    size_t last = 0;
};

WordRun claim_run(std::string_view text, size_t from, size_t to, const ClaimWords & claim) {
    WordRun run;
    run.toks = tokens_in(text, from, to);
    run.first = run.toks.size();
    std::vector<std::vector<std::string>> held(run.toks.size());
    std::map<std::string, int> need;  // item -> count inside the window
    for (size_t i = 0; i < run.toks.size(); ++i) {
        held[i] = claim.items(text.substr(run.toks[i].begin, run.toks[i].end - run.toks[i].begin));
        for (const std::string & x : held[i]) {
            need.emplace(x, 0);
        }
    }
    if (need.empty()) {
        return run;
    }
    size_t covered = 0;
    size_t lo = 0;
    size_t best = run.toks.size() + 1;
    for (size_t hi = 0; hi < run.toks.size(); ++hi) {
        for (const std::string & x : held[hi]) {
            covered += need[x]++ == 0 ? 1 : 0;
        }
        while (covered == need.size()) {
            if (hi - lo + 1 < best) {
                best = hi - lo + 1;
                run.first = lo;
                run.last = hi;
            }
            for (const std::string & x : held[lo]) {
                covered -= --need[x] == 0 ? 1 : 0;
            }
            ++lo;
        }
    }
    if (run.first < run.toks.size()) {
        auto in_claim = [&](size_t i) {
            const Token & t = run.toks[i];
            return claim.surface.count(core::ascii_lower(strip_token(text.substr(t.begin, t.end - t.begin)))) > 0;
        };
        while (run.first > 0 && in_claim(run.first - 1)) {
            --run.first;
        }
        while (run.last + 1 < run.toks.size() && in_claim(run.last + 1)) {
            ++run.last;
        }
    }
    return run;
}

// Whether a negation stands among a claim's words or just before them ("no backup is kept").
// Looking only there keeps a negation in another clause of the same passage sentence
// ("..., but not on tape") from reversing the claim.
bool negated(std::string_view text, const WordRun & run) {
    if (run.first >= run.toks.size()) {
        return false;
    }
    for (size_t i = run.first >= 3 ? run.first - 3 : 0; i <= run.last; ++i) {
        if (is_negation(text.substr(run.toks[i].begin, run.toks[i].end - run.toks[i].begin))) {
            return true;
        }
    }
    return false;
}

// Where in a passage a claim is supported.
struct Region {
    size_t begin = 0;  // [begin, end): the passage sentences (or lines) that hold the claim; the quote
    size_t end = 0;
    size_t word_begin = 0;  // [word_begin, word_end): the shortest run of words in them that holds the
    size_t word_end = 0;    // claim's words found there; the boxes and lines the citation is narrowed to
    int score = 0;          // claim words and key tokens found (keys count twice)
    bool negated = false;   // a negation stands among (or just before) those words
};

// The shortest run of at most three consecutive passage sentences that holds the most of the
// claim's content words and key tokens, then the shortest run of words inside it that holds them.
Region locate(const Passage & p, const ClaimWords & claim) {
    Region r;
    // Every line and every sentence is a candidate span (PDF boxes are per line).
    auto spans = sentence_spans(p.text, /*line_records=*/true);
    if (spans.empty()) {
        spans.emplace_back(0, p.text.size());
    }
    std::vector<std::set<std::string>> span_words;
    std::vector<std::set<std::string>> span_tokens;
    for (auto [b, e] : spans) {
        std::vector<std::string> w = content_words(p.text.substr(b, e - b));
        span_words.emplace_back(w.begin(), w.end());
        span_tokens.push_back(token_set(std::string_view(p.text).substr(b, e - b)));
    }
    size_t best_b = 0;
    size_t best_len = spans.size();
    int best_score = -1;
    for (size_t len = 1; len <= 3 && len <= spans.size(); ++len) {
        for (size_t b = 0; b + len <= spans.size(); ++b) {
            int score = 0;
            for (const std::string & w : claim.words) {
                for (size_t k = b; k < b + len; ++k) {
                    if (span_words[k].count(w) > 0) {
                        ++score;
                        break;
                    }
                }
            }
            for (const std::string & key : claim.keys) {
                for (size_t k = b; k < b + len; ++k) {
                    if (span_tokens[k].count(core::ascii_lower(key)) > 0) {
                        score += 2;
                        break;
                    }
                }
            }
            if (score > best_score) {  // strictly better: the shorter run wins ties
                best_score = score;
                best_b = b;
                best_len = len;
            }
        }
    }
    r.begin = spans[best_b].first;
    r.end = spans[best_b + best_len - 1].second;
    r.word_begin = r.begin;
    r.word_end = r.end;
    r.score = best_score;
    const WordRun run = claim_run(p.text, r.begin, r.end, claim);
    if (run.first < run.toks.size()) {
        r.word_begin = run.toks[run.first].begin;
        r.word_end = run.toks[run.last].end;
        r.negated = negated(p.text, run);
    }
    return r;
}

// Whether the claim itself is negated, looked at the way locate() looks at the passage, so a
// verbatim quote always agrees with its source.
bool claim_negated(const std::string & sentence, const ClaimWords & claim) {
    const WordRun run = claim_run(sentence, 0, sentence.size(), claim);
    if (run.first >= run.toks.size()) {
        return std::any_of(run.toks.begin(), run.toks.end(), [&](const Token & t) {
            return is_negation(std::string_view(sentence).substr(t.begin, t.end - t.begin));
        });
    }
    return negated(sentence, run);
}

// Adds a located region of passage p to a citation: the quote is the supporting sentences; the
// boxes (words where the provenance has word boxes, else lines) and the line range are narrowed
// to the claim's words inside them.
void add_region(core::Citation & c, const Passage & p, const Region & r, bool first) {
    const std::string quote = core::collapse_whitespace(std::string_view(p.text).substr(r.begin, r.end - r.begin));
    if (c.quote.find(quote) == std::string::npos) {
        c.quote += (c.quote.empty() ? "" : " \xE2\x80\xA6 ") + quote;
    }
    narrow_citation(c, p, r.word_begin, r.word_end, first);
}

core::Support grade(const SentenceCheck & c, const VerifierOptions & o, size_t n_cited) {
    if (n_cited == 0 || !c.missing.empty() || c.negation_conflict) {
        return core::Support::kUnsupported;
    }
    if (c.coverage >= o.supported_coverage) {
        return core::Support::kSupported;
    }
    return c.coverage >= o.partial_coverage ? core::Support::kPartial : core::Support::kUnsupported;
}

}  // namespace

std::vector<std::string> key_tokens(const std::string & sentence) {
    std::vector<std::string> keys = quoted_strings(sentence);
    const std::vector<std::string_view> toks = raw_tokens(sentence);
    for (size_t i = 0; i < toks.size(); ++i) {
        std::string_view t = strip_token(toks[i]);
        if (t.empty() || t.front() == '"') {
            continue;
        }
        const bool has_digit = std::any_of(t.begin(), t.end(), [](char c) { return is_digit(c); });
        const bool has_underscore = t.find('_') != std::string_view::npos;
        const size_t uppers = static_cast<size_t>(
            std::count_if(t.begin(), t.end(), [](char c) { return std::isupper(static_cast<unsigned char>(c)) != 0; }));
        const bool capitalised = std::isupper(static_cast<unsigned char>(t.front())) != 0;
        // The first word is capitalised by grammar; an acronym there still counts.
        const bool name = (capitalised && i > 0) || uppers >= 2;
        if (has_digit || has_underscore || name) {
            keys.emplace_back(t);
        }
    }
    return keys;
}

SentenceCheck check_sentence(const std::string & sentence, const std::vector<const Passage *> & cited,
                             const VerifierOptions & options) {
    SentenceCheck check;
    check.text = sentence;
    if (cited.empty()) {
        check.support = core::Support::kUnsupported;
        return check;
    }
    std::set<std::string> tokens;
    std::set<std::string> words;
    std::string joined;
    for (const Passage * p : cited) {
        std::set<std::string> t = token_set(p->text);
        tokens.insert(t.begin(), t.end());
        for (std::string & w : content_words(p->text)) {
            words.insert(std::move(w));
        }
        joined += core::ascii_lower(core::collapse_whitespace(p->text)) + "\n";
    }
    for (const std::string & key : key_tokens(sentence)) {
        const std::string k = core::ascii_lower(key);
        const bool multiword = k.find(' ') != std::string::npos;
        const bool found = multiword ? joined.find(k) != std::string::npos
                                     : tokens.count(k) > 0 || tokens.count(without_commas(k)) > 0;
        if (!found) {
            check.missing.push_back(key);
        }
    }
    const std::vector<std::string> claim = content_words(sentence);
    const std::set<std::string> claim_set(claim.begin(), claim.end());
    size_t matched = 0;
    for (const std::string & w : claim_set) {
        matched += words.count(w);
    }
    check.coverage = claim_set.empty() ? 0.0 : static_cast<double>(matched) / static_cast<double>(claim_set.size());
    // "Backups are not kept" must not pass on "Backups are kept": the claim needs a cited passage
    // that states it with the same polarity where it states it.
    const ClaimWords claim_words(sentence);
    const bool negated = claim_negated(sentence, claim_words);
    bool located = false;
    bool agrees = false;
    for (const Passage * p : cited) {
        const Region r = locate(*p, claim_words);
        if (r.score > 0) {
            located = true;
            agrees = agrees || r.negated == negated;
        }
    }
    check.negation_conflict = located && !agrees;
    check.support = grade(check, options, cited.size());
    return check;
}

namespace {

SentenceCheck check_citations(const std::string & sentence, const std::vector<const Passage *> & cited,
                              const std::vector<int> & numbers, const VerifierOptions & options) {
    // Each citation is checked on its own: "Backups are encrypted [1][2]" is not supported by [1]
    // saying they are not and [2] saying logs are, though the two together hold every word.
    auto rank = [](core::Support s) {
        return s == core::Support::kSupported ? 2 : s == core::Support::kPartial ? 1 : 0;
    };
    SentenceCheck best = check_sentence(sentence, {}, options);
    std::vector<int> supporting;
    std::vector<int> unsupporting;
    for (size_t i = 0; i < cited.size(); ++i) {
        SentenceCheck alone = check_sentence(sentence, {cited[i]}, options);
        (alone.support == core::Support::kUnsupported ? unsupporting : supporting).push_back(numbers[i]);
        if (i == 0 || rank(alone.support) > rank(best.support) ||
            (rank(alone.support) == rank(best.support) && alone.coverage > best.coverage)) {
            best = std::move(alone);
        }
    }
    best.cited = supporting.empty() ? numbers : supporting;
    best.unsupporting = unsupporting;
    return best;
}

}  // namespace

VerifiedAnswer verify_answer(const std::string & raw_text, const std::vector<Passage> & passages,
                             const VerifierOptions & options) {
    VerifiedAnswer out;
    std::map<int, int> number_of_passage;  // prompt passage number -> answer citation number
    for (RawSentence & raw : split_generated(raw_text)) {
        std::vector<int> valid;
        std::vector<int> rejected;
        for (int n : raw.markers) {
            std::vector<int> & dest = (n >= 1 && static_cast<size_t>(n) <= passages.size()) ? valid : rejected;
            if (std::find(dest.begin(), dest.end(), n) == dest.end()) {
                dest.push_back(n);
            }
        }
        std::vector<const Passage *> cited;
        for (int n : valid) {
            cited.push_back(&passages[static_cast<size_t>(n - 1)]);
        }
        SentenceCheck check = check_citations(raw.text, cited, valid, options);
        check.rejected = rejected;
        switch (check.support) {
        case core::Support::kSupported:
            ++out.supported;
            break;
        case core::Support::kPartial:
            ++out.partial;
            break;
        case core::Support::kUnsupported:
            ++out.unsupported;
            break;
        }
        check.removed = check.support == core::Support::kUnsupported && options.remove_unsupported;
        if (!check.removed) {
            core::AnswerSentence s{check.text, {}, check.support};
            for (int n : check.cited) {
                const Passage & p = passages[static_cast<size_t>(n - 1)];
                auto [it, inserted] = number_of_passage.emplace(n, static_cast<int>(out.answer.citations.size()) + 1);
                if (inserted) {
                    core::Citation c;
                    c.number = it->second;
                    c.chunk_id = p.chunk_id;
                    c.provenance = p.provenance;
                    c.score = p.score;
                    out.answer.citations.push_back(std::move(c));
                }
                core::Citation & c = out.answer.citations[static_cast<size_t>(it->second - 1)];
                add_region(c, p, locate(p, ClaimWords(check.text)), c.quote.empty());
                s.citations.push_back(it->second);
            }
            out.answer.sentences.push_back(std::move(s));
        }
        out.checks.push_back(std::move(check));
    }
    return out;
}

std::vector<SentenceCheck> verify_citations(core::Answer & answer, const std::vector<Passage> & passages) {
    std::map<int64_t, const Passage *> by_chunk;
    for (const Passage & p : passages) {
        by_chunk.emplace(p.chunk_id, &p);
    }
    std::vector<SentenceCheck> checks;
    for (core::AnswerSentence & s : answer.sentences) {
        std::vector<const Passage *> cited;
        std::vector<int> valid;
        std::vector<int> rejected;
        for (int n : s.citations) {
            auto c = std::find_if(answer.citations.begin(), answer.citations.end(),
                                  [&](const core::Citation & x) { return x.number == n; });
            auto p = c == answer.citations.end() ? by_chunk.end() : by_chunk.find(c->chunk_id);
            if (p == by_chunk.end()) {
                rejected.push_back(n);
            } else {
                cited.push_back(p->second);
                valid.push_back(n);
            }
        }
        SentenceCheck check = check_citations(s.text, cited, valid, {});
        check.rejected = rejected;
        s.support = check.support;
        checks.push_back(std::move(check));
    }
    return checks;
}

core::Json to_json(const SentenceCheck & check) {
    core::Json j = core::Json::object();
    j["text"] = check.text;
    j["support"] = std::string(core::to_string(check.support));
    j["coverage"] = check.coverage;
    auto ints = [](const std::vector<int> & v) {
        core::Json a = core::Json::array();
        for (int n : v) {
            a.push_back(n);
        }
        return a;
    };
    j["cited_passages"] = ints(check.cited);
    j["rejected_citations"] = ints(check.rejected);
    j["unsupporting_citations"] = ints(check.unsupporting);
    core::Json missing = core::Json::array();
    for (const std::string & m : check.missing) {
        missing.push_back(m);
    }
    j["missing"] = std::move(missing);
    j["negation_conflict"] = check.negation_conflict;
    j["removed"] = check.removed;
    return j;
}

}  // namespace strongbox::appliance
