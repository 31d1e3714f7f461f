/* I/O fault injector for Strongbox's crash and disk-full tests, loaded with LD_PRELOAD into the
 * real `strongbox` binary. For files under one directory it makes write, pwrite, writev, fsync,
 * fdatasync, ftruncate and fallocate fail with ENOSPC or EIO once a byte or call budget is spent,
 * the way a filling disk or a dying one would. The file behind each descriptor is read from
 * /proc/self/fd, so the program under test needs no change and cannot tell.
 *
 * Environment (nothing set but SB_FAULT_DIR: every matching call fails):
 *   SB_FAULT_DIR          files at or under this directory are candidates (required; unset = inert)
 *   SB_FAULT_ERRNO        ENOSPC (default), EIO or EDQUOT
 *   SB_FAULT_AFTER_BYTES  bytes the process may write to candidates before writes fail
 *   SB_FAULT_AFTER_CALLS  candidate calls that succeed before calls fail
 *   SB_FAULT_OPS          comma list of write,pwrite,writev,fsync,fdatasync,ftruncate,fallocate
 *                         (default all)
 *   SB_FAULT_MATCH        colon list of substrings; a candidate's path must hold one
 *   SB_FAULT_SWITCH       a file: faults are injected only while it exists (tests toggle the
 *                         "disk" full and back without restarting the process)
 *   SB_FAULT_LOG          a file outside SB_FAULT_DIR; one line "<op> <errno name> <path>" per
 *                         injected fault, so a driver can count them
 *
 * Budgets are per process. Calls on other files, and reads, pass through untouched. Partial
 * writes are not simulated: a write that would cross the byte budget fails whole, as most file
 * systems do when they cannot allocate a block. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
    OP_WRITE = 1,
    OP_PWRITE = 2,
    OP_WRITEV = 4,
    OP_FSYNC = 8,
    OP_FDATASYNC = 16,
    OP_FTRUNCATE = 32,
    OP_FALLOCATE = 64,
};

static struct {
    int ready;
    char dir[PATH_MAX];
    size_t dir_len;
    int err;
    long long after_bytes; /* -1: no byte budget */
    long long after_calls; /* -1: no call budget */
    int ops;
    char match[1024];
    char switch_file[PATH_MAX];
    int log_fd;
} cfg;

static atomic_llong bytes_done;
static atomic_llong calls_done;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_pwrite)(int, const void *, size_t, off_t);
static ssize_t (*real_pwrite64)(int, const void *, size_t, off64_t);
static ssize_t (*real_writev)(int, const struct iovec *, int);
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);
static int (*real_ftruncate)(int, off_t);
static int (*real_ftruncate64)(int, off64_t);
static int (*real_fallocate)(int, int, off_t, off_t);
static int (*real_fallocate64)(int, int, off64_t, off64_t);
static int (*real_posix_fallocate)(int, off_t, off_t);
static int (*real_posix_fallocate64)(int, off64_t, off64_t);

static const char * errno_name(int e) {
    return e == ENOSPC ? "ENOSPC" : e == EIO ? "EIO" : e == EDQUOT ? "EDQUOT" : "E?";
}

static int parse_ops(const char * s) {
    static const struct {
        const char * name;
        int bit;
    } names[] = {{"write", OP_WRITE},        {"pwrite", OP_PWRITE},       {"writev", OP_WRITEV},
                 {"fsync", OP_FSYNC},        {"fdatasync", OP_FDATASYNC}, {"ftruncate", OP_FTRUNCATE},
                 {"fallocate", OP_FALLOCATE}};
    int ops = 0;
    char buf[256];
    snprintf(buf, sizeof(buf), "%s", s);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save)) {
        for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); ++i) {
            if (strcmp(tok, names[i].name) == 0) {
                ops |= names[i].bit;
            }
        }
    }
    return ops;
}

