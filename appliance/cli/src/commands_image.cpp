// image build/keygen/key-set/trust/bundle/inspect/flash, boot select/confirm/mark-good/status, selftest:
// provisioning the appliance. Verification and installation live in strongbox::provisioning;
// these commands parse options, take the slots-directory lock and print what happened.

#include "commands.h"

#include "strongbox/answer/prompt.h"
#include "strongbox/appliance/fingerprint.h"
#include "strongbox/appliance/selftest.h"
#include "strongbox/audit/audit_log.h"
#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"
#include "strongbox/core/json.h"
#include "strongbox/core/text.h"
#include "strongbox/provisioning/boot.h"
#include "strongbox/provisioning/bundle.h"
#include "strongbox/provisioning/installer.h"
#include "strongbox/provisioning/key_set.h"
#include "strongbox/provisioning/slots.h"

#include <algorithm>
#include <cstdio>
#include <fstream>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace strongbox::appliance {
namespace {

namespace fs = std::filesystem;
namespace prov = strongbox::provisioning;

constexpr const char * kProduct = "strongbox";
constexpr const char * kDefaultTrustedKeys = "/etc/strongbox/trusted-keys.json";

fs::path slots_dir(const CommandContext & ctx) {
    return ctx.args.has("slots") ? fs::path(ctx.args.get("slots")) : DataPaths{ctx.data_dir}.slots();
}

fs::path trusted_keys_path(const CommandContext & ctx) {
    return ctx.args.get("trusted-keys", kDefaultTrustedKeys);
}

std::vector<std::string> comma_list(const std::string & text) {
    std::vector<std::string> out;
    for (const auto & part : core::split(text, ',')) {
        const std::string item(core::trim(part));
        if (!item.empty()) {
            out.push_back(item);
        }
    }
    return out;
}

core::Result<uint64_t> get_u64(const Args & args, const std::string & name) {
    const std::string text = args.get(name);
    if (text.empty() || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
        text.size() > 15) {
        return core::Error(core::ErrorCode::kInvalidArgument, "--" + name + " needs a non-negative integer");
    }
    return static_cast<uint64_t>(std::stoull(text));
}

// Folders (prompt templates) hash as a tree; settings and index parameters as canonical JSON,
// the way the running appliance hashes them (audit_salt.h); other files by their bytes.
core::Result<std::string> optional_hash(const Args & args, const std::string & name) {
    const std::string value = args.get(name);
    if (value.empty()) {
        return std::string();
    }
    if (fs::is_directory(value)) {
        return hash_prompt_tree(value);
    }
    if (name == "settings" || name == "index-params") {
        return canonical_json_file_sha256(value);
    }
    return core::sha256_file_hex(value);
}

core::Result<std::string> read_head(const fs::path & path, uint64_t & total) {
    std::error_code ec;
    total = fs::file_size(path, ec);
    if (ec) {
        return core::Error(core::ErrorCode::kNotFound, "cannot read " + path.string() + ": " + ec.message());
    }
    std::ifstream in(path, std::ios::binary);
    std::string header(prov::kBundleHeaderSize, '\0');
    in.read(header.data(), static_cast<std::streamsize>(header.size()));
    header.resize(static_cast<size_t>(in.gcount()));
    SB_ASSIGN_OR_RETURN(prov::BundleLayout layout, prov::parse_bundle_header(header, total));
    std::string head(static_cast<size_t>(layout.payload_offset), '\0');
    in.seekg(0);
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    if (static_cast<uint64_t>(in.gcount()) != layout.payload_offset) {
        return core::Error(core::ErrorCode::kIoError, "short read of " + path.string());
    }
    return head;
}

int run_keygen(const CommandContext & ctx) {
    const std::string output = ctx.args.get("output");
    if (output.empty()) {
        return fail("image keygen", "--output FILE is required");
    }
    if (fs::exists(output)) {
        return fail("image keygen", output + " exists; refusing to overwrite a key");
    }
    const prov::KeyPair key = prov::generate_key_pair();
    auto status = core::write_file_atomic(output, prov::encode_key_pair(key), {.mode = 0600, .exclusive = true});
    if (!status.ok()) {
        return fail("image keygen", status.error());
    }
    std::printf("%s\n", prov::to_hex(key.public_key).c_str());
    return kExitOk;
}

core::Result<prov::KeyPair> load_key(const std::string & path) {
    SB_ASSIGN_OR_RETURN(std::string text, core::read_file(path));
    auto key = prov::decode_key_pair(text);
    if (!key.ok()) {
        return std::move(key).error().with_context(path);
    }
    return key;
}

core::Result<std::vector<prov::PublicKey>> parse_public_keys(const std::string & list) {
    std::vector<prov::PublicKey> keys;
    for (const auto & hex : comma_list(list)) {
        SB_ASSIGN_OR_RETURN(prov::PublicKey k, prov::public_key_from_hex(hex));
        keys.push_back(k);
    }
    return keys;
}

int run_key_set(const CommandContext & ctx) {
    auto root = load_key(ctx.args.get("root"));
    auto version = get_u64(ctx.args, "version");
    auto threshold = get_u64(ctx.args, "threshold");
    auto keys = parse_public_keys(ctx.args.get("keys"));
    auto revoked = parse_public_keys(ctx.args.get("revoked"));
    for (const core::Status & s : {core::Status(root.ok() ? core::Status() : root.error()),
                                   core::Status(version.ok() ? core::Status() : version.error()),
                                   core::Status(threshold.ok() ? core::Status() : threshold.error()),
                                   core::Status(keys.ok() ? core::Status() : keys.error()),
                                   core::Status(revoked.ok() ? core::Status() : revoked.error())}) {
        if (!s.ok()) {
            return fail("image key-set", s.error());
        }
    }
    prov::KeySet set{kProduct, *version, static_cast<uint32_t>(*threshold), *keys, *revoked};
    const std::string doc = prov::sign_key_set(set, *root);
    // Re-verify what was produced so a bad threshold is caught here, not on the box.
    auto check = prov::verify_key_set(doc, root->public_key);
    if (!check.ok()) {
        return fail("image key-set", check.error());
    }
    auto status = core::write_file_atomic(ctx.args.get("output", "key-set.json"), doc);
    if (!status.ok()) {
        return fail("image key-set", status.error());
    }
    return kExitOk;
}

int run_trust(const CommandContext & ctx) {
    auto root = prov::public_key_from_hex(ctx.args.get("root-key"));
    auto doc = core::read_file(ctx.args.get("key-set"));
    if (!root.ok() || !doc.ok()) {
        return fail("image trust", "--root-key HEX and --key-set FILE are required and must be valid");
    }
    const std::string text = prov::encode_trust_store(*root, *doc);
    auto store = prov::load_trust_store(text);
    if (!store.ok()) {
        return fail("image trust", store.error());
    }
    auto status = core::write_file_atomic(ctx.args.get("output", "trusted-keys.json"), text);
    if (!status.ok()) {
        return fail("image trust", status.error());
    }
    std::printf("trusting key set version %llu: %u of %zu release keys\n",
                static_cast<unsigned long long>(store->key_set.version), store->key_set.threshold,
                store->key_set.keys.size());
    return kExitOk;
}

int run_bundle(const CommandContext & ctx) {
    const auto & pos = ctx.args.positionals();
    const std::string output = ctx.args.get("output");
    if (pos.size() != 1 || output.empty()) {
        return fail("image bundle", "usage: image bundle IMAGE --output FILE --version V --security-version N "
                                    "--key-set-version N --keys A.key,B.key");
    }
    prov::Manifest m;
    m.product = kProduct;
    m.version = ctx.args.get("version");
    auto sv = get_u64(ctx.args, "security-version");
    auto kv = get_u64(ctx.args, "key-set-version");
    if (m.version.empty() || !sv.ok() || !kv.ok()) {
        return fail("image bundle", "--version, --security-version and --key-set-version are required");
    }
    m.security_version = *sv;
    m.key_set_version = *kv;
    m.hardware_class = ctx.args.get("hardware-class", "cpu");
    m.golden_latency_ms = static_cast<uint32_t>(ctx.args.get_int("golden-latency-ms", 60000).value_or(60000));
    for (const auto & [field, option] :
         std::vector<std::pair<std::string *, std::string>>{{&m.salt.model_sha256, "model"},
                                                            {&m.salt.prompts_sha256, "prompts"},
                                                            {&m.salt.tokenizer_sha256, "tokenizer"},
                                                            {&m.salt.settings_sha256, "settings"},
                                                            {&m.salt.index_params_sha256, "index-params"}}) {
        auto h = optional_hash(ctx.args, option);
        if (!h.ok()) {
            return fail("image bundle", h.error());
        }
        *field = *h;
    }
    std::vector<prov::KeyPair> signers;
    for (const auto & path : comma_list(ctx.args.get("keys"))) {
        auto key = load_key(path);
        if (!key.ok()) {
            return fail("image bundle", key.error());
        }
        signers.push_back(*key);
    }
    if (signers.empty()) {
        return fail("image bundle", "--keys needs at least one release key file");
    }
    // Two passes over the image: hash every block, then copy it behind the signed head.
    std::ifstream in(pos[0], std::ios::binary);
    if (!in) {
        return fail("image bundle", "cannot open " + pos[0]);
    }
    m.block_size = 1u << 20;
    core::Sha256 whole;
    std::string block(m.block_size, '\0');
    while (in.read(block.data(), static_cast<std::streamsize>(block.size())) || in.gcount() > 0) {
        const std::string_view piece(block.data(), static_cast<size_t>(in.gcount()));
        whole.update(piece);
        m.block_sha256.push_back(core::sha256_hex(piece));
        m.payload_size += piece.size();
    }
    m.payload_sha256 = core::to_hex(whole.finish());
    std::ofstream out(output, std::ios::binary | std::ios::trunc);
    const std::string head = prov::build_bundle_head(m, signers);
    out.write(head.data(), static_cast<std::streamsize>(head.size()));
    in.clear();
    in.seekg(0);
    out << in.rdbuf();
    out.close();
    if (!out) {
        return fail("image bundle", "writing " + output + " failed");
    }
    std::printf("%s: %s (security version %llu), %llu-byte payload, %zu signatures, salt %s\n", output.c_str(),
                m.version.c_str(), static_cast<unsigned long long>(m.security_version),
                static_cast<unsigned long long>(m.payload_size), signers.size(),
                prov::salt_fingerprint(m.salt).substr(0, 16).c_str());
    return kExitOk;
}

int run_inspect(const CommandContext & ctx) {
    const auto & pos = ctx.args.positionals();
    if (pos.size() != 1) {
        return fail("image inspect", "give one BUNDLE");
    }
    uint64_t total = 0;
    auto head = read_head(pos[0], total);
    if (!head.ok()) {
        return fail("image inspect", head.error());
    }
    core::Json out = core::Json::object();
    auto trust = prov::load_trust_store_file(trusted_keys_path(ctx));
    prov::Manifest manifest;
    if (trust.ok()) {
        auto v = prov::verify_bundle_head(*head, total, trust->key_set, prov::VerifyPolicy{kProduct, 0});
        if (!v.ok()) {
            return fail("image inspect", pos[0] + ": " + v.error().message());
        }
        manifest = v->manifest;
        out["signatures"] = "verified: " + std::to_string(v->signers.size()) + " of key set version " +
                            std::to_string(trust->key_set.version) + " (payload not checked; flash checks it)";
    } else {
        auto m = prov::read_manifest_unverified(*head, total);
        if (!m.ok()) {
            return fail("image inspect", pos[0] + ": " + m.error().message());
        }
        manifest = *m;
        out["signatures"] = "NOT VERIFIED: " + trust.error().message();
    }
    auto manifest_json = core::Json::parse(prov::manifest_to_json(manifest));
    core::Json & mj = manifest_json.value();
    mj["payload"].as_object().erase("blocks");
    mj["payload"]["n_blocks"] = static_cast<int64_t>(manifest.block_sha256.size());
    mj["salt"] = salt_to_json(manifest.salt);
    out["fingerprint"] = prov::salt_fingerprint(manifest.salt);
    out["manifest"] = mj;
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
}

void record_audit(const CommandContext & ctx, const core::Json & body) {
    const fs::path path = DataPaths{ctx.data_dir}.audit();
    if (!fs::exists(path)) {
        std::fprintf(stderr, "strongbox image flash: no audit trail at %s; the update is not recorded\n", path.c_str());
        return;
    }
    auto audit = AuditLog::open(path);
    auto id =
        audit.ok() ? (*audit)->append(audit_kind::kImageUpdate, "cli", body) : core::Result<int64_t>(audit.error());
    if (!id.ok()) {
        std::fprintf(stderr, "strongbox image flash: could not record the update: %s\n", id.error().message().c_str());
    }
}

int run_flash(const CommandContext & ctx) {
    const auto & pos = ctx.args.positionals();
    if (pos.size() != 1) {
        return fail("image flash", "give one BUNDLE");
    }
    // Fail closed before touching anything: without trusted keys nothing installs.
    auto trust = prov::load_trust_store_file(trusted_keys_path(ctx));
    if (!trust.ok()) {
        return fail("image flash", trust.error());
    }
    const fs::path dir = slots_dir(ctx);
    auto lock = DataDir::acquire(dir, "strongbox image flash");
    if (!lock.ok()) {
        return fail("image flash", lock.error());
    }
    auto storage = prov::open_posix_storage(dir);
    std::fprintf(stderr, "copying %s to staging\n", pos[0].c_str());
    auto staged = prov::stage_bundle(*storage, pos[0]);
    if (!staged.ok()) {
        return fail("image flash", staged.error());
    }
    auto result = prov::install_staged_bundle(*storage, trust->key_set, kProduct);
    core::Json body = core::Json::object();
    body["bundle"] = fs::path(pos[0]).filename().string();
    body["ok"] = result.ok();
    if (!result.ok()) {
        body["error"] = result.error().message();
        record_audit(ctx, body);
        return fail("image flash", result.error());
    }
    body["version"] = result->manifest.version;
    body["security_version"] = result->manifest.security_version;
    body["slot"] = std::string(1, prov::slot_letter(result->slot));
    body["signatures"] = static_cast<int64_t>(result->n_signers);
    body["salt_fingerprint"] = prov::salt_fingerprint(result->manifest.salt);
    record_audit(ctx, body);
    std::printf("installed %s (security version %llu) into %s; it boots on probation (%d tries) and must pass its "
                "behaviour check\n",
                result->manifest.version.c_str(), static_cast<unsigned long long>(result->manifest.security_version),
                prov::slot_name(result->slot).c_str(), prov::kMaxTries);
    return kExitOk;
}

int run_boot_select(const CommandContext & ctx) {
    const fs::path dir = slots_dir(ctx);
    auto lock = DataDir::acquire(dir, "strongbox boot select");
    if (!lock.ok()) {
        return fail("boot select", lock.error());
    }
    auto storage = prov::open_posix_storage(dir);
    // With trusted keys installed every slot is verified before it starts; without them (a box
    // never given keys) the records are all there is to go by, and stderr says so.
    auto trust = prov::load_trust_store_file(trusted_keys_path(ctx));
    if (!trust.ok()) {
        std::fprintf(stderr, "strongbox boot select: slots not verified: %s\n", trust.error().message().c_str());
    }
    auto d = trust.ok() ? prov::select_verified_boot_slot(*storage, {trust->key_set, kProduct})
                        : prov::select_boot_slot(*storage);
    if (!d.ok()) {
        return fail("boot select", d.error());
    }
    // stdout is the slot letter alone, for the bootloader script; the reason goes to stderr.
    std::fprintf(stderr, "%s\n", d->reason.c_str());
    std::printf("%c\n", prov::slot_letter(d->slot));
    return kExitOk;
}

int run_mark_good(const CommandContext & ctx) {
    const fs::path dir = slots_dir(ctx);
    auto lock = DataDir::acquire(dir, "strongbox boot mark-good");
    if (!lock.ok()) {
        return fail("boot mark-good", lock.error());
    }
    auto storage = prov::open_posix_storage(dir);
    int slot = -1;
    if (ctx.args.has("slot")) {
        auto s = prov::slot_from_letter(ctx.args.get("slot"));
        if (!s.ok()) {
            return fail("boot mark-good", s.error());
        }
        slot = *s;
    } else {
        auto state = prov::BootStore(*storage).load();
        if (!state.ok()) {
            return fail("boot mark-good", state.error());
        }
        slot = state->booted_slot;
    }
    auto status = prov::mark_good(*storage, slot);
    if (!status.ok()) {
        return fail("boot mark-good", status.error());
    }
    std::printf("%s marked good\n", slot < 0 ? "?" : prov::slot_name(slot).c_str());
    return kExitOk;
}

int run_boot_status(const CommandContext & ctx) {
    auto storage = prov::open_posix_storage(slots_dir(ctx));
    auto state = prov::BootStore(*storage).load();
    if (!state.ok()) {
        return fail("boot status", state.error());
    }
    std::printf("generation %llu, anti-rollback floor %llu, good slot %s, booted slot %s\n",
                static_cast<unsigned long long>(state->generation),
                static_cast<unsigned long long>(state->security_floor),
                state->good_slot < 0 ? "none" : prov::slot_name(state->good_slot).c_str(),
                state->booted_slot < 0 ? "none" : prov::slot_name(state->booted_slot).c_str());
    for (int s = 0; s < prov::kSlotCount; ++s) {
        const auto & rec = state->slots[static_cast<size_t>(s)];
        std::printf("  %s: %-6s %-12s security %llu, %d tries left, sha256 %s\n", prov::slot_name(s).c_str(),
                    std::string(prov::to_string(rec.state)).c_str(), rec.version.c_str(),
                    static_cast<unsigned long long>(rec.security_version), rec.tries_left,
                    core::to_hex(rec.payload_sha256).substr(0, 16).c_str());
    }
    return kExitOk;
}

// The script sits in provisioning/scripts of the source tree, found from the binary's location
// (build/<preset>/appliance/strongbox) unless --script names it.
fs::path find_build_script(const CommandContext & ctx) {
    if (ctx.args.has("script")) {
        return ctx.args.get("script");
    }
    std::error_code ec;
    fs::path dir = fs::read_symlink("/proc/self/exe", ec).parent_path();
    for (int up = 0; up < 5 && !dir.empty(); ++up, dir = dir.parent_path()) {
        const fs::path candidate = dir / "provisioning" / "scripts" / "build-image.sh";
        if (fs::exists(candidate)) {
            return candidate;
        }
    }
    return "/usr/share/strongbox/build-image.sh";
}

int run_image_build(const CommandContext & ctx) {
    const fs::path script = find_build_script(ctx);
    if (!fs::exists(script)) {
        return fail("image build", "build script not found at " + script.string() + " (use --script)");
    }
    std::vector<std::string> argv = {"bash", script.string(), "--output", ctx.args.get("output", "strongbox.squashfs")};
    for (const char * opt : {"binary", "model", "settings", "prompts", "golden", "tessdata"}) {
        if (ctx.args.has(opt)) {
            argv.push_back(std::string("--") + opt);
            argv.push_back(ctx.args.get(opt));
        }
    }
    std::vector<char *> cargv;
    for (auto & a : argv) {
        cargv.push_back(a.data());
    }
    cargv.push_back(nullptr);
    const pid_t pid = ::fork();
    if (pid == 0) {
        ::execvp("bash", cargv.data());
        ::_exit(127);
    }
    int status = 0;
    if (pid < 0 || ::waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return fail("image build", script.string() + " failed");
    }
    return kExitOk;
}

// <executable dir>/../share/strongbox/<name> (the image's /usr/share/strongbox), when it exists.
fs::path shipped_file(const std::string & name) {
    std::error_code ec;
    const fs::path candidate =
        fs::read_symlink("/proc/self/exe", ec).parent_path() / ".." / "share" / "strongbox" / name;
    return !ec && fs::exists(candidate) ? candidate.lexically_normal() : fs::path();
}

SelftestOptions selftest_options(const CommandContext & ctx) {
    SelftestOptions options;
    options.data_dir = ctx.data_dir;
    options.golden_path = ctx.args.has("golden") ? fs::path(ctx.args.get("golden")) : shipped_file("golden.json");
    options.latency_budget_ms = ctx.args.get_int("latency-ms", 60000).value_or(60000);
    options.model_sha256 = ctx.args.get("model-sha256");
    const fs::path model = ctx.args.has("model") ? fs::path(ctx.args.get("model")) : shipped_file("model.gguf");
    options.model_path = model;
    options.settings.model_path = model;
    if (ctx.args.has("prompts")) {
        options.settings.prompt_dir = ctx.args.get("prompts");
    }
    return options;
}

// What the booted image promises, from the signed head kept beside its slot. Options given on
// the command line win over the manifest.
void apply_manifest(const CommandContext & ctx, const prov::Manifest & m, SelftestOptions & options) {
    if (!ctx.args.has("model-sha256")) {
        options.model_sha256 = m.salt.model_sha256;
    }
    if (!ctx.args.has("latency-ms") && m.golden_latency_ms > 0) {
        options.latency_budget_ms = m.golden_latency_ms;
    }
    options.expected_salt = m.salt;
}

int run_selftest_command(const CommandContext & ctx) {
    SelftestOptions options = selftest_options(ctx);
    if (ctx.args.has("slots")) {
        // The manifest of the booted slot, when there is one to read.
        auto storage = prov::open_posix_storage(slots_dir(ctx));
        auto trust = prov::load_trust_store_file(trusted_keys_path(ctx));
        auto state = prov::BootStore(*storage).load();
        if (trust.ok() && state.ok() && state->booted_slot >= 0) {
            auto m = prov::read_slot_manifest(*storage, *state, state->booted_slot, trust->key_set, kProduct);
            if (!m.ok()) {
                return fail("selftest", m.error());
            }
            apply_manifest(ctx, *m, options);
        }
    }
    const SelftestReport report = run_selftest(options);
    if (ctx.args.has("json")) {
        std::printf("%s\n", to_json(report).dump(2).c_str());
    } else {
        std::printf("%s", format_selftest(report).c_str());
    }
    return report.passed() ? kExitOk : kExitFailure;
}

// The booted system's go-live step: behaviour check in a child process with a deadline (a hang or
// crash fails it), and only when it passes is the booted trial slot marked good, which raises the
// anti-rollback floor. A failure leaves the slot on probation: the next `boot select` counts a
// try down, and after kMaxTries failed boots the previous good slot boots again.
int run_boot_confirm(const CommandContext & ctx) {
    const fs::path dir = slots_dir(ctx);
    auto lock = DataDir::acquire(dir, "strongbox boot confirm");
    if (!lock.ok()) {
        return fail("boot confirm", lock.error());
    }
    auto storage = prov::open_posix_storage(dir);
    auto state = prov::BootStore(*storage).load();
    if (!state.ok()) {
        return fail("boot confirm", state.error());
    }
    const int slot = state->booted_slot;
    if (slot < 0) {
        return fail("boot confirm", "no slot was started by 'strongbox boot select'");
    }
    const prov::SlotRecord & rec = state->slots[static_cast<size_t>(slot)];
    const bool trial = rec.state == prov::SlotState::kTrying;
    SelftestOptions options = selftest_options(ctx);
    auto trust = prov::load_trust_store_file(trusted_keys_path(ctx));
    auto manifest = trust.ok() ? prov::read_slot_manifest(*storage, *state, slot, trust->key_set, kProduct)
                               : core::Result<prov::Manifest>(trust.error());
    if (manifest.ok()) {
        apply_manifest(ctx, *manifest, options);
    } else if (trial) {
        // Without its verified manifest the box cannot know what the image promises: not live.
        std::fprintf(stderr,
                     "strongbox boot confirm: %s stays on probation (%d tries left): cannot read its signed "
                     "manifest: %s\n",
                     prov::slot_name(slot).c_str(), rec.tries_left, manifest.error().message().c_str());
        return kExitFailure;
    } else {
        std::fprintf(stderr, "note: %s; the model and hidden-salt checks are skipped\n",
                     manifest.error().message().c_str());
    }
    const int deadline_s = ctx.args.get_int("deadline-s", 900).value_or(900);
    const prov::CheckOutcome outcome = prov::run_isolated(
        [&] {
            const SelftestReport report = run_selftest(options);
            std::fputs(format_selftest(report).c_str(), stdout);
            std::fflush(stdout);
            return report.passed() ? 0 : 1;
        },
        std::chrono::seconds(deadline_s));
    if (!outcome.passed) {
        std::fprintf(stderr,
                     "strongbox boot confirm: behaviour check failed (%s); %s %s; the next boot counts a try down and "
                     "after %d failed boots the previous good slot boots again\n",
                     outcome.detail.c_str(), prov::slot_name(slot).c_str(),
                     trial ? ("stays on probation with " + std::to_string(rec.tries_left) + " tries left").c_str()
                           : "is not confirmed",
                     prov::kMaxTries);
        return kExitFailure;
    }
    if (!trial) {
        std::printf("%s is already good; nothing to mark\n", prov::slot_name(slot).c_str());
        return kExitOk;
    }
    if (auto st = prov::mark_good(*storage, slot); !st.ok()) {
        return fail("boot confirm", st.error());
    }
    auto after = prov::BootStore(*storage).load();
    const uint64_t floor = after.ok() ? after->security_floor : 0;
    core::Json body = core::Json::object();
    body["action"] = "marked_good";
    body["slot"] = std::string(1, prov::slot_letter(slot));
    body["version"] = rec.version;
    body["security_floor"] = floor;
    if (manifest.ok()) {
        body["salt_fingerprint"] = prov::salt_fingerprint(manifest->salt);
    }
    record_audit(ctx, body);
    std::printf("%s (%s) passed its behaviour check and is marked good; anti-rollback floor now %llu\n",
                prov::slot_name(slot).c_str(), rec.version.c_str(), static_cast<unsigned long long>(floor));
    return kExitOk;
}

std::vector<OptionSpec> selftest_specs(bool confirm) {
    std::vector<OptionSpec> specs = {
        {"slots", "DIR",
         confirm ? "the A/B slots directory (default DATA_DIR/slots); its booted slot's manifest sets the expected "
                   "model, hidden salt and latency"
                 : "an A/B slots directory whose booted slot's manifest sets the expected model, hidden salt and "
                   "latency (read only when given)"},
        {"trusted-keys", "FILE", std::string("trust store (default ") + kDefaultTrustedKeys + ")"},
        {"golden", "FILE", "golden questions (JSON; default the image's share/strongbox/golden.json)"},
        {"latency-ms", "MS", "latency bound per golden question (default: the manifest's promise)"},
        {"model-sha256", "HEX", "expected model hash (default: the manifest's)"},
        {"model", "FILE", "model file (default the image's share/strongbox/model.gguf)"},
        {"prompts", "DIR", "prompt template folder"},
    };
    if (confirm) {
        specs.push_back({"deadline-s", "S", "the check fails when it runs longer (default 900)"});
    } else {
        specs.push_back({"json", "", "print the report as JSON"});
    }
    return specs;
}

}  // namespace

