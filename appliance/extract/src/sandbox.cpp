#include "sandbox.h"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <vector>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace strongbox::appliance {
namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kSeccomp = false;
#else
constexpr bool kSeccomp = true;
#endif

// Landlock's kernel ABI, spelled here rather than taken from <linux/landlock.h>, whose version
// follows the build machine's kernel headers; the values are fixed by the kernel.
struct RulesetAttr {
    uint64_t handled_access_fs;
};
struct PathBeneathAttr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));
constexpr uint32_t kRulesetVersion = 1U << 0;
constexpr int kRulePathBeneath = 1;
constexpr uint64_t kExecute = 1ULL << 0;
constexpr uint64_t kWriteFile = 1ULL << 1;
constexpr uint64_t kReadFile = 1ULL << 2;
constexpr uint64_t kReadDir = 1ULL << 3;

// Every file-system right the kernel's ABI knows: ABI 1 has 13, 2 adds refer, 3 truncate, 5 ioctl
// on devices. Handled rights are denied unless a rule grants them.
uint64_t handled_rights(int abi) {
    const int bits = abi >= 5 ? 16 : abi >= 3 ? 15 : abi >= 2 ? 14 : 13;
    return (1ULL << bits) - 1;
}

std::string errno_text(const char * what) {
    return std::string(what) + ": " + std::strerror(errno) + "; ";
}

bool add_rule(int ruleset, const char * path, uint64_t rights) {
    const int fd = ::open(path, O_PATH | O_CLOEXEC);
    if (fd < 0) {
        return errno == ENOENT;  // a tree this system does not have needs no rule
    }
    struct stat st {};
    if (::fstat(fd, &st) == 0 && !S_ISDIR(st.st_mode)) {
        rights &= kExecute | kWriteFile | kReadFile;  // a file takes only a file's rights
    }
    PathBeneathAttr rule{rights, fd};
    const bool added = ::syscall(SYS_landlock_add_rule, ruleset, kRulePathBeneath, &rule, 0) == 0;
    ::close(fd);
    return added;
}

int apply_landlock(const std::string & input, const std::string & scratch, std::string & skipped) {
    const long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, kRulesetVersion);
    if (abi < 1) {
        skipped += errno_text("landlock");
        return 0;
    }
    RulesetAttr attr{handled_rights(static_cast<int>(abi))};
    const int ruleset = static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0));
    if (ruleset < 0) {
        skipped += errno_text("landlock ruleset");
        return 0;
    }
    const uint64_t read_tree = kReadFile | kReadDir | kExecute;
    // Libraries, fonts, Poppler's and Tesseract's data, locales, the CPU count OpenMP reads.
    static const char * const kSystemTrees[] = {
        "/usr",          "/etc",
        "/lib",          "/lib64",
        "/bin",          "/sbin",
        "/opt",          "/var/cache/fontconfig",
        "/proc/self",    "/proc/cpuinfo",
        "/proc/meminfo", "/proc/stat",
        "/proc/sys",     "/sys/devices/system/cpu",
    };
    bool ok = true;
    for (const char * tree : kSystemTrees) {
        ok = ok && add_rule(ruleset, tree, read_tree);
    }
    if (const char * tessdata = std::getenv("TESSDATA_PREFIX"); tessdata != nullptr && *tessdata == '/') {
        ok = ok && add_rule(ruleset, tessdata, read_tree);
    }
    ok = ok && add_rule(ruleset, "/dev", kReadFile | kWriteFile | kReadDir);
    if (!input.empty()) {
        ok = ok && add_rule(ruleset, input.c_str(), kReadFile);
    }
    if (!scratch.empty()) {
        ok = ok && add_rule(ruleset, scratch.c_str(), attr.handled_access_fs);
    }
    const bool restricted = ok && ::syscall(SYS_landlock_restrict_self, ruleset, 0) == 0;
    if (!restricted) {
        skipped += errno_text("landlock rules");
    }
    ::close(ruleset);
    return restricted ? static_cast<int>(abi) : 0;
}

#if defined(__x86_64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr uint32_t kAuditArch = AUDIT_ARCH_AARCH64;
#else
constexpr uint32_t kAuditArch = 0;
#endif

bool apply_seccomp(std::string & skipped) {
    if (kAuditArch == 0) {
        skipped += "seccomp: unknown architecture; ";
        return false;
    }
    // What a parser never needs: the network, other programs, other processes' memory, and the
    // kernel's administrative interfaces.
    static const long kDenied[] = {
        __NR_socket,
        __NR_socketpair,
        __NR_connect,
        __NR_bind,
        __NR_listen,
        __NR_accept,
        __NR_accept4,
        __NR_execve,
        __NR_execveat,
        __NR_ptrace,
        __NR_process_vm_readv,
        __NR_process_vm_writev,
        __NR_mount,
        __NR_umount2,
        __NR_pivot_root,
        __NR_chroot,
        __NR_unshare,
        __NR_setns,
        __NR_kexec_load,
        __NR_init_module,
        __NR_finit_module,
        __NR_delete_module,
        __NR_bpf,
        __NR_perf_event_open,
        __NR_keyctl,
        __NR_add_key,
        __NR_request_key,
        __NR_userfaultfd,
        __NR_io_uring_setup,
        __NR_io_uring_enter,
        __NR_io_uring_register,
        __NR_open_by_handle_at,
#ifdef __NR_fork
        __NR_fork,
#endif
#ifdef __NR_vfork
        __NR_vfork,
#endif
    };
    constexpr uint32_t kDeny = SECCOMP_RET_ERRNO | (EPERM & SECCOMP_RET_DATA);
    std::vector<sock_filter> program = {
        // Calls made through another ABI (i386's int 0x80, x32) are refused whole: the numbers
        // below are this architecture's.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kAuditArch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, kDeny),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
#if defined(__x86_64__)
        BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000U, 0, 1),  // __X32_SYSCALL_BIT
        BPF_STMT(BPF_RET | BPF_K, kDeny),
#endif
        // clone3's flags are in memory a filter cannot read: "not implemented" makes the C
        // library fall back to clone, whose flags it can.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
        // clone: threads (CLONE_THREAD) only, never a new process.
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_clone, 0, 4),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_THREAD, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, kDeny),
    };
    for (long nr : kDenied) {
        program.push_back(BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, static_cast<uint32_t>(nr), 0, 1));
        program.push_back(BPF_STMT(BPF_RET | BPF_K, kDeny));
    }
    program.push_back(BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW));
    sock_fprog fprog{static_cast<unsigned short>(program.size()), program.data()};
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) != 0) {
        skipped += errno_text("seccomp");
        return false;
    }
    return true;
}

}  // namespace

SandboxReport enter_sandbox(const std::string & input, const std::string & scratch) {
    SandboxReport report;
    report.no_new_privs = ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0;
    if (!report.no_new_privs) {
        report.skipped += errno_text("no_new_privs");
    }
    report.network_namespace = ::unshare(CLONE_NEWNET) == 0 || ::unshare(CLONE_NEWUSER | CLONE_NEWNET) == 0;
    if (!report.network_namespace) {
        report.skipped += errno_text("network namespace");
    }
    report.landlock_abi = apply_landlock(input, scratch, report.skipped);
    report.seccomp = kSeccomp && apply_seccomp(report.skipped);
    if (!kSeccomp) {
        report.skipped += "seccomp: off in sanitizer builds; ";
    }
    return report;
}

}  // namespace strongbox::appliance
