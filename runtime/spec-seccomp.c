/* SPDX-License-Identifier: Apache-2.0
 * runtime/spec-seccomp.c -- the default seccomp allow-list (same semantics as
 * Docker's default profile: everything not listed fails with EPERM) kept as
 * a C table, and the resolution of a Docker-format profile into the OCI
 * linux.seccomp object for this architecture and capability set.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

#include "runtime/spec.h"

enum sc_action { SC_ALLOW, SC_ERRNO };

struct sc_arg {
        unsigned index;
        uint64_t value;
        const char *op;
};

/* One rule.  names: space-separated syscall names.  inc_caps/exc_caps and
 * inc_arches/exc_arches are space-separated too (Go arch names as in
 * Docker's profile: amd64, x86, x32, arm, arm64, ppc64le, s390, s390x,
 * riscv64).  min_kernel: "major.minor" or NULL. */
struct sc_rule {
        const char *names;
        enum sc_action action;
        int errno_ret;
        struct sc_arg arg;              /* used when arg.op != NULL */
        const char *inc_caps, *exc_caps;
        const char *inc_arches, *exc_arches;
        const char *min_kernel;
        const char *comment;
};

/* clone flags a process may use without CAP_SYS_ADMIN: none of the
 * CLONE_NEW* namespace bits (0x7E020000). */
#define SC_CLONE_NS_MASK 2114060288ULL

