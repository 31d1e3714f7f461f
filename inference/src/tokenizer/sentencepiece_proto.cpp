#include "tokenizer/sentencepiece_proto.h"

#include <cstring>
#include <optional>

namespace strongbox::inference::tokenization {

namespace {

enum WireType : uint32_t { kVarint = 0, kFixed64 = 1, kLengthDelimited = 2, kFixed32 = 5 };

constexpr int32_t kModelTypeBpe = 2;

// A protobuf field: its number, wire type and either the varint / fixed value or the payload.
struct Field {
    uint32_t number = 0;
    uint32_t wire = 0;
    uint64_t value = 0;
    std::string_view payload;
};

class Reader {
  public:
    explicit Reader(std::string_view bytes) : bytes_(bytes) {}

    bool done() const { return pos_ >= bytes_.size(); }
    size_t position() const { return pos_; }

    // nullopt on truncated or malformed input.
    std::optional<Field> next() {
        Field f;
        auto key = varint();
        if (!key) {
            return std::nullopt;
        }
        f.number = static_cast<uint32_t>(*key >> 3);
        f.wire = static_cast<uint32_t>(*key & 7);
        switch (f.wire) {
        case kVarint: {
            auto v = varint();
            if (!v) {
                return std::nullopt;
            }
            f.value = *v;
            return f;
        }
        case kFixed64:
        case kFixed32: {
            const size_t n = f.wire == kFixed64 ? 8 : 4;
            if (bytes_.size() - pos_ < n) {
                return std::nullopt;
            }
            for (size_t i = 0; i < n; ++i) {
                f.value |= static_cast<uint64_t>(static_cast<unsigned char>(bytes_[pos_ + i])) << (8 * i);
            }
            pos_ += n;
            return f;
        }
        case kLengthDelimited: {
            auto len = varint();
            if (!len || *len > bytes_.size() - pos_) {
                return std::nullopt;
            }
            f.payload = bytes_.substr(pos_, *len);
            pos_ += *len;
            return f;
        }
        default:
            return std::nullopt;  // groups (3, 4) are not used by ModelProto
        }
    }

  private:
    std::optional<uint64_t> varint() {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= bytes_.size()) {
                return std::nullopt;
            }
            const auto c = static_cast<unsigned char>(bytes_[pos_++]);
            v |= static_cast<uint64_t>(c & 0x7F) << shift;
            if ((c & 0x80) == 0) {
                return v;
            }
        }
        return std::nullopt;
    }

    std::string_view bytes_;
    size_t pos_ = 0;
};

class Writer {
  public:
    void varint_field(uint32_t number, uint64_t v) {
        key(number, kVarint);
        varint(v);
    }
    // int32 fields are sign-extended to 64 bits on the wire, as protobuf does.
    void int32_field(uint32_t number, int32_t v) {
        varint_field(number, static_cast<uint64_t>(static_cast<int64_t>(v)));
    }
    void float_field(uint32_t number, float v) {
        key(number, kFixed32);
        uint32_t bits = 0;
        std::memcpy(&bits, &v, sizeof bits);
        for (int i = 0; i < 4; ++i) {
            out_.push_back(static_cast<char>((bits >> (8 * i)) & 0xFF));
        }
    }
    void bytes_field(uint32_t number, std::string_view payload) {
        key(number, kLengthDelimited);
        varint(payload.size());
        out_.append(payload);
    }
    const std::string & bytes() const { return out_; }

  private:
    void key(uint32_t number, uint32_t wire) { varint((static_cast<uint64_t>(number) << 3) | wire); }
    void varint(uint64_t v) {
        while (v >= 0x80) {
            out_.push_back(static_cast<char>((v & 0x7F) | 0x80));
            v >>= 7;
        }
        out_.push_back(static_cast<char>(v));
    }

    std::string out_;
};

core::Error malformed(std::string_view name, std::string_view what, size_t offset) {
    return core::Error(core::ErrorCode::kCorruptInput, std::string(name) + ": malformed SentencePiece model: " +
                                                           std::string(what) + " near byte " + std::to_string(offset));
}

float as_float(uint64_t bits64) {
    const auto bits = static_cast<uint32_t>(bits64);
    float f = 0;
    std::memcpy(&f, &bits, sizeof f);
    return f;
}

}  // namespace

