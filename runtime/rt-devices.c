/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-devices.c -- linux.resources.devices on cgroup v2: the rule list
 * becomes a BPF_PROG_TYPE_CGROUP_DEVICE program, written instruction by
 * instruction, attached to the container's cgroup with BPF_F_ALLOW_MULTI;
 * programs attached there before (an earlier `update`) are detached after.
 * Raw bpf(2) calls, no libbpf.
 *
 * Semantics: the cgroup starts allowing everything (as a new v1 cgroup under
 * the root does); a rule for all devices and all access ("a", the usual first
 * rule) sets the default and drops earlier rules; after that, for each kind of
 * access asked (mknod, read, write) the last rule naming the device and that
 * kind decides, else the default.  The runtime's default devices are allowed
 * after the list, as on the v1 path of rt-cgroup.c.  So a later deny can
 * narrow an earlier wildcard allow, which v1 itself cannot do.
 */
#include "config.h"

#include <fcntl.h>
#include <inttypes.h>
#include <linux/bpf.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>

#include "runtime/runtime-internal.h"

#define ACC_ALL (BPF_DEVCG_ACC_MKNOD | BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE)
#define MAX_RULES 1024
#define MAX_ATTACHED 64

struct dev_rule {
        int type;               /* BPF_DEVCG_DEV_BLOCK, _CHAR, or 0 for both */
        int64_t major, minor;   /* -1: any */
        unsigned int access;    /* BPF_DEVCG_ACC_* */
        bool allow;
};

struct dev_set {
        bool allow;             /* the default verdict */
        size_t n;
        struct dev_rule rule[MAX_RULES];        /* in order: the last match wins */
};

/* The devices every container gets (runc's list): mknod of anything, null,
 * zero, full, random, urandom, tty, console, ptmx, pts, tun; the same list
 * as apply_devices_v1(). */
static const struct dev_rule default_allowed[] = {
        { BPF_DEVCG_DEV_CHAR, -1, -1, BPF_DEVCG_ACC_MKNOD, true },
        { BPF_DEVCG_DEV_BLOCK, -1, -1, BPF_DEVCG_ACC_MKNOD, true },
        { BPF_DEVCG_DEV_CHAR, 1, 3, ACC_ALL, true }, { BPF_DEVCG_DEV_CHAR, 1, 5, ACC_ALL, true },
        { BPF_DEVCG_DEV_CHAR, 1, 7, ACC_ALL, true }, { BPF_DEVCG_DEV_CHAR, 1, 8, ACC_ALL, true },
        { BPF_DEVCG_DEV_CHAR, 1, 9, ACC_ALL, true }, { BPF_DEVCG_DEV_CHAR, 5, 0, ACC_ALL, true },
        { BPF_DEVCG_DEV_CHAR, 5, 1, ACC_ALL, true }, { BPF_DEVCG_DEV_CHAR, 5, 2, ACC_ALL, true },
        { BPF_DEVCG_DEV_CHAR, 136, -1, ACC_ALL, true }, { BPF_DEVCG_DEV_CHAR, 10, 200, ACC_ALL, true },
};

static int set_add(struct dev_set *s, const struct dev_rule *r)
{
        if (!r->type && r->major == -1 && r->minor == -1 && r->access == ACC_ALL) {
                s->allow = r->allow;    /* everything: a new default, earlier rules are moot */
                s->n = 0;
                return 0;
        }
        if (s->n == MAX_RULES)
                return -E2BIG;
        s->rule[s->n++] = *r;
        return 0;
}

static int parse_access(const char *s, unsigned int *ret)
{
        *ret = 0;
        if (!s || !*s) {
                *ret = ACC_ALL;
                return 0;
        }
        for (; *s; s++) {
                if (*s == 'r')
                        *ret |= BPF_DEVCG_ACC_READ;
                else if (*s == 'w')
                        *ret |= BPF_DEVCG_ACC_WRITE;
                else if (*s == 'm')
                        *ret |= BPF_DEVCG_ACC_MKNOD;
                else
                        return -EINVAL;
        }
        return 0;
}

static bool dev_num(const cJSON *o, const char *key, int64_t *ret, bool *bad)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        *ret = -1;
        if (!v || cJSON_IsNull(v))
                return false;
        if (!cJSON_IsNumber(v) || v->valuedouble > INT32_MAX || v->valuedouble < -1) {
                *bad = true;
                return false;
        }
        *ret = (int64_t)v->valuedouble;
        return true;
}