static const struct sc_rule sc_rules[] = {
        { .names =
          "accept accept4 access adjtimex alarm bind brk capget capset chdir chmod chown chown32 "
          "clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime "
          "clock_gettime64 clock_nanosleep clock_nanosleep_time64 close close_range connect "
          "copy_file_range creat dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old "
          "epoll_pwait epoll_pwait2 epoll_wait epoll_wait_old eventfd eventfd2 execve execveat "
          "exit exit_group faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark "
          "fchdir fchmod fchmodat fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr "
          "flistxattr flock fork fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs "
          "fstatfs64 fsync ftruncate ftruncate64 futex futex_time64 futex_waitv futimesat "
          "getcpu getcwd getdents getdents64 getegid getegid32 geteuid geteuid32 getgid getgid32 "
          "getgroups getgroups32 getitimer getpeername getpgid getpgrp getpid getppid "
          "getpriority getrandom getresgid getresgid32 getresuid getresuid32 getrlimit "
          "get_robust_list getrusage getsid getsockname getsockopt get_thread_area gettid "
          "gettimeofday getuid getuid32 getxattr inotify_add_watch inotify_init inotify_init1 "
          "inotify_rm_watch io_cancel ioctl io_destroy io_getevents io_pgetevents "
          "io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit io_uring_enter "
          "io_uring_register io_uring_setup ipc kill landlock_add_rule landlock_create_ruleset "
          "landlock_restrict_self lchown lchown32 lgetxattr link linkat listen listxattr "
          "llistxattr _llseek lremovexattr lseek lsetxattr lstat lstat64 madvise membarrier "
          "memfd_create memfd_secret mincore mkdir mkdirat mknod mknodat mlock mlock2 mlockall "
          "mmap mmap2 mprotect mq_getsetattr mq_notify mq_open mq_timedreceive "
          "mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap msgctl "
          "msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep "
          "newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe "
          "pipe2 pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv "
          "preadv2 prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2 "
          "read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 "
          "recvmsg remap_file_pages removexattr rename renameat renameat2 restart_syscall rmdir "
          "rseq rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn "
          "rt_sigsuspend rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo "
          "sched_getaffinity sched_getattr sched_getparam sched_get_priority_max "
          "sched_get_priority_min sched_getscheduler sched_rr_get_interval "
          "sched_rr_get_interval_time64 sched_setaffinity sched_setattr sched_setparam "
          "sched_setscheduler sched_yield seccomp select semctl semget semop semtimedop "
          "semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg sendto setfsgid "
          "setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32 setitimer "
          "setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid setresuid32 "
          "setreuid setreuid32 setrlimit set_robust_list setsid setsockopt set_thread_area "
          "set_tid_address setuid setuid32 setxattr shmat shmctl shmdt shmget shutdown "
          "sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice "
          "stat stat64 statfs statfs64 statx symlink symlinkat sync sync_file_range syncfs "
          "sysinfo tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime "
          "timer_gettime64 timer_settime timer_settime64 timerfd_create timerfd_gettime "
          "timerfd_gettime64 timerfd_settime timerfd_settime64 times tkill truncate truncate64 "
          "ugetrlimit umask uname unlink unlinkat utime utimensat utimensat_time64 utimes vfork "
          "vmsplice wait4 waitid waitpid write writev",
          .action = SC_ALLOW },
        { .names = "process_vm_readv process_vm_writev ptrace", .action = SC_ALLOW,
          .min_kernel = "4.8" },
        /* every socket family but AF_VSOCK (40) */
        { .names = "socket", .action = SC_ALLOW, .arg = { 0, 40, "SCMP_CMP_NE" } },
        /* personality: PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, query */
        { .names = "personality", .action = SC_ALLOW, .arg = { 0, 0, "SCMP_CMP_EQ" } },
        { .names = "personality", .action = SC_ALLOW, .arg = { 0, 8, "SCMP_CMP_EQ" } },
        { .names = "personality", .action = SC_ALLOW, .arg = { 0, 0x20000, "SCMP_CMP_EQ" } },
        { .names = "personality", .action = SC_ALLOW, .arg = { 0, 0x20008, "SCMP_CMP_EQ" } },
        { .names = "personality", .action = SC_ALLOW, .arg = { 0, 0xffffffffULL, "SCMP_CMP_EQ" } },
        { .names = "sync_file_range2 swapcontext", .action = SC_ALLOW, .inc_arches = "ppc64le" },
        { .names = "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls",
          .action = SC_ALLOW, .inc_arches = "arm arm64" },
        { .names = "arch_prctl", .action = SC_ALLOW, .inc_arches = "amd64 x32" },
        { .names = "modify_ldt", .action = SC_ALLOW, .inc_arches = "amd64 x32 x86" },
        { .names = "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr", .action = SC_ALLOW,
          .inc_arches = "s390 s390x" },
        { .names = "riscv_flush_icache", .action = SC_ALLOW, .inc_arches = "riscv64" },
        { .names = "open_by_handle_at", .action = SC_ALLOW, .inc_caps = "CAP_DAC_READ_SEARCH" },
        { .names = "bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie "
                   "mount mount_setattr move_mount open_tree perf_event_open quotactl quotactl_fd "
                   "setdomainname sethostname setns syslog umount umount2 unshare",
          .action = SC_ALLOW, .inc_caps = "CAP_SYS_ADMIN" },
        { .names = "clone", .action = SC_ALLOW,
          .arg = { 0, SC_CLONE_NS_MASK, "SCMP_CMP_MASKED_EQ" },
          .exc_caps = "CAP_SYS_ADMIN", .exc_arches = "s390 s390x" },
        { .names = "clone", .action = SC_ALLOW,
          .arg = { 1, SC_CLONE_NS_MASK, "SCMP_CMP_MASKED_EQ" },
          .inc_arches = "s390 s390x", .exc_caps = "CAP_SYS_ADMIN",
          .comment = "s390 parameter ordering for clone is different" },
        /* clone3 flags cannot be filtered: ENOSYS makes libc fall back to clone */
        { .names = "clone3", .action = SC_ERRNO, .errno_ret = 38, .exc_caps = "CAP_SYS_ADMIN" },
        { .names = "reboot", .action = SC_ALLOW, .inc_caps = "CAP_SYS_BOOT" },
        { .names = "chroot", .action = SC_ALLOW, .inc_caps = "CAP_SYS_CHROOT" },
        { .names = "delete_module init_module finit_module", .action = SC_ALLOW,
          .inc_caps = "CAP_SYS_MODULE" },
        { .names = "acct", .action = SC_ALLOW, .inc_caps = "CAP_SYS_PACCT" },
        { .names = "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace",
          .action = SC_ALLOW, .inc_caps = "CAP_SYS_PTRACE" },
        { .names = "iopl ioperm", .action = SC_ALLOW, .inc_caps = "CAP_SYS_RAWIO" },
        { .names = "settimeofday stime clock_settime clock_settime64", .action = SC_ALLOW,
          .inc_caps = "CAP_SYS_TIME" },
        { .names = "vhangup", .action = SC_ALLOW, .inc_caps = "CAP_SYS_TTY_CONFIG" },
        { .names = "get_mempolicy mbind set_mempolicy set_mempolicy_home_node", .action = SC_ALLOW,
          .inc_caps = "CAP_SYS_NICE" },
        { .names = "syslog", .action = SC_ALLOW, .inc_caps = "CAP_SYSLOG" },
        { .names = "bpf", .action = SC_ALLOW, .inc_caps = "CAP_BPF" },
        { .names = "perf_event_open", .action = SC_ALLOW, .inc_caps = "CAP_PERFMON" },
};