std::vector<Command> image_commands() {
    const OptionSpec slots{"slots", "DIR", "the A/B slots directory (default DATA_DIR/slots)"};
    const OptionSpec trusted{"trusted-keys", "FILE", std::string("trust store (default ") + kDefaultTrustedKeys + ")"};
    return {
        {"image build",
         "[--output FILE] [--binary F] [--model F] [--settings F] [--prompts DIR] [--golden F]",
         "Build the reproducible read-only SquashFS root image",
         {{"output", "FILE", "image to write"},
          {"binary", "FILE", "strongbox binary (default: the release preset build)"},
          {"model", "FILE", "model file to include"},
          {"settings", "FILE", "default settings"},
          {"prompts", "DIR", "prompt templates"},
          {"golden", "FILE", "golden questions"},
          {"tessdata", "FILE", "Tesseract language data"},
          {"script", "FILE", "the build script"}},
         run_image_build},
        {"image keygen",
         "--output FILE",
         "Create an ed25519 release or root key pair (prints the public key)",
         {{"output", "FILE", "key pair file, written with mode 0600"}},
         run_keygen},
        {"image key-set",
         "--root FILE --version N --threshold K --keys HEX,HEX [--revoked HEX,...]",
         "Sign a release key set with the offline root key",
         {{"root", "FILE", "root key pair"},
          {"version", "N", "key set version (must rise with every rotation)"},
          {"threshold", "K", "signatures required"},
          {"keys", "HEX,...", "release public keys"},
          {"revoked", "HEX,...", "revoked public keys"},
          {"output", "FILE", "signed key set (default key-set.json)"}},
         run_key_set},
        {"image trust",
         "--root-key HEX --key-set FILE [--output FILE]",
         "Write the trust store an appliance verifies bundles with",
         {{"root-key", "HEX", "root public key"},
          {"key-set", "FILE", "signed key set"},
          {"output", "FILE", "trust store (default trusted-keys.json)"}},
         run_trust},
        {"image bundle",
         "IMAGE --output FILE --version V --security-version N --key-set-version N --keys F,F",
         "Sign an image into an update bundle, pinning model, prompts, tokenizer, settings and index parameters",
         {{"output", "FILE", "bundle to write"},
          {"version", "V", "display version"},
          {"security-version", "N", "anti-rollback version"},
          {"key-set-version", "N", "key set the signers belong to"},
          {"keys", "FILE,...", "release key pair files"},
          {"model", "FILE", "model file to pin"},
          {"prompts", "DIR", "prompt templates to pin"},
          {"tokenizer", "FILE", "tokenizer to pin"},
          {"settings", "FILE", "default settings to pin"},
          {"index-params", "FILE", "index parameters to pin"},
          {"hardware-class", "NAME", "hardware class of the latency promise"},
          {"golden-latency-ms", "MS", "golden-question latency promise"}},
         run_bundle},
        {"image inspect",
         "BUNDLE [--trusted-keys FILE]",
         "Print a bundle's manifest and hidden salt",
         {trusted},
         run_inspect},
        {"image flash",
         "BUNDLE [--slots DIR] [--trusted-keys FILE]",
         "Verify a bundle and install it into the inactive slot",
         {slots, trusted},
         run_flash},
        {"boot select",
         "[--slots DIR] [--trusted-keys FILE]",
         "Choose the slot to boot (prints a or b), verifying it against its signed head; counts down trial tries",
         {slots, trusted},
         run_boot_select},
        {"boot mark-good",
         "[--slots DIR] [--slot a|b]",
         "Mark the booted slot good after its behaviour check; raises the anti-rollback floor",
         {slots, {"slot", "a|b", "slot to mark (default: the booted one)"}},
         run_mark_good},
        {"boot status", "[--slots DIR]", "Show both slots, the floor and what boots next", {slots}, run_boot_status},
        {"boot confirm", "[--slots DIR] [--trusted-keys FILE] [selftest options]",
         "Run the behaviour check on the booted slot and only if it passes mark it good (raises the floor)",
         selftest_specs(true), run_boot_confirm},
        {"selftest", "[--golden FILE] [--latency-ms MS] [--model-sha256 HEX] [--slots DIR] [--json]",
         "Run the behaviour check on demand and print which checks pass", selftest_specs(false), run_selftest_command},
    };
}

}  // namespace strongbox::appliance
