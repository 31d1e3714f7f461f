#include "archive.h"

#include <algorithm>
#include <cstring>
#include <set>

namespace strongbox::appliance {
namespace {

constexpr size_t kBlock = 512;
constexpr size_t kNameLen = 100;

// Field offsets and widths of the ustar header (POSIX.1-1988).
constexpr size_t kModeOff = 100;
constexpr size_t kUidOff = 108;
constexpr size_t kGidOff = 116;
constexpr size_t kSizeOff = 124;
constexpr size_t kSizeLen = 12;
constexpr size_t kMtimeOff = 136;
constexpr size_t kChecksumOff = 148;
constexpr size_t kChecksumLen = 8;
constexpr size_t kTypeOff = 156;
constexpr size_t kMagicOff = 257;
constexpr size_t kUnameOff = 265;
constexpr size_t kGnameOff = 297;

void put_octal(char * field, size_t width, uint64_t value) {
    // width-1 octal digits, zero padded, then NUL.
    std::string digits(width - 1, '0');
    for (size_t i = width - 1; i-- > 0 && value > 0;) {
        digits[i] = static_cast<char>('0' + (value & 7));
        value >>= 3;
    }
    std::memcpy(field, digits.data(), width - 1);
    field[width - 1] = '\0';
}

uint32_t header_checksum(const char * header) {
    uint32_t sum = 0;
    for (size_t i = 0; i < kBlock; ++i) {
        const bool in_field = i >= kChecksumOff && i < kChecksumOff + kChecksumLen;
        sum += in_field ? static_cast<uint32_t>(' ') : static_cast<uint8_t>(header[i]);
    }
    return sum;
}

// Parses an octal field terminated by NUL or space; false on anything else.
bool get_octal(const char * field, size_t width, uint64_t & out) {
    out = 0;
    size_t i = 0;
    while (i < width && field[i] == ' ') {
        ++i;
    }
    bool any = false;
    for (; i < width && field[i] >= '0' && field[i] <= '7'; ++i) {
        out = (out << 3) | static_cast<uint64_t>(field[i] - '0');
        any = true;
    }
    for (; i < width; ++i) {
        if (field[i] != '\0' && field[i] != ' ') {
            return false;
        }
    }
    return any;
}

bool all_zero(std::string_view bytes) {
    return std::all_of(bytes.begin(), bytes.end(), [](char c) { return c == '\0'; });
}

bool plain_name(std::string_view name) {
    return !name.empty() && name.size() < kNameLen && name.find('/') == std::string_view::npos && name != "." &&
           name != "..";
}

// The one header write_archive() writes for a member; read_archive() accepts no other.
void fill_header(char * header, std::string_view name, uint64_t size, uint64_t mtime) {
    std::memset(header, 0, kBlock);
    std::memcpy(header, name.data(), name.size());
    put_octal(header + kModeOff, 8, 0644);
    put_octal(header + kUidOff, 8, 0);
    put_octal(header + kGidOff, 8, 0);
    put_octal(header + kSizeOff, kSizeLen, size);
    put_octal(header + kMtimeOff, 12, mtime);
    header[kTypeOff] = '0';
    std::memcpy(header + kMagicOff,
                "ustar\0"
                "00",
                8);
    std::memcpy(header + kUnameOff, "strongbox", 9);
    std::memcpy(header + kGnameOff, "strongbox", 9);
    put_octal(header + kChecksumOff, 7, header_checksum(header));
    header[kChecksumOff + 7] = ' ';
}

core::Error corrupt(size_t offset, const std::string & what) {
    return core::Error(core::ErrorCode::kCorruptInput,
                       "bundle container at byte " + std::to_string(offset) + ": " + what);
}

}  // namespace

std::string write_archive(const std::vector<ArchiveMember> & members, int64_t mtime) {
    std::string out;
    for (const ArchiveMember & m : members) {
        SB_CHECK(plain_name(m.name));
        char header[kBlock];
        fill_header(header, m.name, m.bytes.size(), static_cast<uint64_t>(std::max<int64_t>(mtime, 0)));
        out.append(header, kBlock);
        out += m.bytes;
        out.append((kBlock - m.bytes.size() % kBlock) % kBlock, '\0');
    }
    out.append(2 * kBlock, '\0');  // end-of-archive marker
    return out;
}

core::Result<std::vector<ArchiveMember>> read_archive(std::string_view bytes) {
    std::vector<ArchiveMember> members;
    std::set<std::string> seen;
    size_t pos = 0;
    while (true) {
        if (bytes.size() - pos < kBlock) {
            return corrupt(pos, "the file ends inside a header or before the end-of-archive marker (truncated)");
        }
        const std::string_view header = bytes.substr(pos, kBlock);
        if (all_zero(header)) {
            if (bytes.size() - pos < 2 * kBlock || !all_zero(bytes.substr(pos + kBlock, kBlock))) {
                return corrupt(pos, "incomplete end-of-archive marker (truncated)");
            }
            // tar tools may pad the archive with zero blocks; anything else after the marker was added later.
            const std::string_view rest = bytes.substr(pos + 2 * kBlock);
            if (!all_zero(rest)) {
                const size_t at =
                    pos + 2 * kBlock +
                    static_cast<size_t>(std::find_if(rest.begin(), rest.end(), [](char c) { return c != '\0'; }) -
                                        rest.begin());
                return corrupt(at, "data after the end-of-archive marker (bytes were appended)");
            }
            return members;
        }
        uint64_t stored_sum = 0;
        if (!get_octal(header.data() + kChecksumOff, kChecksumLen, stored_sum) ||
            stored_sum != header_checksum(header.data())) {
            return corrupt(pos, "member header checksum does not match (damaged header)");
        }
        if (header.substr(kMagicOff, 5) != "ustar") {
            return corrupt(pos, "not a ustar header");
        }
        const std::string name(header.data(), strnlen(header.data(), kNameLen));
        if (!plain_name(name) || header[kMagicOff + 88] != '\0') {  // prefix field (offset 345) must be empty
            return corrupt(pos, "member name '" + name + "' is not a plain file name");
        }
        if (header[kTypeOff] != '0' && header[kTypeOff] != '\0') {
            return corrupt(pos, "member '" + name + "' is not a regular file");
        }
        uint64_t size = 0;
        if (!get_octal(header.data() + kSizeOff, kSizeLen, size)) {
            return corrupt(pos, "member '" + name + "' has an unreadable size field");
        }
        // The checksum alone lets two edits that cancel out pass (a byte moved from the mode field
        // into the name's padding), so every header byte must be the one Strongbox writes.
        uint64_t mtime = 0;
        if (!get_octal(header.data() + kMtimeOff, 12, mtime)) {
            return corrupt(pos, "member '" + name + "' has an unreadable modification time");
        }
        char expected[kBlock];
        fill_header(expected, name, size, mtime);
        if (std::memcmp(expected, header.data(), kBlock) != 0) {
            return corrupt(pos, "member '" + name + "' has a header Strongbox does not write (edited header)");
        }
        pos += kBlock;
        const uint64_t padded = (size + kBlock - 1) / kBlock * kBlock;
        if (bytes.size() - pos < padded) {
            return corrupt(pos, "member '" + name + "' declares " + std::to_string(size) + " bytes but only " +
                                    std::to_string(bytes.size() - pos) + " remain (truncated)");
        }
        if (!seen.insert(name).second) {
            return corrupt(pos - kBlock, "member '" + name + "' appears twice");
        }
        if (!all_zero(bytes.substr(pos + size, padded - size))) {
            return corrupt(pos + size, "the padding after member '" + name + "' is not zero (bytes were changed)");
        }
        members.push_back({name, std::string(bytes.substr(pos, size))});
        pos += padded;
    }
}

}  // namespace strongbox::appliance