/* libseccomp architecture names for each native arch and its compat ones. */
static const struct {
        const char *arch;
        const char *subs;
} sc_arch_map[] = {
        { "SCMP_ARCH_X86_64", "SCMP_ARCH_X86 SCMP_ARCH_X32" },
        { "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM" },
        { "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS SCMP_ARCH_MIPS64N32" },
        { "SCMP_ARCH_MIPS64N32", "SCMP_ARCH_MIPS SCMP_ARCH_MIPS64" },
        { "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL SCMP_ARCH_MIPSEL64N32" },
        { "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_MIPSEL SCMP_ARCH_MIPSEL64" },
        { "SCMP_ARCH_S390X", "SCMP_ARCH_S390" },
        { "SCMP_ARCH_RISCV64", NULL },
};

#if defined(__x86_64__)
#define SC_GOARCH "amd64"
#define SC_SCMP_ARCH "SCMP_ARCH_X86_64"
#elif defined(__aarch64__)
#define SC_GOARCH "arm64"
#define SC_SCMP_ARCH "SCMP_ARCH_AARCH64"
#elif defined(__i386__)
#define SC_GOARCH "386"
#define SC_SCMP_ARCH "SCMP_ARCH_X86"
#elif defined(__arm__)
#define SC_GOARCH "arm"
#define SC_SCMP_ARCH "SCMP_ARCH_ARM"
#elif defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define SC_GOARCH "ppc64le"
#define SC_SCMP_ARCH "SCMP_ARCH_PPC64LE"
#elif defined(__s390x__)
#define SC_GOARCH "s390x"
#define SC_SCMP_ARCH "SCMP_ARCH_S390X"
#elif defined(__riscv) && __riscv_xlen == 64
#define SC_GOARCH "riscv64"
#define SC_SCMP_ARCH "SCMP_ARCH_RISCV64"
#else
#define SC_GOARCH "unknown"
#define SC_SCMP_ARCH "SCMP_ARCH_NATIVE"
#endif

/* Append each word of a space-separated list to array a. */
static void add_words(cJSON *a, const char *words)
{
        const char *p = words;

        while (p && *p) {
                size_t n = strcspn(p, " ");
                if (n) {
                        char *w = xstrndup(p, n);
                        cJSON_AddItemToArray(a, cJSON_CreateString(w));
                        free(w);
                }
                p += n;
                p += strspn(p, " ");
        }
}

static void add_filter(cJSON *rule, const char *key, const char *caps, const char *arches,
                       const char *min_kernel)
{
        cJSON *f;

        if (!caps && !arches && !min_kernel)
                return;
        f = cJSON_AddObjectToObject(rule, key);
        if (arches)
                add_words(cJSON_AddArrayToObject(f, "arches"), arches);
        if (caps)
                add_words(cJSON_AddArrayToObject(f, "caps"), caps);
        if (min_kernel)
                cJSON_AddStringToObject(f, "minKernel", min_kernel);
}

