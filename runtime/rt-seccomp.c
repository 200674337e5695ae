/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-seccomp.c -- linux.seccomp compiled with libseccomp in the
 * runtime process; the container only loads the exported BPF program right
 * before execve.  The only file that includes <seccomp.h>.
 *
 * SCMP_ACT_NOTIFY: the filter is loaded with SECCOMP_FILTER_FLAG_NEW_LISTENER
 * and the listener fd goes to linux.seccomp.listenerPath (rt-notify.c).
 */
#include "config.h"

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "runtime/runtime-internal.h"

static const struct {
        const char *name;
        uint32_t action;        /* without the errno/trace data */
        bool data;
} actions[] = {
        { "SCMP_ACT_KILL", SCMP_ACT_KILL_THREAD, false },
        { "SCMP_ACT_KILL_THREAD", SCMP_ACT_KILL_THREAD, false },
        { "SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS, false },
        { "SCMP_ACT_TRAP", SCMP_ACT_TRAP, false },
        { "SCMP_ACT_ERRNO", SCMP_ACT_ERRNO(0), true },
        { "SCMP_ACT_TRACE", SCMP_ACT_TRACE(0), true },
        { "SCMP_ACT_ALLOW", SCMP_ACT_ALLOW, false },
        { "SCMP_ACT_LOG", SCMP_ACT_LOG, false },
        { "SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY, false },
};

static int parse_action(const char *name, const cJSON *errno_ret, uint32_t def_errno, uint32_t *ret,
                        struct berth_err *err)
{
        if (!name)
                return berth_err_set(err, EINVAL, "seccomp: missing action");
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
                if (!strcmp(actions[i].name, name)) {
                        uint32_t data = def_errno;
                        if (cJSON_IsNumber(errno_ret))
                                data = (uint32_t)errno_ret->valuedouble;
                        if (!strcmp(name, "SCMP_ACT_ERRNO"))
                                *ret = SCMP_ACT_ERRNO(data);
                        else if (!strcmp(name, "SCMP_ACT_TRACE"))
                                *ret = SCMP_ACT_TRACE(data);
                        else
                                *ret = actions[i].action;
                        return 0;
                }
        return berth_err_set(err, EINVAL, "seccomp: unknown action '%s'", name);
}

static const struct {
        const char *name;
        enum scmp_compare op;
} ops[] = {
        { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT }, { "SCMP_CMP_LE", SCMP_CMP_LE },
        { "SCMP_CMP_EQ", SCMP_CMP_EQ }, { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
        { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

static uint32_t arch_token(const char *name)
{
        static const struct {
                const char *name;
                const char *lib;
        } arch[] = {
                { "SCMP_ARCH_X86", "x86" }, { "SCMP_ARCH_X86_64", "x86_64" }, { "SCMP_ARCH_X32", "x32" },
                { "SCMP_ARCH_ARM", "arm" }, { "SCMP_ARCH_AARCH64", "aarch64" }, { "SCMP_ARCH_MIPS", "mips" },
                { "SCMP_ARCH_MIPS64", "mips64" }, { "SCMP_ARCH_MIPS64N32", "mips64n32" },
                { "SCMP_ARCH_MIPSEL", "mipsel" }, { "SCMP_ARCH_MIPSEL64", "mipsel64" },
                { "SCMP_ARCH_MIPSEL64N32", "mipsel64n32" }, { "SCMP_ARCH_PPC", "ppc" },
                { "SCMP_ARCH_PPC64", "ppc64" }, { "SCMP_ARCH_PPC64LE", "ppc64le" }, { "SCMP_ARCH_S390", "s390" },
                { "SCMP_ARCH_S390X", "s390x" }, { "SCMP_ARCH_RISCV64", "riscv64" },
        };
        for (size_t i = 0; i < ARRAY_SIZE(arch); i++)
                if (!strcmp(arch[i].name, name))
                        return seccomp_arch_resolve_name(arch[i].lib);
        return 0;
}

static int add_rule(scmp_filter_ctx ctx, uint32_t act, int nr, const cJSON *args, const char *sname,
                    struct berth_err *err)
{
        struct scmp_arg_cmp cmp[6];
        unsigned int n = 0;
        const cJSON *a;
        int r;

        cJSON_ArrayForEach(a, args) {
                const cJSON *idx = cJSON_GetObjectItemCaseSensitive(a, "index");
                const cJSON *val = cJSON_GetObjectItemCaseSensitive(a, "value");
                const cJSON *val2 = cJSON_GetObjectItemCaseSensitive(a, "valueTwo");
                const char *op = berth_json_str(a, "op");
                size_t k;

                if (n >= 6 || !cJSON_IsNumber(idx) || idx->valuedouble < 0 || idx->valuedouble > 5)
                        return berth_err_set(err, EINVAL, "seccomp: invalid argument index for %s", sname);
                for (k = 0; op && k < ARRAY_SIZE(ops); k++)
                        if (!strcmp(ops[k].name, op))
                                break;
                if (!op || k == ARRAY_SIZE(ops))
                        return berth_err_set(err, EINVAL, "seccomp: unknown operator '%s'", op ? op : "");
                cmp[n].arg = (unsigned int)idx->valuedouble;
                cmp[n].op = ops[k].op;
                cmp[n].datum_a = cJSON_IsNumber(val) ? (scmp_datum_t)val->valuedouble : 0;
                cmp[n].datum_b = cJSON_IsNumber(val2) ? (scmp_datum_t)val2->valuedouble : 0;
                n++;
        }
        r = seccomp_rule_add_array(ctx, act, nr, n, cmp);
        if (r == -EINVAL && n > 1) {
                /* several conditions on one argument: libseccomp wants one rule per condition (OR) */
                for (unsigned int i = 0; i < n; i++) {
                        r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
                        if (r < 0)
                                break;
                }
        }
        if (r == -EACCES || r == -EEXIST)
                return 0;       /* same as the default action */
        if (r == -EOPNOTSUPP && act == SCMP_ACT_NOTIFY)
                return berth_err_set(err, ENOTSUP, "seccomp: SCMP_ACT_NOTIFY is not supported by this kernel");
        if (r < 0)
                return berth_err_set(err, -r, "seccomp: add rule for %s: %s", sname, strerror(-r));
        return 0;
}

int rt_seccomp_compile(const cJSON *sc, struct rt_seccomp *ret, struct berth_err *err)
{
        const cJSON *it, *name;
        scmp_filter_ctx ctx;
        uint32_t defact;
        uint32_t def_errno = EPERM;
        const cJSON *der = cJSON_GetObjectItemCaseSensitive(sc, "defaultErrnoRet");
        int r;

        memset(ret, 0, sizeof(*ret));
        if (!sc)
                return 0;
        if (cJSON_IsNumber(der))
                def_errno = (uint32_t)der->valuedouble;
        r = parse_action(berth_json_str(sc, "defaultAction"), der, EPERM, &defact, err);
        if (r < 0)
                return r;
        if (defact == SCMP_ACT_NOTIFY)
                return berth_err_set(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY cannot be the default action");
        ctx = seccomp_init(defact);
        if (!ctx)
                return berth_err_set(err, EINVAL, "seccomp: cannot initialise the filter");
        (void)seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0);
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sc, "architectures")) {
                uint32_t a = cJSON_IsString(it) ? arch_token(it->valuestring) : 0;
                if (!a) {
                        r = berth_err_set(err, EINVAL, "seccomp: unknown architecture '%s'",
                                          cJSON_IsString(it) ? it->valuestring : "?");
                        goto out;
                }
                r = seccomp_arch_add(ctx, a);
                if (r < 0 && r != -EEXIST) {
                        r = berth_err_set(err, -r, "seccomp: add architecture %s: %s", it->valuestring, strerror(-r));
                        goto out;
                }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sc, "flags")) {
                if (!cJSON_IsString(it))
                        continue;
                if (!strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_TSYNC"))
                        ret->flags |= SECCOMP_FILTER_FLAG_TSYNC;
                else if (!strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_LOG"))
                        ret->flags |= SECCOMP_FILTER_FLAG_LOG;
                else if (!strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_SPEC_ALLOW"))
                        ret->flags |= SECCOMP_FILTER_FLAG_SPEC_ALLOW;
#ifdef SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
                else if (!strcmp(it->valuestring, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"))
                        ret->flags |= SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV;
#endif
                else {
                        r = berth_err_set(err, EINVAL, "seccomp: unknown flag '%s'", it->valuestring);
                        goto out;
                }
        }
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(sc, "syscalls")) {
                uint32_t act;
                const cJSON *args = cJSON_GetObjectItemCaseSensitive(it, "args");
                r = parse_action(berth_json_str(it, "action"), cJSON_GetObjectItemCaseSensitive(it, "errnoRet"),
                                 def_errno, &act, err);
                if (r < 0)
                        goto out;
                if (act == defact)
                        continue;
                cJSON_ArrayForEach(name, cJSON_GetObjectItemCaseSensitive(it, "names")) {
                        int nr;
                        if (!cJSON_IsString(name))
                                continue;
                        if (act == SCMP_ACT_NOTIFY) {
                                /* the listener fd leaves the container's process through sendmsg */
                                if (!strcmp(name->valuestring, "sendmsg")) {
                                        r = berth_err_set(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY cannot be used for sendmsg");
                                        goto out;
                                }
                                ret->notify = true;
                        }
                        nr = seccomp_syscall_resolve_name(name->valuestring);
                        if (nr == __NR_SCMP_ERROR)
                                continue;       /* unknown on this kernel/arch: skipped, as runc */
                        r = add_rule(ctx, act, nr, args, name->valuestring, err);
                        if (r < 0)
                                goto out;
                }
        }
        if (ret->notify) {
                const char *lp = berth_json_str(sc, "listenerPath");
                if (!lp || !*lp) {
                        r = berth_err_set(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
                        goto out;
                }
                /* TSYNC needs TSYNC_ESRCH with a listener; the process is single-threaded anyway */
                ret->flags = (ret->flags & ~(unsigned int)SECCOMP_FILTER_FLAG_TSYNC) | SECCOMP_FILTER_FLAG_NEW_LISTENER;
        }
        {
                int fd = memfd_create("seccomp", MFD_CLOEXEC);
                if (fd < 0) {
                        r = berth_err_set(err, errno, "seccomp: memfd: %s", strerror(errno));
                        goto out;
                }
                r = seccomp_export_bpf(ctx, fd);
                if (r < 0) {
                        (void)close(fd);
                        r = berth_err_set(err, -r, "seccomp: export: %s", strerror(-r));
                        goto out;
                }
                off_t len = lseek(fd, 0, SEEK_END);
                ret->prog = xmalloc(len > 0 ? (size_t)len : 1);
                if (len <= 0 || pread(fd, ret->prog, (size_t)len, 0) != len) {
                        (void)close(fd);
                        r = berth_err_set(err, EIO, "seccomp: export read failed");
                        goto out;
                }
                ret->len = (size_t)len / sizeof(struct sock_filter);
                (void)close(fd);
        }
        r = 0;
out:
        seccomp_release(ctx);
        if (r < 0)
                rt_seccomp_release(ret);
        return r;
}

int rt_seccomp_load(const struct rt_seccomp *s, int *ret_listener)
{
        const unsigned int needed = SECCOMP_FILTER_FLAG_TSYNC | SECCOMP_FILTER_FLAG_NEW_LISTENER;
        struct sock_fprog prog;
        long r;

        if (ret_listener)
                *ret_listener = -1;
        if (!s->prog)
                return 0;
        prog.len = (unsigned short)s->len;
        prog.filter = s->prog;
        r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags, &prog);
        if (r < 0 && errno == EINVAL && (s->flags & ~needed)) {
                /* a flag this kernel lacks: try without the optional ones */
                r = syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, s->flags & needed, &prog);
        }
        if (r < 0)
                return -errno;
        if (s->flags & SECCOMP_FILTER_FLAG_NEW_LISTENER) {
                if (ret_listener)
                        *ret_listener = (int)r;
                else
                        (void)close((int)r);
        }
        return 0;
}

void rt_seccomp_release(struct rt_seccomp *s)
{
        free(s->prog);
        s->prog = NULL;
        s->len = 0;
}

cJSON *rt_seccomp_features(void)
{
        cJSON *o = cJSON_CreateObject(), *a;

        cJSON_AddBoolToObject(o, "enabled", true);
        a = cJSON_AddArrayToObject(o, "actions");
        for (size_t i = 0; i < ARRAY_SIZE(actions); i++)
                cJSON_AddItemToArray(a, cJSON_CreateString(actions[i].name));
        a = cJSON_AddArrayToObject(o, "operators");
        for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
                cJSON_AddItemToArray(a, cJSON_CreateString(ops[i].name));
        a = cJSON_AddArrayToObject(o, "archs");
        cJSON_AddItemToArray(a, cJSON_CreateString("SCMP_ARCH_X86"));
        cJSON_AddItemToArray(a, cJSON_CreateString("SCMP_ARCH_X86_64"));
        cJSON_AddItemToArray(a, cJSON_CreateString("SCMP_ARCH_X32"));
        cJSON_AddItemToArray(a, cJSON_CreateString("SCMP_ARCH_AARCH64"));
        a = cJSON_AddArrayToObject(o, "knownFlags");
        cJSON_AddItemToArray(a, cJSON_CreateString("SECCOMP_FILTER_FLAG_TSYNC"));
        cJSON_AddItemToArray(a, cJSON_CreateString("SECCOMP_FILTER_FLAG_LOG"));
        cJSON_AddItemToArray(a, cJSON_CreateString("SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
        a = cJSON_AddArrayToObject(o, "supportedFlags");
        cJSON_AddItemToArray(a, cJSON_CreateString("SECCOMP_FILTER_FLAG_TSYNC"));
        cJSON_AddItemToArray(a, cJSON_CreateString("SECCOMP_FILTER_FLAG_LOG"));
        cJSON_AddItemToArray(a, cJSON_CreateString("SECCOMP_FILTER_FLAG_SPEC_ALLOW"));
        return o;
}

/* ---- compiled filters, cached ----
 * libseccomp takes 10-20 ms to turn Docker's default profile into BPF, on
 * every create and exec.  The result depends only on the seccomp object and
 * libseccomp's syscall tables, so it is kept under <root>/seccomp-cache,
 * one file per profile: a header, the exact key (libseccomp's version and
 * the profile's JSON) and the program.  A file is used only when its key
 * matches byte for byte; anything unexpected means compiling again. */

#define CACHE_MAGIC 0x31435342u         /* "BSC1" */
#define CACHE_MAX (4u << 20)

struct cache_hdr {
        uint32_t magic, flags, notify, keylen, proglen;
};

static uint64_t fnv1a(const char *s, size_t n)
{
        uint64_t h = 0xcbf29ce484222325ULL;

        for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
        return h;
}

static int cache_read(const char *path, const char *key, size_t keylen, struct rt_seccomp *ret)
{
        _cleanup_free_ char *buf = NULL;
        struct cache_hdr h;
        size_t len;

        if (berth_read_file(path, CACHE_MAX, &buf, &len, NULL) < 0 || len < sizeof(h))
                return -ENOENT;
        memcpy(&h, buf, sizeof(h));
        if (h.magic != CACHE_MAGIC || h.keylen != keylen || h.proglen == 0 ||
            h.proglen % sizeof(struct sock_filter) != 0 || len != sizeof(h) + (size_t)h.keylen + h.proglen ||
            memcmp(buf + sizeof(h), key, keylen) != 0)
                return -ENOENT;
        memset(ret, 0, sizeof(*ret));
        ret->prog = xmalloc(h.proglen);
        memcpy(ret->prog, buf + sizeof(h) + keylen, h.proglen);
        ret->len = h.proglen / sizeof(struct sock_filter);
        ret->flags = h.flags;
        ret->notify = h.notify != 0;
        return 0;
}

static void cache_write(const char *dir, const char *path, const char *key, size_t keylen,
                        const struct rt_seccomp *s)
{
        struct cache_hdr h = {
                .magic = CACHE_MAGIC,
                .flags = s->flags,
                .notify = s->notify,
                .keylen = (uint32_t)keylen,
                .proglen = (uint32_t)(s->len * sizeof(struct sock_filter)),
        };
        struct buf b = BUF_INIT;

        if (berth_mkdir_p(dir, 0700) < 0)
                return;
        buf_add(&b, &h, sizeof(h));
        buf_add(&b, key, keylen);
        buf_add(&b, s->prog, h.proglen);
        /* a cache: written atomically, a lost write only costs a compile */
        (void)berth_write_file_atomic(path, buf_cstr(&b), b.len, 0600, NULL);
        buf_release(&b);
}

int rt_seccomp_compile_cached(const cJSON *sc, const char *root, struct rt_seccomp *ret, struct berth_err *err)
{
        const struct scmp_version *v;
        _cleanup_free_ char *text = NULL, *key = NULL, *dir = NULL, *path = NULL;
        size_t keylen;
        int r;

        if (!sc || !root || !*root)
                return rt_seccomp_compile(sc, ret, err);
        text = cJSON_PrintUnformatted(sc);
        v = seccomp_version();
        if (!text || !v)
                return rt_seccomp_compile(sc, ret, err);
        key = xasprintf("libseccomp %u.%u.%u\n%s", v->major, v->minor, v->micro, text);
        keylen = strlen(key);
        dir = xasprintf("%s/seccomp-cache", root);
        path = xasprintf("%s/%016llx.bpf", dir, (unsigned long long)fnv1a(key, keylen));
        if (cache_read(path, key, keylen, ret) == 0)
                return 0;
        r = rt_seccomp_compile(sc, ret, err);
        if (r == 0 && ret->prog && ret->len > 0)
                cache_write(dir, path, key, keylen, ret);
        return r;
}