core::Result<SentencePieceModel> parse_sentencepiece_model(std::string_view bytes, std::string_view name) {
    SentencePieceModel model;
    Reader top(bytes);
    while (!top.done()) {
        const size_t at = top.position();
        auto field = top.next();
        if (!field) {
            return malformed(name, "truncated field", at);
        }
        if (field->number == 1 && field->wire == kLengthDelimited) {
            std::string piece;
            float score = 0;
            int32_t type = 1;
            Reader r(field->payload);
            while (!r.done()) {
                auto f = r.next();
                if (!f) {
                    return malformed(name, "truncated piece", at);
                }
                if (f->number == 1 && f->wire == kLengthDelimited) {
                    piece = std::string(f->payload);
                } else if (f->number == 2 && f->wire == kFixed32) {
                    score = as_float(f->value);
                } else if (f->number == 3 && f->wire == kVarint) {
                    type = static_cast<int32_t>(f->value);
                }
            }
            model.pieces.push_back(std::move(piece));
            model.scores.push_back(score);
            model.types.push_back(type);
        } else if ((field->number == 2 || field->number == 3) && field->wire == kLengthDelimited) {
            const bool trainer = field->number == 2;
            Reader r(field->payload);
            while (!r.done()) {
                auto f = r.next();
                if (!f) {
                    return malformed(name, trainer ? "truncated trainer spec" : "truncated normalizer spec", at);
                }
                if (!trainer && f->number == 1 && f->wire == kLengthDelimited) {
                    model.normalizer_name = std::string(f->payload);
                }
                if (f->wire != kVarint) {
                    continue;
                }
                const auto v32 = static_cast<int32_t>(static_cast<int64_t>(f->value));
                if (trainer) {
                    switch (f->number) {
                    case 24:
                        model.treat_whitespace_as_suffix = f->value != 0;
                        break;
                    case 35:
                        model.byte_fallback = f->value != 0;
                        break;
                    case 40:
                        model.unk_id = v32;
                        break;
                    case 41:
                        model.bos_id = v32;
                        break;
                    case 42:
                        model.eos_id = v32;
                        break;
                    case 43:
                        model.pad_id = v32;
                        break;
                    default:
                        break;
                    }
                } else if (f->number == 3) {
                    model.add_dummy_prefix = f->value != 0;
                } else if (f->number == 4) {
                    model.remove_extra_whitespaces = f->value != 0;
                }
            }
        }
    }
    if (model.pieces.empty()) {
        return core::Error(core::ErrorCode::kCorruptInput,
                           std::string(name) + ": not a SentencePiece model (no pieces)");
    }
    return model;
}

std::string sentencepiece_no_dummy_prefix_suffix() {
    Writer normalizer;
    normalizer.varint_field(3, 0);
    Writer out;
    out.bytes_field(3, normalizer.bytes());
    return out.bytes();
}

std::string serialize_sentencepiece_bpe_model(const SentencePieceModel & model) {
    Writer out;
    for (size_t i = 0; i < model.pieces.size(); ++i) {
        Writer piece;
        piece.bytes_field(1, model.pieces[i]);
        piece.float_field(2, i < model.scores.size() ? model.scores[i] : 0.0f);
        piece.varint_field(3, static_cast<uint64_t>(i < model.types.size() ? model.types[i] : 1));
        out.bytes_field(1, piece.bytes());
    }
    Writer trainer;
    trainer.varint_field(3, kModelTypeBpe);
    trainer.int32_field(4, static_cast<int32_t>(model.pieces.size()));
    trainer.varint_field(35, model.byte_fallback ? 1 : 0);
    trainer.int32_field(40, model.unk_id);
    trainer.int32_field(41, model.bos_id);
    trainer.int32_field(42, model.eos_id);
    trainer.int32_field(43, model.pad_id);
    out.bytes_field(2, trainer.bytes());
    Writer normalizer;
    normalizer.bytes_field(1, "identity");
    normalizer.varint_field(3, model.add_dummy_prefix ? 1 : 0);
    normalizer.varint_field(4, 0);  // remove_extra_whitespaces: llama keeps every space
    normalizer.varint_field(5, 1);  // escape_whitespaces: ' ' -> "▁"
    out.bytes_field(3, normalizer.bytes());
    return out.bytes();
}

}  // namespace strongbox::inference::tokenization