cJSON *spec_seccomp_default_profile(void)
{
        cJSON *p = cJSON_CreateObject();
        cJSON *am, *calls;

        cJSON_AddStringToObject(p, "defaultAction", "SCMP_ACT_ERRNO");
        cJSON_AddNumberToObject(p, "defaultErrnoRet", EPERM);
        am = cJSON_AddArrayToObject(p, "archMap");
        for (size_t i = 0; i < ARRAY_SIZE(sc_arch_map); i++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "architecture", sc_arch_map[i].arch);
                if (sc_arch_map[i].subs)
                        add_words(cJSON_AddArrayToObject(e, "subArchitectures"), sc_arch_map[i].subs);
                else
                        cJSON_AddNullToObject(e, "subArchitectures");
                cJSON_AddItemToArray(am, e);
        }
        calls = cJSON_AddArrayToObject(p, "syscalls");
        for (size_t i = 0; i < ARRAY_SIZE(sc_rules); i++) {
                const struct sc_rule *r = &sc_rules[i];
                cJSON *e = cJSON_CreateObject();

                add_words(cJSON_AddArrayToObject(e, "names"), r->names);
                cJSON_AddStringToObject(e, "action", r->action == SC_ALLOW ? "SCMP_ACT_ALLOW"
                                                                           : "SCMP_ACT_ERRNO");
                if (r->action == SC_ERRNO)
                        cJSON_AddNumberToObject(e, "errnoRet", r->errno_ret);
                if (r->arg.op) {
                        cJSON *args = cJSON_AddArrayToObject(e, "args");
                        cJSON *a = cJSON_CreateObject();
                        cJSON_AddNumberToObject(a, "index", r->arg.index);
                        cJSON_AddNumberToObject(a, "value", (double)r->arg.value);
                        cJSON_AddStringToObject(a, "op", r->arg.op);
                        cJSON_AddItemToArray(args, a);
                }
                if (r->comment)
                        cJSON_AddStringToObject(e, "comment", r->comment);
                add_filter(e, "includes", r->inc_caps, r->inc_arches, r->min_kernel);
                add_filter(e, "excludes", r->exc_caps, r->exc_arches, NULL);
                cJSON_AddItemToArray(calls, e);
        }
        return p;
}

static bool array_has_str(const cJSON *a, const char *s)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, a)
                if (cJSON_IsString(e) && !strcmp(e->valuestring, s))
                        return true;
        return false;
}

/* Does the capability mask hold the named cap?  Unknown names: no. */
static bool caps_have(uint64_t caps, const char *name)
{
        int c = spec_cap_from_name(name);
        return c >= 0 && (caps & (1ULL << c));
}

static bool kernel_at_least(const char *want)
{
        struct utsname u;
        int kmaj = 0, kmin = 0, wmaj = 0, wmin = 0;

        if (uname(&u) < 0 || sscanf(u.release, "%d.%d", &kmaj, &kmin) < 1)
                return false;
        if (sscanf(want, "%d.%d", &wmaj, &wmin) < 1)
                return false;
        return kmaj > wmaj || (kmaj == wmaj && kmin >= wmin);
}

/* Docker's rule filter: excludes win, then every includes condition must hold. */
static bool rule_applies(const cJSON *rule, uint64_t caps)
{
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(rule, "excludes");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(rule, "includes");
        const cJSON *e;

        if (cJSON_IsObject(ex)) {
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ex, "caps"))
                        if (cJSON_IsString(e) && caps_have(caps, e->valuestring))
                                return false;
                if (array_has_str(cJSON_GetObjectItemCaseSensitive(ex, "arches"), SC_GOARCH))
                        return false;
        }
        if (cJSON_IsObject(in)) {
                const cJSON *arches = cJSON_GetObjectItemCaseSensitive(in, "arches");
                const char *mk = berth_json_str(in, "minKernel");

                if (cJSON_GetArraySize(arches) > 0 && !array_has_str(arches, SC_GOARCH))
                        return false;
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(in, "caps"))
                        if (!cJSON_IsString(e) || !caps_have(caps, e->valuestring))
                                return false;
                if (mk && *mk && !kernel_at_least(mk))
                        return false;
        }
        return true;
}

