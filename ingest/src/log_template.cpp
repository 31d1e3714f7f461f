#include "log_template.h"

#include "log_time.h"

#include "strongbox/core/result.h"

#include <algorithm>
#include <cstdint>
#include <functional>
#include <numeric>
#include <unordered_map>

namespace strongbox::ingest {

namespace {

constexpr std::string_view kWild = "<*>";
constexpr size_t kMaxConstantWordBytes = 64;

bool is_blank(char c) {
    return c == ' ' || c == '\t';
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

bool is_alnum(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

bool is_hex(char c) {
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

std::vector<std::string_view> split_words(std::string_view s) {
    std::vector<std::string_view> out;
    size_t i = 0;
    while (i < s.size()) {
        while (i < s.size() && is_blank(s[i])) {
            ++i;
        }
        size_t b = i;
        while (i < s.size() && !is_blank(s[i])) {
            ++i;
        }
        if (i > b) {
            out.push_back(s.substr(b, i - b));
        }
    }
    return out;
}

// Whether a whole word is a value rather than part of the statement's constant text.
bool is_variable(std::string_view s) {
    if (s.empty()) {
        return false;
    }
    if (std::any_of(s.begin(), s.end(), is_digit)) {
        return true;  // numbers, IPs, ports, ids, sizes, times, versions, hex with digits
    }
    if (s.size() >= 8 && std::all_of(s.begin(), s.end(), is_hex)) {
        return true;
    }
    if (s.size() > kMaxConstantWordBytes) {
        return true;  // tokens, base64 blobs, dumps: no statement spells out a word this long
    }
    if (s.find("://") != std::string_view::npos) {
        return true;  // URL
    }
    if (s == "B" || s == "KB" || s == "MB" || s == "GB" || s == "TB" || s == "KiB" || s == "MiB" || s == "GiB") {
        return true;  // a size unit follows the magnitude of the number before it
    }
    if (s.size() == 3 && (month_from_abbrev(s) != 0 || is_weekday_abbrev(s))) {
        return true;  // part of a date written out in the message
    }
    if (s.front() == '/' && s.find('/', 1) != std::string_view::npos) {
        return true;  // absolute path with at least two components
    }
    if (s.starts_with("./") || s.starts_with("../")) {
        return true;  // relative path
    }
    size_t at = s.find('@');
    if (at != std::string_view::npos && at > 0 && s.find('.', at) != std::string_view::npos) {
        return true;  // e-mail address
    }
    // A dotted name with at least three labels (host names, FQDNs).
    if (std::count(s.begin(), s.end(), '.') >= 2 && s.front() != '.' && s.back() != '.' &&
        std::all_of(s.begin(), s.end(), [](char c) { return is_alnum(c) || c == '.' || c == '-' || c == '_'; })) {
        return true;
    }
    return false;
}

bool is_open_punct(char c) {
    return c == '(' || c == '[' || c == '{' || c == '<' || c == '"' || c == '\'';
}

bool is_close_punct(char c) {
    return c == ')' || c == ']' || c == '}' || c == '>' || c == '"' || c == '\'' || c == ',' || c == ';' || c == ':' ||
           c == '.' || c == '!' || c == '?';
}

// Splits a masked template word around its single "<*>": prefix and suffix; false when the word
// has no "<*>".
bool split_wild(std::string_view t, std::string_view & prefix, std::string_view & suffix) {
    size_t w = t.find(kWild);
    if (w == std::string_view::npos) {
        return false;
    }
    prefix = t.substr(0, w);
    suffix = t.substr(w + kWild.size());
    return true;
}

bool is_alpha(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string_view letter_prefix(std::string_view w) {
    size_t n = 0;
    while (n < w.size() && is_alpha(w[n])) {
        ++n;
    }
    return w.substr(0, n);
}

// Masks the inside of a word (brackets and trailing punctuation already removed).
std::string mask_core(std::string_view core) {
    size_t eq = core.find('=');
    size_t scheme = core.find("://");
    if (scheme != std::string_view::npos && scheme < eq) {
        return std::string(kWild);  // a URL, whatever its query string holds
    }
    if (eq != std::string_view::npos && eq > 0) {
        std::string_view value = core.substr(eq + 1);
        return mask_core(core.substr(0, eq)) + "=" + (value.empty() ? std::string() : mask_core(value));
    }
    // "core.2275", "instruction......0", "lr:00004ed0": a name, separators, then the value.
    size_t letters = 0;
    while (letters < core.size() && is_alpha(core[letters])) {
        ++letters;
    }
    size_t seps = letters;
    while (seps < core.size() && (core[seps] == '.' || core[seps] == ':' || core[seps] == '(')) {
        ++seps;
    }
    if (letters > 0 && seps > letters && seps < core.size() && is_variable(core.substr(seps))) {
        return std::string(core.substr(0, seps)) + std::string(kWild);
    }
    return is_variable(core) ? std::string(kWild) : std::string(core);
}

// The template word for a position whose words differ: what they share up to a separator
// ("rhost=", "chdir(", "'"), then "<*>", then their shared closing punctuation (")", "'").
std::string generalise(const std::vector<std::string_view> & values) {
    std::string_view first = values.front();
    size_t prefix = first.size();
    for (std::string_view v : values) {
        size_t n = 0;
        while (n < prefix && n < v.size() && v[n] == first[n]) {
            ++n;
        }
        prefix = n;
    }
    while (prefix > 0 && std::string_view("=(:[{\"'").find(first[prefix - 1]) == std::string_view::npos) {
        --prefix;
    }
    // "<*>" cannot be part of a shared prefix: it is the variable part itself.
    if (first.substr(0, prefix).find('<') != std::string_view::npos) {
        prefix = 0;
    }
    size_t suffix = first.size() - prefix;
    for (std::string_view v : values) {
        size_t n = 0;
        while (n < suffix && n + prefix < v.size() && v[v.size() - 1 - n] == first[first.size() - 1 - n]) {
            ++n;
        }
        suffix = n;
    }
    // Only closing punctuation starts the shared ending ('>' may be the end of a "<*>").
    while (suffix > 0 && std::string_view(")]}\"',;").find(first[first.size() - suffix]) == std::string_view::npos) {
        --suffix;
    }
    return std::string(first.substr(0, prefix)) + std::string(kWild) + std::string(first.substr(first.size() - suffix));
}

}  // namespace

std::string mask_log_word(std::string_view word) {
    size_t lead = 0;
    while (lead < word.size() && is_open_punct(word[lead])) {
        ++lead;
    }
    size_t trail = 0;
    while (trail + lead < word.size() && is_close_punct(word[word.size() - 1 - trail])) {
        ++trail;
    }
    std::string_view core = word.substr(lead, word.size() - lead - trail);
    if (core.empty()) {
        if (word.size() == 2 && lead == 1 && trail == 1) {
            return std::string(1, word[0]) + std::string(kWild) + word[1];  // "()": an empty value
        }
        return std::string(word);
    }
    return std::string(word.substr(0, lead)) + mask_core(core) + std::string(word.substr(word.size() - trail));
}

struct TemplateMiner::Impl {
    TemplateMinerOptions options;
    // Exact groups: one per distinct masked word sequence.
    std::unordered_map<std::string, size_t> exact_index;
    std::vector<std::vector<std::string>> words;  // per exact group; a root's words are its template
    std::vector<size_t> exact_size;
    std::vector<size_t> message_exact;
    // Results of finish().
    std::vector<size_t> parent;
    std::vector<size_t> exact_group;
    std::vector<size_t> group_root;
    std::vector<size_t> group_sizes;
    bool finished = false;

    // The masked words of a message. A run of fully variable words of the same kind (same
    // leading letters: "blk_1 blk_2 blk_3", "10.0.0.1 10.0.0.2") collapses into one "<*>", so
    // messages that differ only in a list's length group together, while "52144 ssh2" stays
    // two parameters. spans (optional) receives each masked word's range of message bytes.
    std::vector<std::string> masked_words(std::string_view message,
                                          std::vector<std::pair<size_t, size_t>> * spans = nullptr) const {
        std::vector<std::string_view> split = split_words(message);
        std::vector<std::string> out;
        auto offset = [&message](std::string_view w) {
            return static_cast<size_t>(w.data() - message.data());
        };
        for (size_t i = 0; i < split.size(); ++i) {
            const bool tail = out.size() + 1 == options.max_words && i + 1 < split.size();
            std::string m = tail ? std::string(kWild) : mask_log_word(split[i]);
            const size_t end = tail ? message.size() : offset(split[i]) + split[i].size();
            if (m == kWild && !out.empty() && out.back() == kWild && i > 0 &&
                letter_prefix(split[i]) == letter_prefix(split[i - 1])) {
                if (spans != nullptr) {
                    spans->back().second = end;
                }
            } else {
                out.push_back(std::move(m));
                if (spans != nullptr) {
                    spans->emplace_back(offset(split[i]), end);
                }
            }
            if (tail) {
                break;  // the last word stands for the rest of a very long message
            }
        }
        return out;
    }

    size_t add(std::string_view message) {
        std::vector<std::string> w = masked_words(message);
        std::string key;
        for (const std::string & x : w) {
            key += x;
            key += '\x1f';
        }
        auto [it, inserted] = exact_index.emplace(std::move(key), words.size());
        if (inserted) {
            words.push_back(std::move(w));
            exact_size.push_back(0);
        }
        ++exact_size[it->second];
        message_exact.push_back(it->second);
        finished = false;
        return message_exact.size() - 1;
    }

    size_t find(size_t x) {
        while (parent[x] != x) {
            parent[x] = parent[parent[x]];
            x = parent[x];
        }
        return x;
    }

    // One pass over the groups of one length; returns whether anything merged.
    bool merge_pass(std::vector<size_t> & roots, size_t length) {
        // A group's signature without position p is its whole-sequence hash minus p's term, so
        // each position costs O(1) per group.
        constexpr uint64_t kBase = 1099511628211ULL;
        std::vector<uint64_t> power(length + 1, 1);
        for (size_t i = 1; i <= length; ++i) {
            power[i] = power[i - 1] * kBase;
        }
        std::hash<std::string> hasher;
        std::unordered_map<size_t, uint64_t> total;
        for (size_t r : roots) {
            uint64_t t = 0;
            for (size_t i = 0; i < length; ++i) {
                t += static_cast<uint64_t>(hasher(words[r][i])) * power[i];
            }
            total[r] = t;
        }
        bool changed = false;
        for (size_t p = 0; p < length; ++p) {
            std::unordered_map<uint64_t, std::vector<size_t>> buckets;
            for (size_t r : roots) {
                if (parent[r] == r) {
                    buckets[total[r] - static_cast<uint64_t>(hasher(words[r][p])) * power[p]].push_back(r);
                }
            }
            for (auto & [sig, members] : buckets) {
                if (members.size() < 2) {
                    continue;
                }
                const size_t root = members.front();
                // Keep only true matches (a hash collision must not merge unrelated groups).
                std::vector<size_t> same;
                for (size_t m : members) {
                    bool equal = true;
                    for (size_t i = 0; i < length && equal; ++i) {
                        equal = i == p || words[m][i] == words[root][i];
                    }
                    if (equal) {
                        same.push_back(m);
                    }
                }
                std::vector<std::string_view> values;
                bool has_wild = false;
                for (size_t m : same) {
                    values.push_back(words[m][p]);
                    has_wild = has_wild || words[m][p].find(kWild) != std::string::npos;
                }
                std::sort(values.begin(), values.end());
                values.erase(std::unique(values.begin(), values.end()), values.end());
                const size_t distinct = values.size();
                if (same.size() < 2 || !(distinct == 1 || has_wild || distinct >= options.min_distinct_values)) {
                    continue;
                }
                for (size_t m : same) {
                    if (m != root) {
                        parent[m] = root;
                    }
                }
                if (distinct > 1) {
                    std::string merged = generalise(values);
                    total[root] +=
                        (static_cast<uint64_t>(hasher(merged)) - static_cast<uint64_t>(hasher(words[root][p]))) *
                        power[p];
                    words[root][p] = std::move(merged);
                }
                changed = true;
            }
            roots.erase(std::remove_if(roots.begin(), roots.end(), [this](size_t r) { return parent[r] != r; }),
                        roots.end());
        }
        return changed;
    }

    void finish() {
        parent.resize(words.size());
        std::iota(parent.begin(), parent.end(), size_t{0});
        std::unordered_map<size_t, std::vector<size_t>> by_length;
        for (size_t g = 0; g < words.size(); ++g) {
            by_length[words[g].size()].push_back(g);
        }
        for (auto & [length, roots] : by_length) {
            for (size_t round = 0; round < options.max_rounds && roots.size() > 1; ++round) {
                if (!merge_pass(roots, length)) {
                    break;
                }
            }
        }
        exact_group.assign(words.size(), SIZE_MAX);
        group_root.clear();
        group_sizes.clear();
        std::unordered_map<size_t, size_t> root_group;
        for (size_t e : message_exact) {
            size_t r = find(e);
            auto [it, inserted] = root_group.emplace(r, group_root.size());
            if (inserted) {
                group_root.push_back(r);
                group_sizes.push_back(0);
            }
            exact_group[e] = it->second;
            ++group_sizes[it->second];
        }
        finished = true;
    }
};

TemplateMiner::TemplateMiner(TemplateMinerOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = options;
    impl_->options.max_words = std::max<size_t>(impl_->options.max_words, 1);
    impl_->options.min_distinct_values = std::max<size_t>(impl_->options.min_distinct_values, 2);
}

TemplateMiner::~TemplateMiner() = default;
TemplateMiner::TemplateMiner(TemplateMiner &&) noexcept = default;
TemplateMiner & TemplateMiner::operator=(TemplateMiner &&) noexcept = default;

size_t TemplateMiner::add(std::string_view message) {
    return impl_->add(message);
}

void TemplateMiner::finish() {
    impl_->finish();
}

size_t TemplateMiner::group_of(size_t message_index) const {
    SB_CHECK(impl_->finished && message_index < impl_->message_exact.size());
    return impl_->exact_group[impl_->message_exact[message_index]];
}

size_t TemplateMiner::group_count() const {
    SB_CHECK(impl_->finished);
    return impl_->group_root.size();
}

size_t TemplateMiner::group_size(size_t group) const {
    SB_CHECK(impl_->finished && group < impl_->group_root.size());
    return impl_->group_sizes[group];
}

std::string TemplateMiner::template_text(size_t group) const {
    SB_CHECK(impl_->finished && group < impl_->group_root.size());
    std::string out;
    for (const std::string & w : impl_->words[impl_->group_root[group]]) {
        if (!out.empty()) {
            out += ' ';
        }
        out += w;
    }
    return out;
}

std::vector<std::string> TemplateMiner::parameters(size_t group, std::string_view message) const {
    SB_CHECK(impl_->finished && group < impl_->group_root.size());
    const std::vector<std::string> & tmpl = impl_->words[impl_->group_root[group]];
    std::vector<std::pair<size_t, size_t>> spans;
    std::vector<std::string> words = impl_->masked_words(message, &spans);
    std::vector<std::string> params;
    for (size_t i = 0; i < tmpl.size() && i < words.size(); ++i) {
        std::string_view prefix;
        std::string_view suffix;
        if (!split_wild(tmpl[i], prefix, suffix)) {
            continue;
        }
        std::string_view w = message.substr(spans[i].first, spans[i].second - spans[i].first);
        if (w.size() >= prefix.size() + suffix.size() && w.starts_with(prefix) && w.ends_with(suffix)) {
            w = w.substr(prefix.size(), w.size() - prefix.size() - suffix.size());
        }
        params.emplace_back(w);
    }
    return params;
}

}  // namespace strongbox::ingest