static void init(void) {
    real_write = dlsym(RTLD_NEXT, "write");
    real_pwrite = dlsym(RTLD_NEXT, "pwrite");
    real_pwrite64 = dlsym(RTLD_NEXT, "pwrite64");
    real_writev = dlsym(RTLD_NEXT, "writev");
    real_fsync = dlsym(RTLD_NEXT, "fsync");
    real_fdatasync = dlsym(RTLD_NEXT, "fdatasync");
    real_ftruncate = dlsym(RTLD_NEXT, "ftruncate");
    real_ftruncate64 = dlsym(RTLD_NEXT, "ftruncate64");
    real_fallocate = dlsym(RTLD_NEXT, "fallocate");
    real_fallocate64 = dlsym(RTLD_NEXT, "fallocate64");
    real_posix_fallocate = dlsym(RTLD_NEXT, "posix_fallocate");
    real_posix_fallocate64 = dlsym(RTLD_NEXT, "posix_fallocate64");

    const char * dir = getenv("SB_FAULT_DIR");
    cfg.log_fd = -1;
    if (dir == NULL || dir[0] == '\0' || realpath(dir, cfg.dir) == NULL) {
        return; /* inert */
    }
    cfg.dir_len = strlen(cfg.dir);
    const char * e = getenv("SB_FAULT_ERRNO");
    cfg.err = e != NULL && strcmp(e, "EIO") == 0 ? EIO : e != NULL && strcmp(e, "EDQUOT") == 0 ? EDQUOT : ENOSPC;
    const char * b = getenv("SB_FAULT_AFTER_BYTES");
    cfg.after_bytes = b != NULL && b[0] != '\0' ? atoll(b) : -1;
    const char * c = getenv("SB_FAULT_AFTER_CALLS");
    cfg.after_calls = c != NULL && c[0] != '\0' ? atoll(c) : -1;
    const char * ops = getenv("SB_FAULT_OPS");
    cfg.ops = ops != NULL && ops[0] != '\0' ? parse_ops(ops) : 0x7f;
    const char * m = getenv("SB_FAULT_MATCH");
    snprintf(cfg.match, sizeof(cfg.match), "%s", m != NULL ? m : "");
    const char * s = getenv("SB_FAULT_SWITCH");
    snprintf(cfg.switch_file, sizeof(cfg.switch_file), "%s", s != NULL ? s : "");
    const char * log = getenv("SB_FAULT_LOG");
    if (log != NULL && log[0] != '\0') {
        cfg.log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    }
    cfg.ready = 1;
}

static int matches(const char * path) {
    if (strncmp(path, cfg.dir, cfg.dir_len) != 0 || (path[cfg.dir_len] != '\0' && path[cfg.dir_len] != '/')) {
        return 0;
    }
    if (cfg.match[0] == '\0') {
        return 1;
    }
    char buf[sizeof(cfg.match)];
    memcpy(buf, cfg.match, sizeof(buf));
    for (char *save = NULL, *tok = strtok_r(buf, ":", &save); tok != NULL; tok = strtok_r(NULL, ":", &save)) {
        if (strstr(path, tok) != NULL) {
            return 1;
        }
    }
    return 0;
}

/* 0: let the call through; otherwise the errno to fail it with. `bytes` is what the call would
 * write (0 for syncs and truncation). */
