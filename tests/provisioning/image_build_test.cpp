// Smoke test of provisioning/scripts/build-image.sh: two builds from the same inputs give the
// same bytes. Skipped, with a message, where mksquashfs is not installed.

#include "strongbox/core/file.h"
#include "strongbox/core/hash.h"

#include <doctest/doctest.h>

#include <cstdlib>
#include <filesystem>

#include <unistd.h>

namespace fs = std::filesystem;

namespace {

bool have_tool(const char * name) {
    return std::system((std::string("command -v ") + name + " > /dev/null 2>&1").c_str()) == 0;
}

}  // namespace

TEST_CASE("building the image twice from the same inputs gives identical bytes") {
    if (!have_tool("mksquashfs") || !have_tool("unsquashfs")) {
        MESSAGE("skipped: mksquashfs/unsquashfs not installed (Debian package squashfs-tools)");
        return;
    }
    std::string templ = (fs::temp_directory_path() / "sb-image-XXXXXX").string();
    REQUIRE(::mkdtemp(templ.data()) != nullptr);
    const fs::path dir = templ;
    const fs::path script = fs::path(SB_TEST_DATA_DIR) / ".." / ".." / "provisioning" / "scripts" / "build-image.sh";
    REQUIRE(strongbox::core::write_file_atomic(dir / "settings.json", "{\"top_k\":5}").ok());
    REQUIRE(strongbox::core::write_file_atomic(dir / "golden.json", "[]").ok());
    REQUIRE(strongbox::core::write_file_atomic(dir / "eng.traineddata", "small stand-in language data").ok());
    // Small real executables with real shared libraries stand in for the release binary and worker.
    const std::string common = "bash '" + script.string() + "' --binary /bin/true --worker /bin/false --settings '" +
                               (dir / "settings.json").string() + "' --golden '" + (dir / "golden.json").string() +
                               "' --tessdata '" + (dir / "eng.traineddata").string() + "'";
    REQUIRE(std::system((common + " --output '" + (dir / "one.img").string() + "' > /dev/null").c_str()) == 0);
    // Different file times and umask must not change the output.
    REQUIRE(std::system(("touch -d @123456789 '" + (dir / "settings.json").string() + "'").c_str()) == 0);
    REQUIRE(std::system(
                ("umask 0077 && " + common + " --output '" + (dir / "two.img").string() + "' > /dev/null").c_str()) ==
            0);
    auto one = strongbox::core::sha256_file_hex(dir / "one.img");
    auto two = strongbox::core::sha256_file_hex(dir / "two.img");
    REQUIRE(one.ok());
    REQUIRE(two.ok());
    CHECK(*one == *two);
    const std::string listing = (dir / "listing.txt").string();
    REQUIRE(std::system(("unsquashfs -l '" + (dir / "one.img").string() + "' > '" + listing + "'").c_str()) == 0);
    auto text = strongbox::core::read_file(listing);
    REQUIRE(text.ok());
    CHECK(text->find("usr/bin/strongbox") != std::string::npos);
    CHECK(text->find("usr/bin/strongbox-extract") != std::string::npos);
    CHECK(text->find("etc/strongbox/settings.json") != std::string::npos);
    CHECK(text->find("usr/share/strongbox/golden.json") != std::string::npos);
    CHECK(text->find("libc.so.6") != std::string::npos);
    CHECK(text->find("var/lib/strongbox") != std::string::npos);
    fs::remove_all(dir);
}
