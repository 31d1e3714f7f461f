#include "log_template.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using namespace strongbox::ingest;

TEST_CASE("variable parts of words are masked and constant words are kept") {
    CHECK(mask_log_word("10.251.73.220:50010") == "<*>");
    CHECK(mask_log_word("blk_-6952295868487656571") == "<*>");
    CHECK(mask_log_word("0x7f3a9c00") == "<*>");
    CHECK(mask_log_word("deadbeefcafe") == "<*>");
    CHECK(mask_log_word("/var/log/nginx/error.log") == "<*>");
    CHECK(mask_log_word("https://box01.local/ask") == "<*>");
    CHECK(mask_log_word("ns.example-host.com") == "<*>");
    CHECK(mask_log_word("[173.234.31.186]") == "[<*>]");
    CHECK(mask_log_word("(uid=0)") == "(uid=<*>)");
    CHECK(mask_log_word("rhost=218.188.2.4") == "rhost=<*>");
    CHECK(mask_log_word("core.2275") == "core.<*>");
    CHECK(mask_log_word("instruction......0") == "instruction......<*>");
    CHECK(mask_log_word("()") == "(<*>)");
    CHECK(mask_log_word("KB") == "<*>");
    CHECK(mask_log_word("Jul") == "<*>");
    CHECK(mask_log_word("logname=") == "logname=");
    CHECK(mask_log_word("[preauth]") == "[preauth]");
    CHECK(mask_log_word("session") == "session");
    CHECK(mask_log_word("failures;") == "failures;");
}

TEST_CASE("messages that differ only in variables share one template and yield their parameters") {
    TemplateMiner miner;
    size_t a = miner.add("Accepted password for root from 10.0.0.7 port 52144 ssh2");
    size_t b = miner.add("Received disconnect from 10.0.0.9: 11: Bye Bye [preauth]");
    size_t c = miner.add("Accepted password for root from 192.168.1.20 port 6022 ssh2");
    miner.finish();
    CHECK(miner.group_count() == 2);
    CHECK(miner.group_of(a) == 0);
    CHECK(miner.group_of(b) == 1);
    CHECK(miner.group_of(c) == miner.group_of(a));
    CHECK(miner.group_size(0) == 2);
    CHECK(miner.template_text(0) == "Accepted password for root from <*> port <*> <*>");
    CHECK(miner.parameters(0, "Accepted password for root from 192.168.1.20 port 6022 ssh2") ==
          std::vector<std::string>{"192.168.1.20", "6022", "ssh2"});
    CHECK(miner.template_text(1) == "Received disconnect from <*>: <*>: Bye Bye [preauth]");
    CHECK(miner.parameters(1, "Received disconnect from 10.0.0.9: 11: Bye Bye [preauth]") ==
          std::vector<std::string>{"10.0.0.9", "11"});
}

TEST_CASE("a word with a few values stays constant while one with many values becomes a parameter") {
    TemplateMiner miner;
    std::vector<size_t> users;
    for (const char * user : {"root", "alice", "bob", "carol", "dave"}) {
        users.push_back(miner.add(std::string("session opened for user ") + user + " by (uid=0)"));
    }
    size_t root = miner.add("Too many authentication failures for root");
    size_t admin = miner.add("Too many authentication failures for admin");
    size_t singular = miner.add("Too many authentication failure for root");
    miner.finish();
    for (size_t m : users) {
        CHECK(miner.group_of(m) == miner.group_of(users.front()));
    }
    CHECK(miner.template_text(miner.group_of(users.front())) == "session opened for user <*> by (uid=<*>)");
    CHECK(miner.parameters(miner.group_of(users.front()), "session opened for user carol by (uid=0)") ==
          std::vector<std::string>{"carol", "0"});
    // Two values are two statements (as loghub's ground truth has them), not a parameter.
    CHECK(miner.group_of(root) != miner.group_of(admin));
    CHECK(miner.group_of(root) != miner.group_of(singular));
    CHECK(miner.template_text(miner.group_of(admin)) == "Too many authentication failures for admin");
}

TEST_CASE("lists of different lengths collapse into one parameter") {
    TemplateMiner miner;
    size_t one = miner.add("BLOCK* ask 10.0.0.1:50010 to delete blk_1");
    size_t three = miner.add("BLOCK* ask 10.0.0.2:50010 to delete blk_2 blk_3 blk_4");
    miner.finish();
    CHECK(miner.group_of(one) == miner.group_of(three));
    CHECK(miner.template_text(miner.group_of(one)) == "BLOCK* ask <*> to delete <*>");
    CHECK(miner.parameters(miner.group_of(one), "BLOCK* ask 10.0.0.2:50010 to delete blk_2 blk_3 blk_4") ==
          std::vector<std::string>{"10.0.0.2:50010", "blk_2 blk_3 blk_4"});
}

TEST_CASE("a very long message is mined on its first words and its tail is one parameter") {
    TemplateMinerOptions options;
    options.max_words = 4;
    TemplateMiner miner(options);
    size_t a = miner.add("dump follows: alpha beta gamma delta");
    size_t b = miner.add("dump follows: omega");
    miner.finish();
    CHECK(miner.template_text(miner.group_of(a)) == "dump follows: alpha <*>");
    CHECK(miner.parameters(miner.group_of(a), "dump follows: alpha beta gamma delta") ==
          std::vector<std::string>{"beta gamma delta"});
    CHECK(miner.group_of(a) != miner.group_of(b));
}

TEST_CASE("empty messages share the empty template") {
    TemplateMiner miner;
    size_t a = miner.add("");
    size_t b = miner.add("   ");
    miner.finish();
    CHECK(miner.group_of(a) == miner.group_of(b));
    CHECK(miner.template_text(miner.group_of(a)).empty());
    CHECK(miner.parameters(miner.group_of(a), "").empty());
}

TEST_CASE("a word whose values become a parameter keeps its key and brackets in the template") {
    TemplateMiner miner;
    size_t ip = miner.add("auth failure rhost=10.0.0.1");
    size_t host = miner.add("auth failure rhost=zummit.com");
    size_t home = miner.add("LOGIN chdir(/home/u1) failed");
    size_t pwd = miner.add("LOGIN chdir(pwd) failed");
    miner.finish();
    REQUIRE(miner.group_of(ip) == miner.group_of(host));
    CHECK(miner.template_text(miner.group_of(ip)) == "auth failure rhost=<*>");
    CHECK(miner.parameters(miner.group_of(ip), "auth failure rhost=zummit.com") ==
          std::vector<std::string>{"zummit.com"});
    REQUIRE(miner.group_of(home) == miner.group_of(pwd));
    CHECK(miner.template_text(miner.group_of(home)) == "LOGIN chdir(<*>) failed");
    CHECK(miner.parameters(miner.group_of(home), "LOGIN chdir(pwd) failed") == std::vector<std::string>{"pwd"});
}