static int set_build(struct dev_set *s, const cJSON *devs, struct berth_err *err)
{
        const cJSON *it;

        s->allow = true;
        s->n = 0;
        cJSON_ArrayForEach(it, devs) {
                const char *type = berth_json_str(it, "type");
                struct dev_rule rule;
                bool bad = false;

                rule.allow = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "allow"));
                (void)dev_num(it, "major", &rule.major, &bad);
                (void)dev_num(it, "minor", &rule.minor, &bad);
                if (bad)
                        return berth_err_set(err, EINVAL, "devices: invalid major or minor number");
                if (parse_access(berth_json_str(it, "access"), &rule.access) < 0)
                        return berth_err_set(err, EINVAL, "devices: invalid access '%s'", berth_json_str(it, "access"));
                if (!type || !*type || !strcmp(type, "a"))
                        rule.type = 0;
                else if (!strcmp(type, "c") || !strcmp(type, "u"))
                        rule.type = BPF_DEVCG_DEV_CHAR;
                else if (!strcmp(type, "b"))
                        rule.type = BPF_DEVCG_DEV_BLOCK;
                else if (!strcmp(type, "p"))
                        continue;       /* fifos are not subject to the device controller */
                else
                        return berth_err_set(err, EINVAL, "devices: invalid type '%s'", type);
                if (set_add(s, &rule) < 0)
                        return berth_err_set(err, E2BIG, "devices: more than %d rules", MAX_RULES);
        }
        for (size_t i = 0; i < ARRAY_SIZE(default_allowed); i++)
                if (set_add(s, &default_allowed[i]) < 0)
                        return berth_err_set(err, E2BIG, "devices: more than %d rules", MAX_RULES);
        return 0;
}

/* ---- the program ---- */
#define INSN(c, d, s, o, i) ((struct bpf_insn){ .code = (c), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })
#define LDX_W(d, s, o) INSN(BPF_LDX | BPF_MEM | BPF_W, d, s, o, 0)
#define MOV_X(d, s) INSN(BPF_ALU64 | BPF_MOV | BPF_X, d, s, 0, 0)
#define MOV_K(d, i) INSN(BPF_ALU64 | BPF_MOV | BPF_K, d, 0, 0, i)
#define AND_K(d, i) INSN(BPF_ALU64 | BPF_AND | BPF_K, d, 0, 0, i)
#define RSH_K(d, i) INSN(BPF_ALU64 | BPF_RSH | BPF_K, d, 0, 0, i)
#define XOR_K(d, i) INSN(BPF_ALU64 | BPF_XOR | BPF_K, d, 0, 0, i)
#define OR_X(d, s) INSN(BPF_ALU64 | BPF_OR | BPF_X, d, s, 0, 0)
#define JNE_K(d, i) INSN(BPF_JMP | BPF_JNE | BPF_K, d, 0, 0, i)
#define JEQ_K(d, i) INSN(BPF_JMP | BPF_JEQ | BPF_K, d, 0, 0, i)
#define EXIT() INSN(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

/* Worst case instructions for n rules: per kind 6 loads, 3, 11 per rule and
 * 2; 1 + 2 around. */
#define KIND_MAX(n) (11 + (n) * 11)
#define PROG_MAX(n) (3 + 3 * KIND_MAX(n))
_Static_assert(KIND_MAX(MAX_RULES) < INT16_MAX, "jumps within a kind must fit in 16 bits");

/* r1 = (reg ^ val) for the first term of a rule's match, r1 |= (reg ^ val) after. */
static size_t match_term(struct bpf_insn *p, size_t n, bool first, int reg, int32_t val)
{
        int dst = first ? BPF_REG_1 : BPF_REG_0;

        p[n++] = MOV_X(dst, reg);
        p[n++] = XOR_K(dst, val);
        if (!first)
                p[n++] = OR_X(BPF_REG_1, BPF_REG_0);
        return n;
}

