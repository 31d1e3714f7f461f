// The extraction worker's confinement (strongbox-extract only). Applied after the request is read
// and before any parser runs, in this order:
//   1. PR_SET_NO_NEW_PRIVS: nothing it executes or maps can gain privileges;
//   2. a new network namespace with no interfaces (directly as root, else inside a new user
//      namespace where the kernel allows one);
//   3. Landlock (Linux 5.13+): the file system shows only the input file (read), a scratch
//      directory the daemon made for this request (read and write), the read-only system trees
//      parsers load libraries, fonts and language data from, the worker's own /proc entries and
//      /dev; the data directory (audit key, accounts, slots) and every other file are out of
//      reach, whatever their modes. Landlock also keeps it from ptracing or reading the
//      memory of processes outside its domain (the daemon);
//   4. seccomp: no sockets, no new processes (threads only), no exec, ptrace, mounts, namespaces,
//      kernel keyrings, BPF, io_uring or module loading. It refuses those calls (EPERM) and lets
//      every other call through: a deny-list of what a parser never needs, not an allow-list.
// Each layer the kernel lacks is skipped and reported, never fatal: rlimits still bound the worker.
// Sanitizer builds skip seccomp, whose process rules break the sanitizers' own machinery.
#pragma once

#include <string>

namespace strongbox::appliance {

struct SandboxReport {
    bool no_new_privs = false;
    bool network_namespace = false;
    int landlock_abi = 0;  // 0: not applied
    bool seccomp = false;
    std::string skipped;  // why layers were skipped, for the worker's log
};

// Confines the calling process for good; `input` (empty: none) is the one file it may read
// outside the system trees, `scratch` (empty: none) the one directory it may write in.
SandboxReport enter_sandbox(const std::string & input, const std::string & scratch);

}  // namespace strongbox::appliance