int spec_seccomp_resolve(const cJSON *profile, uint64_t caps, cJSON **ret, struct berth_err *err)
{
        _cleanup_json_ cJSON *out = NULL;
        const cJSON *e, *arches, *rule;
        const char *def = berth_json_str(profile, "defaultAction");
        cJSON *archs, *calls;

        if (!cJSON_IsObject(profile) || !def)
                return berth_err_pub(err, EINVAL,
                                     "Decoding seccomp profile failed: defaultAction is missing");
        out = cJSON_CreateObject();
        cJSON_AddStringToObject(out, "defaultAction", def);
        e = cJSON_GetObjectItemCaseSensitive(profile, "defaultErrnoRet");
        if (cJSON_IsNumber(e))
                cJSON_AddNumberToObject(out, "defaultErrnoRet", e->valuedouble);

        archs = cJSON_AddArrayToObject(out, "architectures");
        arches = cJSON_GetObjectItemCaseSensitive(profile, "architectures");
        if (cJSON_GetArraySize(arches) > 0 &&
            cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(profile, "archMap")) > 0)
                return berth_err_pub(err, EINVAL, "'architectures' and 'archMap' were specified in the seccomp profile, use either 'architectures' or 'archMap'");
        if (cJSON_GetArraySize(arches) > 0) {
                cJSON_ArrayForEach(e, arches)
                        if (cJSON_IsString(e))
                                cJSON_AddItemToArray(archs, cJSON_CreateString(e->valuestring));
        } else {
                cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(profile, "archMap")) {
                        const char *a = berth_json_str(e, "architecture");
                        const cJSON *s;
                        if (!a || strcmp(a, SC_SCMP_ARCH))
                                continue;
                        cJSON_AddItemToArray(archs, cJSON_CreateString(a));
                        cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(e, "subArchitectures"))
                                if (cJSON_IsString(s))
                                        cJSON_AddItemToArray(archs, cJSON_CreateString(s->valuestring));
                }
        }
        e = cJSON_GetObjectItemCaseSensitive(profile, "flags");
        if (cJSON_IsArray(e))
                cJSON_AddItemToObject(out, "flags", cJSON_Duplicate(e, true));
        e = cJSON_GetObjectItemCaseSensitive(profile, "listenerPath");
        if (cJSON_IsString(e))
                cJSON_AddStringToObject(out, "listenerPath", e->valuestring);

        calls = cJSON_AddArrayToObject(out, "syscalls");
        cJSON_ArrayForEach(rule, cJSON_GetObjectItemCaseSensitive(profile, "syscalls")) {
                const char *action = berth_json_str(rule, "action");
                const cJSON *names = cJSON_GetObjectItemCaseSensitive(rule, "names");
                const char *name = berth_json_str(rule, "name");
                cJSON *o, *n;

                if (!cJSON_IsObject(rule) || !action)
                        return berth_err_pub(err, EINVAL, "Decoding seccomp profile failed: a syscall rule has no action");
                if (name && cJSON_GetArraySize(names) > 0)
                        return berth_err_pub(err, EINVAL, "use either 'name' or 'names'");
                if (!rule_applies(rule, caps))
                        continue;
                o = cJSON_CreateObject();
                n = cJSON_AddArrayToObject(o, "names");
                if (name)
                        cJSON_AddItemToArray(n, cJSON_CreateString(name));
                cJSON_ArrayForEach(e, names)
                        if (cJSON_IsString(e))
                                cJSON_AddItemToArray(n, cJSON_CreateString(e->valuestring));
                cJSON_AddStringToObject(o, "action", action);
                e = cJSON_GetObjectItemCaseSensitive(rule, "errnoRet");
                if (cJSON_IsNumber(e))
                        cJSON_AddNumberToObject(o, "errnoRet", e->valuedouble);
                e = cJSON_GetObjectItemCaseSensitive(rule, "args");
                if (cJSON_GetArraySize(e) > 0)
                        cJSON_AddItemToObject(o, "args", cJSON_Duplicate(e, true));
                cJSON_AddItemToArray(calls, o);
        }
        *ret = TAKE_PTR(out);
        return 0;
}