/* registers: r6 the context, r2 type, r3 access, r4 major, r5 minor, r0 and
 * r1 scratch.  For each kind of access asked, the rules from last to first:
 * the first that names the device and the kind decides (allow: on to the next
 * kind; deny: exit 0), none: the default.  All kinds allowed: exit 1.
 *
 * Written for the verifier's sake: a rule compares a XOR of the fields with
 * its values to zero, so that no path teaches the verifier anything about
 * r2-r5; and each kind reloads them from the context.  Every path into a rule
 * or a kind then has the same state and is pruned after the first; with
 * plain compares on r2-r5 the states multiply with the rules and a few
 * hundred of them exceed the verifier's complexity limit. */
static size_t prog_build(const struct dev_set *s, struct bpf_insn *p)
{
        static const unsigned int kinds[] = { BPF_DEVCG_ACC_MKNOD, BPF_DEVCG_ACC_READ, BPF_DEVCG_ACC_WRITE };
        size_t n = 0;

        p[n++] = MOV_X(BPF_REG_6, BPF_REG_1);
        for (size_t k = 0; k < ARRAY_SIZE(kinds); k++) {
                size_t start;

                p[n++] = LDX_W(BPF_REG_2, BPF_REG_6, offsetof(struct bpf_cgroup_dev_ctx, access_type));
                p[n++] = MOV_X(BPF_REG_3, BPF_REG_2);
                p[n++] = AND_K(BPF_REG_2, 0xffff);
                p[n++] = RSH_K(BPF_REG_3, 16);
                p[n++] = LDX_W(BPF_REG_4, BPF_REG_6, offsetof(struct bpf_cgroup_dev_ctx, major));
                p[n++] = LDX_W(BPF_REG_5, BPF_REG_6, offsetof(struct bpf_cgroup_dev_ctx, minor));
                /* this kind not asked: next kind */
                start = n;
                p[n++] = MOV_X(BPF_REG_1, BPF_REG_3);
                p[n++] = AND_K(BPF_REG_1, (int32_t)kinds[k]);
                p[n++] = JEQ_K(BPF_REG_1, 0);
                for (size_t i = s->n; i-- > 0;) {
                        const struct dev_rule *e = &s->rule[i];
                        bool first = true;
                        size_t jne = 0;

                        if (!(e->access & kinds[k]))
                                continue;
                        if (e->type) {
                                n = match_term(p, n, first, BPF_REG_2, e->type);
                                first = false;
                        }
                        if (e->major >= 0) {
                                n = match_term(p, n, first, BPF_REG_4, (int32_t)e->major);
                                first = false;
                        }
                        if (e->minor >= 0) {
                                n = match_term(p, n, first, BPF_REG_5, (int32_t)e->minor);
                                first = false;
                        }
                        if (!first) {
                                jne = n;
                                p[n++] = JNE_K(BPF_REG_1, 0);
                        }
                        if (e->allow) {
                                /* decided: a jump to the next kind, patched below */
                                p[n++] = INSN(BPF_JMP | BPF_JA, 0, 0, INT16_MIN, 0);
                        } else {
                                p[n++] = MOV_K(BPF_REG_0, 0);
                                p[n++] = EXIT();
                        }
                        /* a mismatch goes to the next rule */
                        if (jne)
                                p[jne].off = (int16_t)(n - (jne + 1));
                }
                if (!s->allow) {
                        p[n++] = MOV_K(BPF_REG_0, 0);
                        p[n++] = EXIT();
                }
                /* the "not asked" test and every allow go to the next kind */
                p[start + 2].off = (int16_t)(n - (start + 3));
                for (size_t j = start + 3; j < n; j++)
                        if (p[j].code == (BPF_JMP | BPF_JA) && p[j].off == INT16_MIN)
                                p[j].off = (int16_t)(n - (j + 1));
        }
        p[n++] = MOV_K(BPF_REG_0, 1);
        p[n++] = EXIT();
        return n;
}

static long sys_bpf(int cmd, union bpf_attr *a)
{
        return syscall(SYS_bpf, cmd, a, sizeof(*a));
}