static int fault_for(int fd, int op, size_t bytes) {
    pthread_once(&once, init);
    if (!cfg.ready || (cfg.ops & op) == 0) {
        return 0;
    }
    char link[64];
    char path[PATH_MAX];
    snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
    const ssize_t n = readlink(link, path, sizeof(path) - 1);
    if (n <= 0) {
        return 0;
    }
    path[n] = '\0';
    if (!matches(path)) {
        return 0;
    }
    if (cfg.switch_file[0] != '\0' && access(cfg.switch_file, F_OK) != 0) {
        return 0;
    }
    int fail = cfg.after_bytes < 0 && cfg.after_calls < 0;
    const long long calls = atomic_fetch_add(&calls_done, 1);
    if (cfg.after_calls >= 0 && calls >= cfg.after_calls) {
        fail = 1;
    }
    if (!fail && cfg.after_bytes >= 0) {
        const long long before = atomic_fetch_add(&bytes_done, (long long)bytes);
        if (before + (long long)bytes > cfg.after_bytes) {
            atomic_fetch_sub(&bytes_done, (long long)bytes);
            fail = 1;
        }
    }
    if (!fail) {
        return 0;
    }
    if (cfg.log_fd >= 0) {
        static const char * op_names[] = {"write", "pwrite", "writev", "fsync", "fdatasync", "ftruncate", "fallocate"};
        int i = 0;
        while ((1 << i) != op) {
            ++i;
        }
        char line[PATH_MAX + 64];
        const int len = snprintf(line, sizeof(line), "%s %s %s\n", op_names[i], errno_name(cfg.err), path);
        if (len > 0) {
            (void)real_write(cfg.log_fd, line, (size_t)len < sizeof(line) ? (size_t)len : sizeof(line) - 1);
        }
    }
    return cfg.err;
}

#define SB_FAULT_OR(fd, op, bytes, failed)               \
    do {                                                 \
        const int sb_e = fault_for((fd), (op), (bytes)); \
        if (sb_e != 0) {                                 \
            errno = sb_e;                                \
            return (failed);                             \
        }                                                \
    } while (0)

ssize_t write(int fd, const void * buf, size_t count) {
    SB_FAULT_OR(fd, OP_WRITE, count, -1);
    return real_write(fd, buf, count);
}

ssize_t pwrite(int fd, const void * buf, size_t count, off_t offset) {
    SB_FAULT_OR(fd, OP_PWRITE, count, -1);
    return real_pwrite(fd, buf, count, offset);
}

ssize_t pwrite64(int fd, const void * buf, size_t count, off64_t offset) {
    SB_FAULT_OR(fd, OP_PWRITE, count, -1);
    return real_pwrite64(fd, buf, count, offset);
}

ssize_t writev(int fd, const struct iovec * iov, int iovcnt) {
    size_t total = 0;
    for (int i = 0; i < iovcnt; ++i) {
        total += iov[i].iov_len;
    }
    SB_FAULT_OR(fd, OP_WRITEV, total, -1);
    return real_writev(fd, iov, iovcnt);
}

int fsync(int fd) {
    SB_FAULT_OR(fd, OP_FSYNC, 0, -1);
    return real_fsync(fd);
}

int fdatasync(int fd) {
    SB_FAULT_OR(fd, OP_FDATASYNC, 0, -1);
    return real_fdatasync(fd);
}

int ftruncate(int fd, off_t length) {
    SB_FAULT_OR(fd, OP_FTRUNCATE, 0, -1);
    return real_ftruncate(fd, length);
}

int ftruncate64(int fd, off64_t length) {
    SB_FAULT_OR(fd, OP_FTRUNCATE, 0, -1);
    return real_ftruncate64(fd, length);
}

int fallocate(int fd, int mode, off_t offset, off_t len) {
    SB_FAULT_OR(fd, OP_FALLOCATE, (size_t)len, -1);
    return real_fallocate(fd, mode, offset, len);
}

int fallocate64(int fd, int mode, off64_t offset, off64_t len) {
    SB_FAULT_OR(fd, OP_FALLOCATE, (size_t)len, -1);
    return real_fallocate64(fd, mode, offset, len);
}

/* posix_fallocate reports failure by its return value, not errno. */
int posix_fallocate(int fd, off_t offset, off_t len) {
    const int e = fault_for(fd, OP_FALLOCATE, (size_t)len);
    return e != 0 ? e : real_posix_fallocate(fd, offset, len);
}

int posix_fallocate64(int fd, off64_t offset, off64_t len) {
    const int e = fault_for(fd, OP_FALLOCATE, (size_t)len);
    return e != 0 ? e : real_posix_fallocate64(fd, offset, len);
}
