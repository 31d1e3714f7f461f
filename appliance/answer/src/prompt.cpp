#include "strongbox/answer/prompt.h"

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/text.h"

#include <cctype>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace strongbox::appliance {
namespace {

void replace_all(std::string & s, std::string_view from, std::string_view to) {
    size_t pos = 0;
    while ((pos = s.find(from, pos)) != std::string::npos) {
        s.replace(pos, from.size(), to);
        pos += to.size();
    }
}

std::string render_passage(size_t number, const Passage & p) {
    std::string source = std::filesystem::path(p.provenance.source_path).filename().string();
    std::string head = "[" + std::to_string(number) + "]";
    if (!source.empty()) {
        head += " (" + neutralise_passage(core::describe_location(p.provenance)) + ")";
    }
    return head + "\n" + neutralise_passage(p.text) + "\n";
}

std::string render_user(const PromptTemplate & t, const std::string & question, const std::string & passages) {
    std::string user = t.user;
    // The question goes in last so a question that spells "{{passages}}" cannot pull them twice.
    replace_all(user, "{{passages}}", passages);
    const size_t q = user.find("{{question}}");
    if (q != std::string::npos) {
        user.replace(q, 12, neutralise_passage(question));
    }
    return user;
}

}  // namespace

core::Result<PromptTemplate> parse_prompt_template(std::string_view text, const std::string & name) {
    PromptTemplate t;
    t.sha256 = core::sha256_hex(text);
    std::string * section = nullptr;
    for (std::string_view line : core::split(text, '\n')) {
        if (line.rfind("--- ", 0) == 0) {
            std::string_view which = core::trim(line.substr(4));
            if (which == "system") {
                section = &t.system;
            } else if (which == "user") {
                section = &t.user;
            } else {
                return core::Error(core::ErrorCode::kCorruptInput,
                                   name + ": unknown section \"" + std::string(which) + "\"");
            }
            continue;
        }
        if (section != nullptr) {
            *section += std::string(line) + "\n";
        } else if (line.rfind("id:", 0) == 0) {
            t.id = std::string(core::trim(line.substr(3)));
        } else if (line.rfind("version:", 0) == 0) {
            const std::string v(core::trim(line.substr(8)));
            t.version = std::atoi(v.c_str());
        } else if (!core::trim(line).empty()) {
            return core::Error(core::ErrorCode::kCorruptInput,
                               name + ": unexpected header line \"" + std::string(line) + "\"");
        }
    }
    t.system = std::string(core::trim(t.system));
    t.user = std::string(core::trim(t.user));
    if (t.id.empty() || t.version <= 0) {
        return core::Error(core::ErrorCode::kCorruptInput, name + ": needs \"id:\" and a positive \"version:\" header");
    }
    if (t.user.find("{{passages}}") == std::string::npos || t.user.find("{{question}}") == std::string::npos) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           name + ": the user section must hold {{passages}} and {{question}}");
    }
    return t;
}

core::Result<PromptTemplate> load_prompt_template(const std::filesystem::path & path) {
    auto bytes = core::read_file(path);
    if (!bytes.ok()) {
        return std::move(bytes).error().with_context("load the prompt template " + path.string());
    }
    return parse_prompt_template(*bytes, path.string());
}

std::filesystem::path find_prompt_dir(const std::filesystem::path & configured) {
    if (!configured.empty()) {
        return configured;
    }
    if (const char * env = std::getenv("STRONGBOX_PROMPTS"); env != nullptr && *env != '\0') {
        return env;
    }
    std::error_code ec;
    const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        std::filesystem::path installed = exe.parent_path().parent_path() / "share" / "strongbox" / "prompts";
        if (std::filesystem::exists(installed / kGroundedPromptFile, ec)) {
            return installed;
        }
    }
    // A development build runs from the build tree: use the templates next to this source file.
    return std::filesystem::path(__FILE__).parent_path().parent_path() / "prompts";
}

std::string neutralise_passage(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '[') {
            // "[12]" or "[1, 2]" would read as a citation marker: render it "(12)".
            size_t j = i + 1;
            while (j < text.size() &&
                   (std::isdigit(static_cast<unsigned char>(text[j])) != 0 || text[j] == ',' || text[j] == ' ')) {
                ++j;
            }
            if (j > i + 1 && j < text.size() && text[j] == ']') {
                out += '(';
                out.append(text.substr(i + 1, j - i - 1));
                out += ')';
                i = j;
                continue;
            }
        }
        out += c;
    }
    // Chat-template control spellings: break them so the tokenizer cannot see a special token.
    for (std::string_view marker : {"<|", "|>", "[INST]", "[/INST]", "<<SYS>>", "<</SYS>>", "<s>", "</s>"}) {
        std::string broken(marker);
        broken.insert(1, " ");
        replace_all(out, marker, broken);
    }
    return out;
}

BuiltPrompt build_prompt(const PromptTemplate & t, const std::string & question, const std::vector<Passage> & passages,
                         size_t max_prompt_tokens, const TokenCounter & count_tokens) {
    BuiltPrompt out;
    out.system = t.system;
    std::string rendered;
    auto total = [&](const std::string & with) {
        return count_tokens(out.system) + count_tokens(render_user(t, question, with));
    };
    for (size_t i = 0; i < passages.size(); ++i) {
        const std::string next = rendered + (rendered.empty() ? "" : "\n") + render_passage(i + 1, passages[i]);
        if (total(next) <= max_prompt_tokens) {
            rendered = next;
            out.passages.push_back(passages[i]);
            continue;
        }
        out.truncated = true;
        // Shorten the passage that does not fit, by halving, while at least a quarter survives.
        Passage cut = passages[i];
        size_t keep = cut.text.size();
        while (keep > passages[i].text.size() / 4) {
            keep /= 2;
            size_t space = passages[i].text.rfind(' ', keep);
            const size_t at = space == std::string::npos ? keep : space;
            cut.text = passages[i].text.substr(0, at);
            const std::string shorter = rendered + (rendered.empty() ? "" : "\n") + render_passage(i + 1, cut);
            if (total(shorter) <= max_prompt_tokens) {
                rendered = shorter;
                out.passages.push_back(cut);
                break;
            }
        }
        break;
    }
    out.user = render_user(t, question, rendered);
    out.prompt_tokens = count_tokens(out.system) + count_tokens(out.user);
    return out;
}

}  // namespace strongbox::appliance