static int prog_load(const struct bpf_insn *p, size_t n, struct berth_err *err)
{
        static char log[4096];
        union bpf_attr a;
        int fd;

        memset(&a, 0, sizeof(a));
        a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
        a.insns = (uint64_t)(uintptr_t)p;
        a.insn_cnt = (uint32_t)n;
        a.license = (uint64_t)(uintptr_t)"Apache";
        fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
        if (fd < 0 && errno == EPERM) {
                /* kernels before 5.11 charge programs to RLIMIT_MEMLOCK: raise
                 * it for the load only, the container must not inherit it */
                struct rlimit old, inf = { RLIM_INFINITY, RLIM_INFINITY };
                if (getrlimit(RLIMIT_MEMLOCK, &old) == 0 && setrlimit(RLIMIT_MEMLOCK, &inf) == 0) {
                        fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
                        int e = errno;
                        (void)setrlimit(RLIMIT_MEMLOCK, &old);
                        errno = e;
                }
        }
        if (fd < 0 && errno != EPERM && errno != ENOSYS) {
                int e = errno;
                a.log_buf = (uint64_t)(uintptr_t)log;
                a.log_size = sizeof(log);
                a.log_level = 1;
                log[0] = '\0';
                (void)sys_bpf(BPF_PROG_LOAD, &a);
                errno = e;
                rt_debug("device filter rejected by the verifier: %s", log);
        }
        if (fd < 0)
                return berth_err_set(err, errno, "devices: load the eBPF device filter: %s", strerror(errno));
        return fd;
}

/* Program ids attached to cgfd for BPF_CGROUP_DEVICE. */
static int prog_query(int cgfd, uint32_t *ids, uint32_t cap, struct berth_err *err)
{
        union bpf_attr a;

        memset(&a, 0, sizeof(a));
        a.query.target_fd = (uint32_t)cgfd;
        a.query.attach_type = BPF_CGROUP_DEVICE;
        a.query.prog_ids = (uint64_t)(uintptr_t)ids;
        a.query.prog_cnt = cap;
        if (sys_bpf(BPF_PROG_QUERY, &a) < 0)
                return berth_err_set(err, errno, "devices: query attached programs: %s", strerror(errno));
        return (int)a.query.prog_cnt;
}

int rt_devices_v2_apply(const char *dir, const cJSON *devs, struct berth_err *err)
{
        _cleanup_free_ struct dev_set *s = xmalloc(sizeof(*s));
        _cleanup_free_ struct bpf_insn *p = NULL;
        _cleanup_close_ int cgfd = -1, prog = -1;
        uint32_t old[MAX_ATTACHED];
        union bpf_attr a;
        size_t n;
        int nold, r;

        r = set_build(s, devs, err);
        if (r < 0)
                return r;
        p = xcalloc(PROG_MAX(s->n), sizeof(*p));
        n = prog_build(s, p);
        cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cgfd < 0)
                return berth_err_set(err, errno, "devices: open %s: %s", dir, strerror(errno));
        nold = prog_query(cgfd, old, MAX_ATTACHED, err);
        if (nold < 0)
                return nold;
        prog = prog_load(p, n, err);
        if (prog < 0)
                return prog;
        memset(&a, 0, sizeof(a));
        a.target_fd = (uint32_t)cgfd;
        a.attach_bpf_fd = (uint32_t)prog;
        a.attach_type = BPF_CGROUP_DEVICE;
        a.attach_flags = BPF_F_ALLOW_MULTI;
        if (sys_bpf(BPF_PROG_ATTACH, &a) < 0)
                return berth_err_set(err, errno, "devices: attach the device filter to %s: %s", dir, strerror(errno));
        /* the new program is in force (all attached ones must allow): drop the old */
        for (int i = 0; i < nold; i++) {
                _cleanup_close_ int ofd = -1;

                memset(&a, 0, sizeof(a));
                a.prog_id = old[i];
                ofd = (int)sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
                if (ofd < 0) {
                        if (errno == ENOENT)
                                continue;
                        return berth_err_set(err, errno, "devices: old device filter %u: %s", old[i], strerror(errno));
                }
                memset(&a, 0, sizeof(a));
                a.target_fd = (uint32_t)cgfd;
                a.attach_bpf_fd = (uint32_t)ofd;
                a.attach_type = BPF_CGROUP_DEVICE;
                if (sys_bpf(BPF_PROG_DETACH, &a) < 0 && errno != ENOENT)
                        return berth_err_set(err, errno, "devices: detach old device filter %u: %s", old[i],
                                             strerror(errno));
        }
        rt_debug("cgroup v2 device filter: %zu rules, default %s, %zu instructions", s->n,
                 s->allow ? "allow" : "deny", n);
        return 0;
}
