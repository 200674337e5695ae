/* SPDX-License-Identifier: Apache-2.0
 * runtime/spec.c -- Docker create request -> OCI config.json, with Docker's
 * defaults (capabilities, mounts, masked paths, devices, seccomp) and its
 * validation of the HostConfig fields the CLI sends.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>

#include "runtime/spec.h"

#define MIN_MEMORY (6LL * 1024 * 1024)
#define PASSWD_MAX (4 * 1024 * 1024)

/* ------------------------------------------------------------------ */
/* capabilities                                                        */

static const char *const cap_names[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID",
        "CAP_KILL", "CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE",
        "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW",
        "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT",
        "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
        "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
        "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE",
        "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ",
        "CAP_PERFMON", "CAP_BPF", "CAP_CHECKPOINT_RESTORE",
};

const char *const spec_default_caps[] = {
        "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
        "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE",
        "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE", NULL,
};

const char *spec_cap_name(int cap)
{
        if (cap < 0 || (size_t)cap >= ARRAY_SIZE(cap_names))
                return NULL;
        return cap_names[cap];
}

int spec_cap_from_name(const char *name)
{
        if (!name)
                return -EINVAL;
        if (!strncasecmp(name, "CAP_", 4))
                name += 4;
        for (size_t i = 0; i < ARRAY_SIZE(cap_names); i++)
                if (!strcasecmp(cap_names[i] + 4, name))
                        return (int)i;
        return -EINVAL;
}

/* The caller's bounding set: a container cannot get more. */
static uint64_t bounding_set(void)
{
        _cleanup_free_ char *s = NULL;
        uint64_t all = (1ULL << ARRAY_SIZE(cap_names)) - 1;
        const char *p;

        if (berth_read_file("/proc/self/status", 1 << 16, &s, NULL, NULL) < 0)
                return all;
        p = strstr(s, "\nCapBnd:");
        if (!p)
                return all;
        return strtoull(p + 8, NULL, 16) & all;
}

static bool is_all(const char *s)
{
        return !strcasecmp(s, "ALL") || !strcasecmp(s, "CAP_ALL");
}

static int caps_list(const cJSON *list, uint64_t *mask, bool *has_all, struct berth_err *err)
{
        const cJSON *e;

        *mask = 0;
        *has_all = false;
        cJSON_ArrayForEach(e, list) {
                int c;
                if (!cJSON_IsString(e))
                        return berth_err_pub(err, EINVAL, "invalid capability: not a string");
                if (is_all(e->valuestring)) {
                        *has_all = true;
                        continue;
                }
                c = spec_cap_from_name(e->valuestring);
                if (c < 0) {
                        const char *n = e->valuestring;
                        return berth_err_pub(err, EINVAL, "unknown capability: \"%s%s\"",
                                             strncasecmp(n, "CAP_", 4) ? "CAP_" : "", n);
                }
                *mask |= 1ULL << c;
        }
        return 0;
}

int spec_caps_compute(const cJSON *cap_add, const cJSON *cap_drop, bool privileged,
                      uint64_t *ret_mask, struct berth_err *err)
{
        uint64_t add, drop, all = bounding_set(), m = 0;
        bool add_all, drop_all;
        int r;

        if (privileged) {
                *ret_mask = all;
                return 0;
        }
        r = caps_list(cap_add, &add, &add_all, err);
        if (r < 0)
                return r;
        r = caps_list(cap_drop, &drop, &drop_all, err);
        if (r < 0)
                return r;
        if (add_all) {
                m = all & ~drop;
        } else if (drop_all) {
                m = add;
        } else {
                for (const char *const *c = spec_default_caps; *c; c++)
                        m |= 1ULL << spec_cap_from_name(*c);
                m = (m & ~drop) | add;
        }
        *ret_mask = m;
        return 0;
}

/* ------------------------------------------------------------------ */
/* small parsers                                                       */

static const char *const sig_names[] = {
        NULL, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1", "SEGV",
        "USR2", "PIPE", "ALRM", "TERM", "STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
        "URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR", "SYS",
};

int spec_parse_signal(const char *s)
{
        int64_t n;

        if (!s || !*s)
                return -EINVAL;
        if (berth_parse_int64(s, &n) == 0)
                return n > 0 && n <= SIGRTMAX ? (int)n : -EINVAL;
        if (!strncasecmp(s, "SIG", 3))
                s += 3;
        for (size_t i = 1; i < ARRAY_SIZE(sig_names); i++)
                if (!strcasecmp(s, sig_names[i]))
                        return (int)i;
        if (!strcasecmp(s, "IOT"))
                return SIGABRT;
        if (!strcasecmp(s, "CLD"))
                return SIGCHLD;
        if (!strcasecmp(s, "POLL"))
                return SIGIO;
        if (!strncasecmp(s, "RTMIN", 5) || !strncasecmp(s, "RTMAX", 5)) {
                bool max = toupper((unsigned char)s[3]) == 'A';
                int base = max ? SIGRTMAX : SIGRTMIN;
                const char *t = s + 5;
                if (!*t)
                        return base;
                if ((*t != '+' && *t != '-') || berth_parse_int64(t + 1, &n) < 0)
                        return -EINVAL;
                n = *t == '+' ? base + n : base - n;
                return n >= SIGRTMIN && n <= SIGRTMAX ? (int)n : -EINVAL;
        }
        return -EINVAL;
}

int spec_parse_bytes(const char *s, int64_t *ret)
{
        char *end;
        double v;
        int64_t mult = 1;

        if (!s || !isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        v = strtod(s, &end);
        if (errno || v < 0)
                return -EINVAL;
        while (*end == ' ')
                end++;
        switch (tolower((unsigned char)*end)) {
        case 'k': mult = 1LL << 10; end++; break;
        case 'm': mult = 1LL << 20; end++; break;
        case 'g': mult = 1LL << 30; end++; break;
        case 't': mult = 1LL << 40; end++; break;
        case 'p': mult = 1LL << 50; end++; break;
        default: break;
        }
        if (mult > 1 && tolower((unsigned char)*end) == 'i')
                end++;
        if (tolower((unsigned char)*end) == 'b')
                end++;
        if (*end)
                return -EINVAL;
        if (v * (double)mult >= 9.2e18)
                return -ERANGE;
        *ret = (int64_t)(v * (double)mult);
        return 0;
}

static const char *const ulimit_names[] = {
        "as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
        "nproc", "rss", "rtprio", "rttime", "sigpending", "stack",
};

static bool ulimit_known(const char *n)
{
        for (size_t i = 0; i < ARRAY_SIZE(ulimit_names); i++)
                if (!strcmp(n, ulimit_names[i]))
                        return true;
        return false;
}

int spec_parse_ulimit(const char *s, char *name, size_t name_len, int64_t *soft, int64_t *hard,
                      struct berth_err *err)
{
        const char *eq = strchr(s, '=');
        _cleanup_free_ char *val = NULL;
        char *colon;

        if (!eq || (size_t)(eq - s) >= name_len)
                return berth_err_pub(err, EINVAL, "invalid ulimit argument: %s", s);
        memcpy(name, s, (size_t)(eq - s));
        name[eq - s] = '\0';
        if (!ulimit_known(name))
                return berth_err_pub(err, EINVAL, "invalid ulimit type: %s", name);
        val = xstrdup(eq + 1);
        colon = strchr(val, ':');
        if (colon)
                *colon++ = '\0';
        if (berth_parse_int64(val, soft) < 0)
                return berth_err_pub(err, EINVAL, "invalid ulimit soft value: %s", val);
        *hard = *soft;
        if (colon && berth_parse_int64(colon, hard) < 0)
                return berth_err_pub(err, EINVAL, "invalid ulimit hard value: %s", colon);
        if (*soft > *hard && *hard != -1)
                return berth_err_pub(err, EINVAL,
                                     "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                                     (long long)*soft, (long long)*hard);
        return 0;
}

static bool valid_dev_mode(const char *m)
{
        if (!*m || strlen(m) > 3)
                return false;
        for (const char *p = m; *p; p++)
                if (!strchr("rwm", *p) || strchr(p + 1, *p))
                        return false;
        return true;
}

int spec_parse_device(const char *s, cJSON **ret, struct berth_err *err)
{
        _cleanup_free_ char *copy = xstrdup(s);
        char *parts[4] = { 0 };
        size_t n = 0;
        const char *src, *dst, *mode = "rwm";
        cJSON *o;

        for (char *p = copy, *tok; n < 4 && (tok = strsep(&p, ":"));)
                parts[n++] = tok;
        src = parts[0];
        dst = parts[0];
        switch (n) {
        case 3:
                if (!valid_dev_mode(parts[2]))
                        return berth_err_pub(err, EINVAL, "bad mode specified: %s", parts[2]);
                mode = parts[2];
                dst = parts[1];
                break;
        case 2:
                if (valid_dev_mode(parts[1]))
                        mode = parts[1];
                else
                        dst = parts[1];
                break;
        case 1:
                break;
        default:
                return berth_err_pub(err, EINVAL, "invalid device specification: %s", s);
        }
        if (!*src || src[0] != '/' || !*dst || dst[0] != '/')
                return berth_err_pub(err, EINVAL, "invalid device specification: %s", s);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "PathOnHost", src);
        cJSON_AddStringToObject(o, "PathInContainer", dst);
        cJSON_AddStringToObject(o, "CgroupPermissions", mode);
        *ret = o;
        return 0;
}

bool spec_sysctl_namespaced(const char *key, const char **ns)
{
        static const char *const ipc[] = {
                "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem",
                "kernel.shmall", "kernel.shmmax", "kernel.shmmni", "kernel.shm_rmid_forced",
        };
        const char *dummy;

        if (!ns)
                ns = &dummy;
        for (size_t i = 0; i < ARRAY_SIZE(ipc); i++)
                if (!strcmp(key, ipc[i])) {
                        *ns = "ipc";
                        return true;
                }
        if (berth_str_has_prefix(key, "fs.mqueue.")) {
                *ns = "ipc";
                return true;
        }
        if (berth_str_has_prefix(key, "net.")) {
                *ns = "net";
                return true;
        }
        if (!strcmp(key, "kernel.domainname") || !strcmp(key, "kernel.hostname")) {
                *ns = "uts";
                return true;
        }
        return false;
}

/* ------------------------------------------------------------------ */
/* users                                                               */

void spec_user_release(struct spec_user *u)
{
        free(u->gids);
        free(u->home);
        u->gids = NULL;
        u->home = NULL;
        u->n_gids = 0;
}

/* Read rootfs/rel with every component resolved inside rootfs.  A missing
 * file gives *ret NULL and 0. */
static int read_in_root(const char *rootfs, const char *rel, char **ret, struct berth_err *err)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        struct open_how how = { .flags = O_RDONLY | O_CLOEXEC,
                                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
        struct buf b = BUF_INIT;
        char chunk[8192];

        *ret = NULL;
        dfd = open(rootfs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return berth_err_set(err, errno, "open rootfs %s: %s", rootfs, strerror(errno));
        fd = (int)syscall(SYS_openat2, dfd, rel, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS) {
                /* old kernel: refuse every symlink instead */
                _cleanup_close_ int etc = openat(dfd, "etc", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                fd = etc < 0 ? -1 : openat(etc, strrchr(rel, '/') + 1, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (fd < 0) {
                if (errno == ENOENT)
                        return 0;
                return berth_err_set(err, errno, "open %s in rootfs: %s", rel, strerror(errno));
        }
        for (;;) {
                ssize_t n = read(fd, chunk, sizeof(chunk));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        int e = errno;
                        buf_release(&b);
                        return berth_err_set(err, e, "read %s in rootfs: %s", rel, strerror(e));
                }
                if (n == 0)
                        break;
                if (b.len + (size_t)n > PASSWD_MAX) {
                        buf_release(&b);
                        return berth_err_set(err, EFBIG, "%s in rootfs is too large", rel);
                }
                buf_add(&b, chunk, (size_t)n);
        }
        buf_cstr(&b);
        *ret = b.data ? buf_detach(&b, NULL) : xstrdup("");
        return 0;
}

static bool parse_id(const char *s, uint32_t *ret)
{
        int64_t v;

        if (berth_parse_int64(s, &v) < 0 || v < 0 || v > UINT32_MAX)
                return false;
        *ret = (uint32_t)v;
        return true;
}

/* Split a colon-separated line into at most n fields (in place). */
static size_t split_fields(char *line, char **f, size_t n)
{
        size_t i = 0;

        while (i < n && line) {
                f[i++] = strsep(&line, ":");
        }
        return i;
}

static void gids_add(struct spec_user *u, uint32_t gid)
{
        for (size_t i = 0; i < u->n_gids; i++)
                if (u->gids[i] == gid)
                        return;
        u->gids = xrealloc(u->gids, (u->n_gids + 1) * sizeof(*u->gids));
        u->gids[u->n_gids++] = gid;
}

/* Find group by name or numeric id in /etc/group text; -ENOENT if absent. */
static int group_lookup(char *group_text, const char *g, uint32_t *ret)
{
        char *save = NULL;

        if (parse_id(g, ret))
                return 0;
        for (char *line = group_text ? strtok_r(group_text, "\n", &save) : NULL; line;
             line = strtok_r(NULL, "\n", &save)) {
                _cleanup_free_ char *l = xstrdup(line);
                char *f[4];
                if (split_fields(l, f, 4) >= 3 && !strcmp(f[0], g) && parse_id(f[2], ret))
                        return 0;
        }
        return -ENOENT;
}

int spec_user_resolve(const char *rootfs, const char *user, const cJSON *group_add,
                      struct spec_user *ret, struct berth_err *err)
{
        _cleanup_free_ char *passwd = NULL, *group = NULL, *uname = NULL, *gname = NULL;
        _cleanup_free_ char *pwname = NULL;
        struct spec_user u = { 0 };
        bool have_gid = false, found = false;
        const cJSON *e;
        char *save = NULL;
        int r;

        if (!user)
                user = "";
        if (*user) {
                const char *c = strchr(user, ':');
                uname = c ? xstrndup(user, (size_t)(c - user)) : xstrdup(user);
                gname = c ? xstrdup(c + 1) : NULL;
        } else {
                uname = xstrdup("0");
        }
        r = read_in_root(rootfs, "/etc/passwd", &passwd, err);
        if (r < 0)
                return r;
        r = read_in_root(rootfs, "/etc/group", &group, err);
        if (r < 0)
                return r;

        bool numeric = parse_id(uname, &u.uid);
        for (char *line = passwd ? strtok_r(passwd, "\n", &save) : NULL; line && !found;
             line = strtok_r(NULL, "\n", &save)) {
                char *f[7];
                uint32_t id;
                if (split_fields(line, f, 7) < 7 || !parse_id(f[2], &id))
                        continue;
                if (numeric ? id == u.uid : !strcmp(f[0], uname)) {
                        found = true;
                        u.uid = id;
                        have_gid = parse_id(f[3], &u.gid);
                        u.home = xstrdup(f[5]);
                        pwname = xstrdup(f[0]);
                }
        }
        if (!found && !numeric)
                return berth_err_pub(err, EINVAL,
                                     "unable to find user %s: no matching entries in passwd file",
                                     uname);
        if (!have_gid)
                u.gid = 0;
        if (gname && *gname) {
                _cleanup_free_ char *copy = group ? xstrdup(group) : NULL;
                if (group_lookup(copy, gname, &u.gid) < 0) {
                        spec_user_release(&u);
                        return berth_err_pub(err, EINVAL,
                                             "unable to find group %s: no matching entries in group file",
                                             gname);
                }
        }
        /* supplementary groups listing the user by name (only when no group was forced) */
        if (pwname && !(gname && *gname) && group) {
                _cleanup_free_ char *copy = xstrdup(group);
                char *s2 = NULL;
                for (char *line = strtok_r(copy, "\n", &s2); line; line = strtok_r(NULL, "\n", &s2)) {
                        char *f[4], *m, *ms = NULL;
                        uint32_t gid;
                        if (split_fields(line, f, 4) < 4 || !parse_id(f[2], &gid))
                                continue;
                        for (m = strtok_r(f[3], ",", &ms); m; m = strtok_r(NULL, ",", &ms))
                                if (!strcmp(m, pwname) && gid != u.gid)
                                        gids_add(&u, gid);
                }
        }
        cJSON_ArrayForEach(e, group_add) {
                _cleanup_free_ char *copy = group ? xstrdup(group) : NULL;
                uint32_t gid;
                if (!cJSON_IsString(e) || group_lookup(copy, e->valuestring, &gid) < 0) {
                        spec_user_release(&u);
                        return berth_err_pub(err, EINVAL,
                                             "unable to find group %s: no matching entries in group file",
                                             cJSON_IsString(e) ? e->valuestring : "?");
                }
                gids_add(&u, gid);
        }
        if (!u.home || !*u.home) {
                free(u.home);
                u.home = xstrdup("/");
        }
        *ret = u;
        return 0;
}

/* ------------------------------------------------------------------ */
/* image config merge                                                  */

static bool env_key_eq(const char *a, const char *b)
{
        size_t la = strcspn(a, "="), lb = strcspn(b, "=");
        return la == lb && !strncmp(a, b, la);
}

/* Replace entries of env (array) that share a key with v, else append. */
static void env_set(cJSON *env, const char *v)
{
        cJSON *e;
        int i = 0;

        cJSON_ArrayForEach(e, env) {
                if (cJSON_IsString(e) && env_key_eq(e->valuestring, v)) {
                        cJSON_ReplaceItemInArray(env, i, cJSON_CreateString(v));
                        return;
                }
                i++;
        }
        cJSON_AddItemToArray(env, cJSON_CreateString(v));
}

static bool env_has(const cJSON *env, const char *key)
{
        const cJSON *e;
        size_t n = strlen(key);

        cJSON_ArrayForEach(e, env)
                if (cJSON_IsString(e) && !strncmp(e->valuestring, key, n) && e->valuestring[n] == '=')
                        return true;
        return false;
}

static bool str_empty(const cJSON *o, const char *key)
{
        const char *s = berth_json_str(o, key);
        return !s || !*s;
}

static void take_if_empty(cJSON *out, const cJSON *img, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(img, key);

        if (v && str_empty(out, key) && cJSON_IsString(v) && *v->valuestring) {
                cJSON_DeleteItemFromObjectCaseSensitive(out, key);
                cJSON_AddItemToObject(out, key, cJSON_Duplicate(v, true));
        }
}

static void merge_map(cJSON *out, const cJSON *img, const char *key)
{
        const cJSON *im = cJSON_GetObjectItemCaseSensitive(img, key), *e;
        cJSON *om;

        if (!cJSON_IsObject(im) || !im->child)
                return;
        om = cJSON_GetObjectItemCaseSensitive(out, key);
        if (!cJSON_IsObject(om)) {
                cJSON_DeleteItemFromObjectCaseSensitive(out, key);
                om = cJSON_AddObjectToObject(out, key);
        }
        cJSON_ArrayForEach(e, im)
                if (!cJSON_GetObjectItemCaseSensitive(om, e->string))
                        cJSON_AddItemToObject(om, e->string, cJSON_Duplicate(e, true));
}

int spec_merge_image_config(const cJSON *config, const cJSON *img, cJSON **ret,
                            struct berth_err *err)
{
        cJSON *out = config ? cJSON_Duplicate(config, true) : cJSON_CreateObject();
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(out, "Entrypoint");
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(out, "Cmd");
        const cJSON *e;
        cJSON *env;

        (void)err;
        if (!cJSON_IsObject(img)) {
                *ret = out;
                return 0;
        }
        /* Env: the image's first, the container's replacing by key */
        env = cJSON_CreateArray();
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(img, "Env"))
                if (cJSON_IsString(e))
                        env_set(env, e->valuestring);
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(out, "Env"))
                if (cJSON_IsString(e))
                        env_set(env, e->valuestring);
        cJSON_DeleteItemFromObjectCaseSensitive(out, "Env");
        cJSON_AddItemToObject(out, "Env", env);

        /* Entrypoint/Cmd: a client Entrypoint discards the image Cmd */
        if (cJSON_GetArraySize(ep) == 0) {
                if (cJSON_GetArraySize(cmd) == 0) {
                        const cJSON *ic = cJSON_GetObjectItemCaseSensitive(img, "Cmd");
                        cJSON_DeleteItemFromObjectCaseSensitive(out, "Cmd");
                        cJSON_AddItemToObject(out, "Cmd", ic ? cJSON_Duplicate(ic, true) : cJSON_CreateNull());
                }
                if (!ep || cJSON_IsNull(ep)) {
                        const cJSON *ie = cJSON_GetObjectItemCaseSensitive(img, "Entrypoint");
                        cJSON_DeleteItemFromObjectCaseSensitive(out, "Entrypoint");
                        cJSON_AddItemToObject(out, "Entrypoint", ie ? cJSON_Duplicate(ie, true) : cJSON_CreateNull());
                }
        }
        take_if_empty(out, img, "WorkingDir");
        take_if_empty(out, img, "User");
        take_if_empty(out, img, "StopSignal");
        merge_map(out, img, "Labels");
        merge_map(out, img, "ExposedPorts");
        merge_map(out, img, "Volumes");
        if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(out, "Healthcheck")) &&
            cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(img, "Healthcheck"))) {
                cJSON_DeleteItemFromObjectCaseSensitive(out, "Healthcheck");
                cJSON_AddItemToObject(out, "Healthcheck",
                                      cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(img, "Healthcheck"), true));
        }
        *ret = out;
        return 0;
}

/* ------------------------------------------------------------------ */
/* generation                                                          */

struct gen {
        const struct spec_input *in;
        const cJSON *cfg, *hc;
        cJSON *spec, *process, *lx, *res, *mounts;
        cJSON *user_mounts;             /* collected, sorted, then appended */
        struct berth_err *err;
        uint64_t caps;
        bool privileged, host_net, host_ipc, host_pid, host_uts;
        bool dry_run;                   /* spec_validate: no host side effects */
};

static int64_t hc_int(const struct gen *g, const char *key)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(g->hc, key);
        return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

static const char *hc_str(const struct gen *g, const char *key)
{
        const char *s = berth_json_str(g->hc, key);
        return s ? s : "";
}

static void add_strs(cJSON *a, const char *const *v)
{
        for (; *v; v++)
                cJSON_AddItemToArray(a, cJSON_CreateString(*v));
}

static cJSON *add_mount(cJSON *arr, const char *dst, const char *type, const char *src,
                        const char *const *opts)
{
        cJSON *m = cJSON_CreateObject();

        cJSON_AddStringToObject(m, "destination", dst);
        cJSON_AddStringToObject(m, "type", type);
        cJSON_AddStringToObject(m, "source", src);
        add_strs(cJSON_AddArrayToObject(m, "options"), opts);
        cJSON_AddItemToArray(arr, m);
        return m;
}

static bool user_mounted_exact(const struct gen *g, const char *dst)
{
        const cJSON *m;

        cJSON_ArrayForEach(m, g->user_mounts) {
                const char *d = berth_json_str(m, "destination");
                if (d && !strcmp(d, dst))
                        return true;
        }
        return false;
}

/* A default mount is dropped when the user mounts the same place, or /dev
 * for anything under /dev (Docker). */
static bool user_mounted(const struct gen *g, const char *dst)
{
        return user_mounted_exact(g, dst) ||
               (berth_str_has_prefix(dst, "/dev/") && user_mounted_exact(g, "/dev"));
}

/* Clean an absolute container path: collapse "//", "/./", trailing "/". */
static char *clean_path(const char *p)
{
        char *out = xmalloc(strlen(p) + 2), *o = out;

        *o++ = '/';
        while (*p) {
                size_t n;
                p += strspn(p, "/");
                n = strcspn(p, "/");
                if (n == 0)
                        break;
                if (n == 1 && p[0] == '.') {
                        p += n;
                        continue;
                }
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        while (o > out + 1 && o[-1] != '/')
                                o--;
                        if (o > out + 1)
                                o--;
                        while (o > out + 1 && o[-1] != '/')
                                o--;
                        p += n;
                        continue;
                }
                if (o > out + 1 && o[-1] != '/')
                        *o++ = '/';
                memcpy(o, p, n);
                o += n;
                p += n;
        }
        if (o > out + 1 && o[-1] == '/')
                o--;
        *o = '\0';
        return out;
}

static size_t path_depth(const char *p)
{
        size_t n = 0;

        for (; *p; p++)
                if (*p == '/')
                        n++;
        return n;
}

static bool is_propagation(const char *s)
{
        static const char *const v[] = { "private", "rprivate", "shared", "rshared", "slave",
                                         "rslave", NULL };
        for (const char *const *p = v; *p; p++)
                if (!strcmp(s, *p))
                        return true;
        return false;
}

/* A bind (or resolved volume) mount with Docker's options. */
static cJSON *user_bind(struct gen *g, const char *src, const char *dst, bool ro,
                        const char *propagation, bool nonrecursive)
{
        cJSON *m = cJSON_CreateObject(), *o;
        _cleanup_free_ char *d = clean_path(dst);

        cJSON_AddStringToObject(m, "destination", d);
        cJSON_AddStringToObject(m, "type", "bind");
        cJSON_AddStringToObject(m, "source", src);
        o = cJSON_AddArrayToObject(m, "options");
        cJSON_AddItemToArray(o, cJSON_CreateString(nonrecursive ? "bind" : "rbind"));
        if (ro)
                cJSON_AddItemToArray(o, cJSON_CreateString("ro"));
        cJSON_AddItemToArray(o, cJSON_CreateString(propagation && *propagation ? propagation : "rprivate"));
        cJSON_AddItemToArray(g->user_mounts, m);
        return m;
}

static int resolve_volume(struct gen *g, const char *name, char **ret)
{
        if (!g->in->resolve_volume)
                return berth_err_set(g->err, ENOTSUP, "no volume resolver for volume %s", name);
        return g->in->resolve_volume(g->in->resolve_ctx, name, ret, g->err);
}

/* The anonymous volume made at create for destination dst ("-v /path", a
 * --mount volume without source, an image VOLUME): daemon-side storage
 * keeps the MountPoints in HostConfig.BerthMountPoints.  NULL: none. */
static const char *anon_volume(struct gen *g, const char *dst)
{
        _cleanup_free_ char *d = clean_path(dst);
        const cJSON *m;

        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(g->hc, "BerthMountPoints")) {
                const char *md = berth_json_str(m, "Destination");

                if (md && !strcmp(md, d) && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "Anonymous")))
                        return berth_json_str(m, "Name");
        }
        return NULL;
}

/* An anonymous volume at dst; in spec_validate (before create made it)
 * nothing.  Without one (a caller that made none): -EINVAL with what. */
static int anon_bind(struct gen *g, const char *dst, bool ro, const char *what)
{
        _cleanup_free_ char *path = NULL;
        const char *name = anon_volume(g, dst);
        int r;

        if (!name) {
                if (g->dry_run)
                        return 0;
                return berth_err_pub(g->err, EINVAL, "%s", what);
        }
        r = resolve_volume(g, name, &path);
        if (r < 0)
                return r;
        user_bind(g, path, dst, ro, NULL, false);
        return 0;
}

/* Config.Volumes (the image's VOLUME and "-v /path" from the CLI): the
 * anonymous volumes made at create, where no user mount is. */
static int do_image_volumes(struct gen *g)
{
        const cJSON *e, *m;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->cfg, "Volumes")) {
                _cleanup_free_ char *d = NULL;
                _cleanup_free_ char *path = NULL;
                const char *name;
                bool covered = false;
                int r;

                if (!e->string || e->string[0] != '/')
                        continue;
                d = clean_path(e->string);
                cJSON_ArrayForEach(m, g->user_mounts) {
                        const char *md = berth_json_str(m, "destination");
                        if (md && !strcmp(md, d))
                                covered = true;
                }
                name = covered ? NULL : anon_volume(g, d);
                if (!name)
                        continue;
                r = resolve_volume(g, name, &path);
                if (r < 0)
                        return r;
                user_bind(g, path, d, false, NULL, false);
        }
        return 0;
}

/* HostConfig.Binds: "src:dst[:opts]"; src absolute (bind) or a volume name;
 * a lone "/dst" is an anonymous volume. */
static int do_binds(struct gen *g)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->hc, "Binds")) {
                _cleanup_free_ char *copy = NULL, *vpath = NULL;
                char *f[4] = { 0 }, *p;
                size_t n = 0;
                bool ro = false;
                const char *prop = NULL;

                if (!cJSON_IsString(e))
                        return berth_err_pub(g->err, EINVAL, "invalid volume specification: not a string");
                copy = xstrdup(e->valuestring);
                p = copy;
                while (n < 4 && p)
                        f[n++] = strsep(&p, ":");
                if (n == 1 && f[0][0] == '/') {
                        _cleanup_free_ char *what = xasprintf("invalid volume specification: '%s'",
                                                              e->valuestring);
                        int r = anon_bind(g, f[0], false, what);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (n < 2 || n > 3 || p || !*f[0] || !*f[1])
                        return berth_err_pub(g->err, EINVAL, "invalid volume specification: '%s'",
                                             e->valuestring);
                if (f[1][0] != '/')
                        return berth_err_pub(g->err, EINVAL,
                                             "invalid volume specification: '%s': invalid mount config for type \"%s\": invalid mount path: '%s' mount path must be absolute",
                                             e->valuestring, f[0][0] == '/' ? "bind" : "volume", f[1]);
                if (n == 3) {
                        char *ms = NULL;
                        for (char *o = strtok_r(f[2], ",", &ms); o; o = strtok_r(NULL, ",", &ms)) {
                                if (!strcmp(o, "ro"))
                                        ro = true;
                                else if (!strcmp(o, "rw"))
                                        ro = false;
                                else if (is_propagation(o))
                                        prop = o;
                                else if (strcmp(o, "z") && strcmp(o, "Z") && strcmp(o, "nocopy") &&
                                         strcmp(o, "copy"))
                                        return berth_err_pub(g->err, EINVAL, "invalid mode: %s", f[2]);
                        }
                }
                {
                        _cleanup_free_ char *d = clean_path(f[1]);
                        if (!strcmp(d, "/"))
                                return berth_err_pub(g->err, EINVAL,
                                                     "invalid specification: destination can't be '/'");
                }
                if (f[0][0] == '/') {
                        /* Docker creates a missing -v source directory */
                        if (!g->dry_run && berth_mkdir_p(f[0], 0755) < 0) {
                                struct stat st;
                                if (stat(f[0], &st) < 0)
                                        return berth_err_pub(g->err, EINVAL,
                                                             "invalid mount config for type \"bind\": bind source path does not exist: %s",
                                                             f[0]);
                        }
                        user_bind(g, f[0], f[1], ro, prop, false);
                } else {
                        int r = resolve_volume(g, f[0], &vpath);
                        if (r < 0)
                                return r;
                        user_bind(g, vpath, f[1], ro, prop, false);
                }
        }
        return 0;
}

static void tmpfs_mount(struct gen *g, const char *dst, const char *user_opts, int64_t size,
                        int64_t mode)
{
        bool noexec = true, nosuid = true, nodev = true, ro = false;
        cJSON *m = cJSON_CreateObject(), *o;
        _cleanup_free_ char *copy = user_opts ? xstrdup(user_opts) : NULL;
        _cleanup_free_ char *d = clean_path(dst);
        char *ms = NULL;

        cJSON_AddStringToObject(m, "destination", d);
        cJSON_AddStringToObject(m, "type", "tmpfs");
        cJSON_AddStringToObject(m, "source", "tmpfs");
        o = cJSON_AddArrayToObject(m, "options");
        for (char *t = copy ? strtok_r(copy, ",", &ms) : NULL; t; t = strtok_r(NULL, ",", &ms)) {
                if (!strcmp(t, "exec"))
                        noexec = false;
                else if (!strcmp(t, "noexec"))
                        noexec = true;
                else if (!strcmp(t, "suid"))
                        nosuid = false;
                else if (!strcmp(t, "nosuid"))
                        nosuid = true;
                else if (!strcmp(t, "dev"))
                        nodev = false;
                else if (!strcmp(t, "nodev"))
                        nodev = true;
                else if (!strcmp(t, "ro"))
                        ro = true;
                else if (!strcmp(t, "rw"))
                        ro = false;
                else
                        cJSON_AddItemToArray(o, cJSON_CreateString(t));
        }
        cJSON_InsertItemInArray(o, 0, cJSON_CreateString(ro ? "ro" : "rw"));
        if (noexec)
                cJSON_AddItemToArray(o, cJSON_CreateString("noexec"));
        if (nosuid)
                cJSON_AddItemToArray(o, cJSON_CreateString("nosuid"));
        if (nodev)
                cJSON_AddItemToArray(o, cJSON_CreateString("nodev"));
        if (size > 0) {
                char b[40];
                snprintf(b, sizeof(b), "size=%lld", (long long)size);
                cJSON_AddItemToArray(o, cJSON_CreateString(b));
        }
        if (mode > 0) {
                char b[40];
                snprintf(b, sizeof(b), "mode=%llo", (long long)mode);
                cJSON_AddItemToArray(o, cJSON_CreateString(b));
        }
        cJSON_AddItemToArray(g->user_mounts, m);
}

/* HostConfig.Mounts: the --mount flag's objects. */
static int do_mounts(struct gen *g)
{
        const cJSON *m;

        cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(g->hc, "Mounts")) {
                const char *type = berth_json_str(m, "Type");
                const char *src = berth_json_str(m, "Source");
                const char *dst = berth_json_str(m, "Target");
                bool ro = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "ReadOnly"));
                const cJSON *bo = cJSON_GetObjectItemCaseSensitive(m, "BindOptions");
                const cJSON *to = cJSON_GetObjectItemCaseSensitive(m, "TmpfsOptions");
                const char *prop = berth_json_str(bo, "Propagation");

                if (!type || !*type)
                        type = "volume";
                if (!dst || dst[0] != '/')
                        return berth_err_pub(g->err, EINVAL,
                                             "invalid mount config for type \"%s\": invalid mount path: '%s' mount path must be absolute",
                                             type, dst ? dst : "");
                if (prop && *prop && !is_propagation(prop))
                        return berth_err_pub(g->err, EINVAL, "invalid propagation mode: %s", prop);
                if (!strcmp(type, "bind")) {
                        struct stat st;
                        if (!src || src[0] != '/')
                                return berth_err_pub(g->err, EINVAL,
                                                     "invalid mount config for type \"bind\": invalid mount path: '%s' mount path must be absolute",
                                                     src ? src : "");
                        if (stat(src, &st) < 0)
                                return berth_err_pub(g->err, EINVAL,
                                                     "invalid mount config for type \"bind\": bind source path does not exist: %s",
                                                     src);
                        user_bind(g, src, dst, ro, prop,
                                  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(bo, "NonRecursive")));
                } else if (!strcmp(type, "volume")) {
                        _cleanup_free_ char *path = NULL;
                        int r;
                        if (!src || !*src) {
                                r = anon_bind(g, dst, ro,
                                              "invalid mount config for type \"volume\": anonymous volumes need a name from the caller");
                                if (r < 0)
                                        return r;
                                continue;
                        }
                        r = resolve_volume(g, src, &path);
                        if (r < 0)
                                return r;
                        user_bind(g, path, dst, ro, NULL, false);
                } else if (!strcmp(type, "tmpfs")) {
                        const cJSON *sz = cJSON_GetObjectItemCaseSensitive(to, "SizeBytes");
                        const cJSON *md = cJSON_GetObjectItemCaseSensitive(to, "Mode");
                        if (src && *src)
                                return berth_err_pub(g->err, EINVAL,
                                                     "invalid mount config for type \"tmpfs\": field Source must not be specified");
                        tmpfs_mount(g, dst, ro ? "ro" : NULL,
                                    cJSON_IsNumber(sz) ? (int64_t)sz->valuedouble : 0,
                                    cJSON_IsNumber(md) ? (int64_t)md->valuedouble : 0);
                } else {
                        return berth_err_pub(g->err, EINVAL, "mount type unknown: \"%s\"", type);
                }
        }
        return 0;
}

static int do_tmpfs(struct gen *g)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->hc, "Tmpfs")) {
                if (!e->string || e->string[0] != '/')
                        return berth_err_pub(g->err, EINVAL, "invalid mount path: '%s' mount path must be absolute",
                                             e->string ? e->string : "");
                tmpfs_mount(g, e->string, cJSON_IsString(e) ? e->valuestring : NULL, 0, 0);
        }
        return 0;
}

static int cmp_depth(const void *a, const void *b)
{
        const cJSON *ma = *(const cJSON *const *)a, *mb = *(const cJSON *const *)b;
        size_t da = path_depth(berth_json_str(ma, "destination"));
        size_t db = path_depth(berth_json_str(mb, "destination"));
        return da < db ? -1 : da > db;
}

/* Parents before children (stable for equal depth). */
static void append_sorted_user_mounts(struct gen *g)
{
        int n = cJSON_GetArraySize(g->user_mounts);
        cJSON **v = xcalloc((size_t)n + 1, sizeof(*v));
        cJSON *m;
        int i = 0;

        cJSON_ArrayForEach(m, g->user_mounts)
                v[i++] = m;
        /* insertion sort: stable */
        for (int a = 1; a < n; a++)
                for (int b = a; b > 0 && cmp_depth(&v[b - 1], &v[b]) > 0; b--) {
                        cJSON *t = v[b];
                        v[b] = v[b - 1];
                        v[b - 1] = t;
                }
        for (i = 0; i < n; i++)
                cJSON_AddItemToArray(g->mounts, cJSON_DetachItemViaPointer(g->user_mounts, v[i]));
        free(v);
}

static int default_mounts(struct gen *g)
{
        static const char *const o_proc[] = { "nosuid", "noexec", "nodev", NULL };
        static const char *const o_dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k", NULL };
        static const char *const o_pts[] = { "nosuid", "noexec", "newinstance", "ptmxmode=0666",
                                             "mode=0620", "gid=5", NULL };
        static const char *const o_sys_ro[] = { "nosuid", "noexec", "nodev", "ro", NULL };
        static const char *const o_sys_rw[] = { "nosuid", "noexec", "nodev", "rw", NULL };
        static const char *const o_mq[] = { "nosuid", "noexec", "nodev", NULL };
        const struct spec_input *in = g->in;
        const char *ipc = hc_str(g, "IpcMode");
        bool ro_etc = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g->hc, "ReadonlyRootfs"));
        static const char *const o_etc_rw[] = { "rbind", "rprivate", NULL };
        static const char *const o_etc_ro[] = { "rbind", "rprivate", "ro", NULL };
        int64_t shm = hc_int(g, "ShmSize");

        if (shm < 0)
                return berth_err_pub(g->err, EINVAL, "SHM size can not be less than 0");
        if (!shm)
                shm = SPEC_DEFAULT_SHM_SIZE;

        if (!user_mounted(g, "/proc"))
                add_mount(g->mounts, "/proc", "proc", "proc", o_proc);
        if (!user_mounted(g, "/dev"))
                add_mount(g->mounts, "/dev", "tmpfs", "tmpfs", o_dev);
        if (!user_mounted(g, "/dev/pts"))
                add_mount(g->mounts, "/dev/pts", "devpts", "devpts", o_pts);
        if (!user_mounted(g, "/sys"))
                add_mount(g->mounts, "/sys", "sysfs", "sysfs", g->privileged ? o_sys_rw : o_sys_ro);
        if (!user_mounted(g, "/sys/fs/cgroup"))
                add_mount(g->mounts, "/sys/fs/cgroup", "cgroup", "cgroup",
                          g->privileged ? o_sys_rw : o_sys_ro);
        if (!user_mounted(g, "/dev/mqueue"))
                add_mount(g->mounts, "/dev/mqueue", "mqueue", "mqueue", o_mq);
        if (!user_mounted(g, "/dev/shm") && strcmp(ipc, "none")) {
                if (!strcmp(ipc, "host")) {
                        static const char *const o[] = { "rbind", "rprivate", NULL };
                        add_mount(g->mounts, "/dev/shm", "bind", "/dev/shm", o);
                } else if (in->shm_path) {
                        static const char *const o[] = { "rbind", "rprivate", NULL };
                        add_mount(g->mounts, "/dev/shm", "bind", in->shm_path, o);
                } else if (berth_str_has_prefix(ipc, "container:")) {
                        return berth_err_set(g->err, EINVAL, "IpcMode %s needs the shm path of that container", ipc);
                } else {
                        char size[48];
                        const char *o[] = { "nosuid", "noexec", "nodev", "mode=1777", size, NULL };
                        snprintf(size, sizeof(size), "size=%lld", (long long)shm);
                        add_mount(g->mounts, "/dev/shm", "tmpfs", "shm", o);
                }
        }
        /* the network files go with the user mounts (sorted by depth) */
        if (in->hostname_path && !user_mounted(g, "/etc/hostname"))
                add_mount(g->user_mounts, "/etc/hostname", "bind", in->hostname_path,
                          ro_etc ? o_etc_ro : o_etc_rw);
        if (in->hosts_path && !user_mounted(g, "/etc/hosts"))
                add_mount(g->user_mounts, "/etc/hosts", "bind", in->hosts_path,
                          ro_etc ? o_etc_ro : o_etc_rw);
        if (in->resolv_conf_path && !user_mounted(g, "/etc/resolv.conf"))
                add_mount(g->user_mounts, "/etc/resolv.conf", "bind", in->resolv_conf_path,
                          ro_etc ? o_etc_ro : o_etc_rw);
        return 0;
}

/* ---- devices ---- */

static void add_dev_rule(cJSON *arr, bool allow, const char *type, int64_t major, int64_t minor,
                         const char *access)
{
        cJSON *d = cJSON_CreateObject();

        cJSON_AddBoolToObject(d, "allow", allow);
        if (type)
                cJSON_AddStringToObject(d, "type", type);
        if (major >= 0)
                cJSON_AddNumberToObject(d, "major", (double)major);
        if (minor >= 0)
                cJSON_AddNumberToObject(d, "minor", (double)minor);
        cJSON_AddStringToObject(d, "access", access);
        cJSON_AddItemToArray(arr, d);
}

static void add_linux_device(struct gen *g, const char *path, const struct stat *st)
{
        cJSON *devs = cJSON_GetObjectItemCaseSensitive(g->lx, "devices");
        cJSON *d = cJSON_CreateObject();

        if (!devs)
                devs = cJSON_AddArrayToObject(g->lx, "devices");
        cJSON_AddStringToObject(d, "path", path);
        cJSON_AddStringToObject(d, "type", S_ISBLK(st->st_mode) ? "b" : "c");
        cJSON_AddNumberToObject(d, "major", major(st->st_rdev));
        cJSON_AddNumberToObject(d, "minor", minor(st->st_rdev));
        cJSON_AddNumberToObject(d, "fileMode", st->st_mode & 07777);
        cJSON_AddNumberToObject(d, "uid", st->st_uid);
        cJSON_AddNumberToObject(d, "gid", st->st_gid);
        cJSON_AddItemToArray(devs, d);
}

/* Every char/block device under dir (host) as dst (container), recursively,
 * without following symlinks.  Docker's walk skips pts, shm, mqueue. */
static void add_device_tree(struct gen *g, const char *dir, const char *dst, const char *access,
                            int depth)
{
        DIR *d;
        struct dirent *e;
        cJSON *rules = cJSON_GetObjectItemCaseSensitive(g->res, "devices");

        if (depth > 4 || !(d = opendir(dir)))
                return;
        while ((e = readdir(d))) {
                _cleanup_free_ char *p = NULL, *q = NULL;
                struct stat st;
                if (e->d_name[0] == '.')
                        continue;
                if (depth == 0 && (!strcmp(e->d_name, "pts") || !strcmp(e->d_name, "shm") ||
                                   !strcmp(e->d_name, "mqueue") || !strcmp(e->d_name, "console")))
                        continue;
                p = xasprintf("%s/%s", dir, e->d_name);
                q = xasprintf("%s/%s", dst, e->d_name);
                if (lstat(p, &st) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        add_device_tree(g, p, q, access, depth + 1);
                } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        add_linux_device(g, q, &st);
                        if (access)
                                add_dev_rule(rules, true, S_ISBLK(st.st_mode) ? "b" : "c",
                                             major(st.st_rdev), minor(st.st_rdev), access);
                }
        }
        closedir(d);
}

static int parse_dev_number(const char *s, int64_t *ret)
{
        if (!strcmp(s, "*")) {
                *ret = -1;
                return 0;
        }
        return berth_parse_int64(s, ret) == 0 && *ret >= 0 ? 0 : -EINVAL;
}

static int do_devices(struct gen *g)
{
        cJSON *rules = cJSON_AddArrayToObject(g->res, "devices");
        const cJSON *e;

        if (g->privileged) {
                add_dev_rule(rules, true, "a", -1, -1, "rwm");
                add_device_tree(g, "/dev", "/dev", NULL, 0);
        } else {
                add_dev_rule(rules, false, NULL, -1, -1, "rwm");
                add_dev_rule(rules, true, "c", 1, 5, "rwm");    /* zero */
                add_dev_rule(rules, true, "c", 1, 3, "rwm");    /* null */
                add_dev_rule(rules, true, "c", 1, 9, "rwm");    /* urandom */
                add_dev_rule(rules, true, "c", 1, 8, "rwm");    /* random */
                add_dev_rule(rules, true, "c", 5, 0, "rwm");    /* tty */
                add_dev_rule(rules, true, "c", 5, 1, "rwm");    /* console */
                add_dev_rule(rules, false, "c", 10, 229, "rwm"); /* fuse */
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->hc, "Devices")) {
                const char *src = berth_json_str(e, "PathOnHost");
                const char *dst = berth_json_str(e, "PathInContainer");
                const char *perm = berth_json_str(e, "CgroupPermissions");
                struct stat st;

                if (!perm || !*perm)
                        perm = "rwm";
                if (!valid_dev_mode(perm))
                        return berth_err_pub(g->err, EINVAL, "invalid device mode: %s", perm);
                if (!src || src[0] != '/')
                        return berth_err_pub(g->err, EINVAL, "invalid device path: %s", src ? src : "");
                if (!dst || !*dst)
                        dst = src;
                if (dst[0] != '/')
                        return berth_err_pub(g->err, EINVAL, "invalid device path in container: %s", dst);
                if (g->dry_run)
                        continue;       /* devices are looked up at start */
                if (stat(src, &st) < 0)
                        return berth_err_pub(g->err, EINVAL,
                                             "error gathering device information while adding custom device \"%s\": %s",
                                             src, strerror(errno));
                if (S_ISDIR(st.st_mode)) {
                        add_device_tree(g, src, dst, perm, 1);
                } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
                        add_linux_device(g, dst, &st);
                        if (!g->privileged)
                                add_dev_rule(rules, true, S_ISBLK(st.st_mode) ? "b" : "c",
                                             major(st.st_rdev), minor(st.st_rdev), perm);
                } else {
                        return berth_err_pub(g->err, EINVAL,
                                             "error gathering device information while adding custom device \"%s\": not a device node",
                                             src);
                }
        }
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->hc, "DeviceCgroupRules")) {
                char type[2], nums[64], access[8], maj[32], min[32];
                int64_t ma, mi;
                if (!cJSON_IsString(e) ||
                    sscanf(e->valuestring, "%1[abc] %63s %7s", type, nums, access) != 3 ||
                    sscanf(nums, "%31[0-9*]:%31[0-9*]", maj, min) != 2 ||
                    parse_dev_number(maj, &ma) < 0 || parse_dev_number(min, &mi) < 0 ||
                    !valid_dev_mode(access))
                        return berth_err_pub(g->err, EINVAL, "invalid device cgroup format '%s'",
                                             cJSON_IsString(e) ? e->valuestring : "");
                add_dev_rule(rules, true, type, ma, mi, access);
        }
        return 0;
}

/* ---- resources ---- */

static bool valid_cpuset(const char *s)
{
        const char *p = s;

        if (!*s)
                return true;
        while (*p) {
                char *end;
                unsigned long a = strtoul(p, &end, 10), b;
                if (end == p || !isdigit((unsigned char)*p))
                        return false;
                p = end;
                if (*p == '-') {
                        p++;
                        if (!isdigit((unsigned char)*p))
                                return false;
                        b = strtoul(p, &end, 10);
                        if (b < a)
                                return false;
                        p = end;
                }
                if (*p == ',') {
                        p++;
                        if (!*p)
                                return false;
                } else if (*p) {
                        return false;
                }
        }
        return true;
}

static int throttle_list(struct gen *g, cJSON *blk, const char *hckey, const char *ocikey,
                         const char *valkey, const char *ocival)
{
        const cJSON *e;
        cJSON *arr = NULL;

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->hc, hckey)) {
                const char *path = berth_json_str(e, "Path");
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, valkey);
                struct stat st;
                cJSON *d;
                if (g->dry_run)
                        continue;
                if (!path || stat(path, &st) < 0 || !S_ISBLK(st.st_mode))
                        return berth_err_pub(g->err, EINVAL, "%s: %s is not a block device",
                                             hckey, path ? path : "");
                if (!arr)
                        arr = cJSON_AddArrayToObject(blk, ocikey);
                d = cJSON_CreateObject();
                cJSON_AddNumberToObject(d, "major", major(st.st_rdev));
                cJSON_AddNumberToObject(d, "minor", minor(st.st_rdev));
                cJSON_AddNumberToObject(d, ocival, cJSON_IsNumber(v) ? v->valuedouble : 0);
                cJSON_AddItemToArray(arr, d);
        }
        return 0;
}

static int do_resources(struct gen *g)
{
        int64_t mem = hc_int(g, "Memory"), swap = hc_int(g, "MemorySwap");
        int64_t resv = hc_int(g, "MemoryReservation"), nano = hc_int(g, "NanoCpus");
        int64_t shares = hc_int(g, "CpuShares"), period = hc_int(g, "CpuPeriod");
        int64_t quota = hc_int(g, "CpuQuota"), pids = hc_int(g, "PidsLimit");
        int64_t weight = hc_int(g, "BlkioWeight");
        const cJSON *swp = cJSON_GetObjectItemCaseSensitive(g->hc, "MemorySwappiness");
        const char *cpus = hc_str(g, "CpusetCpus"), *mems = hc_str(g, "CpusetMems");
        bool oomkd = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g->hc, "OomKillDisable"));
        long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
        cJSON *m = NULL, *c = NULL;

        /* validation first, Docker's words */
        if (mem < 0)
                mem = 0;
        if (mem > 0 && mem < MIN_MEMORY)
                return berth_err_pub(g->err, EINVAL, "Minimum memory limit allowed is 6MB");
        if (mem > 0 && swap > 0 && swap < mem)
                return berth_err_pub(g->err, EINVAL,
                                     "Minimum memoryswap limit should be larger than memory limit, see usage");
        if (mem == 0 && swap > 0)
                return berth_err_pub(g->err, EINVAL,
                                     "You should always set the Memory limit when using Memoryswap limit, see usage");
        if (resv > 0 && resv < MIN_MEMORY)
                return berth_err_pub(g->err, EINVAL, "Minimum memory reservation allowed is 6MB");
        if (mem > 0 && resv > 0 && mem < resv)
                return berth_err_pub(g->err, EINVAL,
                                     "Minimum memory limit can not be less than memory reservation limit, see usage");
        if (cJSON_IsNumber(swp) && swp->valuedouble != -1 &&
            (swp->valuedouble < 0 || swp->valuedouble > 100))
                return berth_err_pub(g->err, EINVAL,
                                     "Invalid value: %lld, valid memory swappiness range is 0-100",
                                     (long long)swp->valuedouble);
        if (nano > 0 && period > 0)
                return berth_err_pub(g->err, EINVAL,
                                     "Conflicting options: Nano CPUs and CPU Period cannot both be set");
        if (nano > 0 && quota > 0)
                return berth_err_pub(g->err, EINVAL,
                                     "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
        if (nano < 0 || (ncpu > 0 && nano > ncpu * 1000000000LL))
                return berth_err_pub(g->err, EINVAL,
                                     "Range of CPUs is from 0.01 to %ld.00, as there are only %ld CPUs available",
                                     ncpu, ncpu);
        if (shares < 0)
                return berth_err_pub(g->err, EINVAL,
                                     "invalid CPU shares (%lld): value must be a positive integer",
                                     (long long)shares);
        if (period != 0 && (period < 1000 || period > 1000000))
                return berth_err_pub(g->err, EINVAL,
                                     "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)");
        if (quota > 0 && quota < 1000)
                return berth_err_pub(g->err, EINVAL,
                                     "CPU cfs quota can not be less than 1ms (i.e. 1000)");
        if (!valid_cpuset(cpus))
                return berth_err_pub(g->err, EINVAL, "Invalid value %s for cpuset cpus", cpus);
        if (!valid_cpuset(mems))
                return berth_err_pub(g->err, EINVAL, "Invalid value %s for cpuset mems", mems);
        if (weight != 0 && (weight < 10 || weight > 1000))
                return berth_err_pub(g->err, EINVAL, "Range of blkio weight is from 10 to 1000");

        if (mem > 0 && swap == 0)
                swap = 2 * mem;         /* Docker's default: as much swap as memory */
        if (swap != 0 && g->in->cgroup_version != 2 &&
            access("/sys/fs/cgroup/memory/memory.memsw.limit_in_bytes", F_OK) < 0)
                swap = 0;               /* no swap accounting: limit memory only */

        if (mem > 0 || resv > 0 || swap != 0 || oomkd ||
            (cJSON_IsNumber(swp) && swp->valuedouble >= 0)) {
                m = cJSON_AddObjectToObject(g->res, "memory");
                if (mem > 0)
                        cJSON_AddNumberToObject(m, "limit", (double)mem);
                if (resv > 0)
                        cJSON_AddNumberToObject(m, "reservation", (double)resv);
                if (swap != 0)
                        cJSON_AddNumberToObject(m, "swap", (double)swap);
                if (cJSON_IsNumber(swp) && swp->valuedouble >= 0)
                        cJSON_AddNumberToObject(m, "swappiness", swp->valuedouble);
                if (oomkd)
                        cJSON_AddBoolToObject(m, "disableOOMKiller", true);
        }
        if (nano > 0) {
                period = 100000;
                quota = nano * period / 1000000000LL;
                if (quota < 1000)
                        quota = 1000;
        }
        if (shares || period || quota || *cpus || *mems || hc_int(g, "CpuRealtimePeriod") ||
            hc_int(g, "CpuRealtimeRuntime")) {
                c = cJSON_AddObjectToObject(g->res, "cpu");
                if (shares) {
                        /* the kernel clamps; Docker does it visibly */
                        if (shares < 2)
                                shares = 2;
                        if (shares > 262144)
                                shares = 262144;
                        cJSON_AddNumberToObject(c, "shares", (double)shares);
                }
                if (quota)
                        cJSON_AddNumberToObject(c, "quota", (double)quota);
                if (period)
                        cJSON_AddNumberToObject(c, "period", (double)period);
                if (hc_int(g, "CpuRealtimeRuntime"))
                        cJSON_AddNumberToObject(c, "realtimeRuntime", (double)hc_int(g, "CpuRealtimeRuntime"));
                if (hc_int(g, "CpuRealtimePeriod"))
                        cJSON_AddNumberToObject(c, "realtimePeriod", (double)hc_int(g, "CpuRealtimePeriod"));
                if (*cpus)
                        cJSON_AddStringToObject(c, "cpus", cpus);
                if (*mems)
                        cJSON_AddStringToObject(c, "mems", mems);
        }
        if (pids > 0) {
                cJSON *p = cJSON_AddObjectToObject(g->res, "pids");
                cJSON_AddNumberToObject(p, "limit", (double)pids);
        }
        {
                cJSON *blk = cJSON_CreateObject();
                int r;
                if (weight)
                        cJSON_AddNumberToObject(blk, "weight", (double)weight);
                r = throttle_list(g, blk, "BlkioWeightDevice", "weightDevice", "Weight", "weight");
                if (r == 0)
                        r = throttle_list(g, blk, "BlkioDeviceReadBps", "throttleReadBpsDevice", "Rate", "rate");
                if (r == 0)
                        r = throttle_list(g, blk, "BlkioDeviceWriteBps", "throttleWriteBpsDevice", "Rate", "rate");
                if (r == 0)
                        r = throttle_list(g, blk, "BlkioDeviceReadIOps", "throttleReadIOPSDevice", "Rate", "rate");
                if (r == 0)
                        r = throttle_list(g, blk, "BlkioDeviceWriteIOps", "throttleWriteIOPSDevice", "Rate", "rate");
                if (r < 0) {
                        cJSON_Delete(blk);
                        return r;
                }
                if (blk->child)
                        cJSON_AddItemToObject(g->res, "blockIO", blk);
                else
                        cJSON_Delete(blk);
        }
        return 0;
}

/* ---- namespaces ---- */

static void add_ns(cJSON *arr, const char *type, const char *path)
{
        cJSON *n = cJSON_CreateObject();

        cJSON_AddStringToObject(n, "type", type);
        if (path)
                cJSON_AddStringToObject(n, "path", path);
        cJSON_AddItemToArray(arr, n);
}

static int do_namespaces(struct gen *g)
{
        const struct spec_input *in = g->in;
        cJSON *ns = cJSON_AddArrayToObject(g->lx, "namespaces");
        const char *net = hc_str(g, "NetworkMode"), *ipc = hc_str(g, "IpcMode");
        const char *pid = hc_str(g, "PidMode"), *uts = hc_str(g, "UTSMode");
        const char *cgns = hc_str(g, "CgroupnsMode");
        bool net_container = berth_str_has_prefix(net, "container:");

        add_ns(ns, "mount", NULL);
        g->host_net = !strcmp(net, "host");
        if (net_container && !in->netns_path)
                return berth_err_set(g->err, EINVAL, "NetworkMode %s needs a resolved netns path", net);
        if (!g->host_net)
                add_ns(ns, "network", in->netns_path);

        g->host_uts = !strcmp(uts, "host");
        if (*uts && !g->host_uts)
                return berth_err_pub(g->err, EINVAL, "invalid UTS mode: %s", uts);
        if (!g->host_uts)
                add_ns(ns, "uts", NULL);

        g->host_pid = !strcmp(pid, "host");
        if (*pid && !g->host_pid && !berth_str_has_prefix(pid, "container:"))
                return berth_err_pub(g->err, EINVAL, "invalid PID mode: %s", pid);
        if (berth_str_has_prefix(pid, "container:") && !in->pidns_path)
                return berth_err_set(g->err, EINVAL, "PidMode %s needs a resolved pid namespace path", pid);
        if (!g->host_pid)
                add_ns(ns, "pid", in->pidns_path);

        g->host_ipc = !strcmp(ipc, "host");
        if (*ipc && strcmp(ipc, "private") && strcmp(ipc, "shareable") && strcmp(ipc, "none") &&
            !g->host_ipc && !berth_str_has_prefix(ipc, "container:"))
                return berth_err_pub(g->err, EINVAL, "invalid IPC mode: %s", ipc);
        if (berth_str_has_prefix(ipc, "container:") && !in->ipcns_path)
                return berth_err_set(g->err, EINVAL, "IpcMode %s needs a resolved ipc namespace path", ipc);
        if (!g->host_ipc)
                add_ns(ns, "ipc", in->ipcns_path);

        if (*cgns && strcmp(cgns, "host") && strcmp(cgns, "private"))
                return berth_err_pub(g->err, EINVAL, "invalid cgroup namespace mode: %s", cgns);
        /* Docker's default: private on cgroup v2, host on v1 */
        if (!strcmp(cgns, "private") || (!*cgns && in->cgroup_version == 2))
                add_ns(ns, "cgroup", NULL);
        return 0;
}

static int do_sysctls(struct gen *g)
{
        const cJSON *e;
        cJSON *sys = cJSON_CreateObject();
        const char *net = hc_str(g, "NetworkMode");
        bool own_net = !g->host_net && !berth_str_has_prefix(net, "container:");

        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->hc, "Sysctls")) {
                const char *ns = NULL;
                if (!cJSON_IsString(e)) {
                        cJSON_Delete(sys);
                        return berth_err_pub(g->err, EINVAL, "invalid value for sysctl %s", e->string);
                }
                if (!spec_sysctl_namespaced(e->string, &ns)) {
                        cJSON_Delete(sys);
                        return berth_err_pub(g->err, EINVAL, "sysctl '%s' is not allowed", e->string);
                }
                if (!strcmp(ns, "net") && g->host_net) {
                        cJSON_Delete(sys);
                        return berth_err_pub(g->err, EINVAL,
                                             "sysctl '%s' is not allowed in host network namespace",
                                             e->string);
                }
                if (!strcmp(ns, "ipc") && g->host_ipc) {
                        cJSON_Delete(sys);
                        return berth_err_pub(g->err, EINVAL,
                                             "sysctl '%s' is not allowed in host IPC namespace", e->string);
                }
                if (!strcmp(ns, "uts") && g->host_uts) {
                        cJSON_Delete(sys);
                        return berth_err_pub(g->err, EINVAL,
                                             "sysctl '%s' is not allowed in host UTS namespace", e->string);
                }
                cJSON_AddStringToObject(sys, e->string, e->valuestring);
        }
        {
                const char *dn = berth_json_str(g->cfg, "Domainname");
                if (dn && *dn && !g->host_uts && !cJSON_GetObjectItemCaseSensitive(sys, "kernel.domainname"))
                        cJSON_AddStringToObject(sys, "kernel.domainname", dn);
        }
        /* Docker >= 20.10 in a private netns: unprivileged low ports and ping */
        if (own_net && !g->in->no_sysctl_defaults) {
                if (!cJSON_GetObjectItemCaseSensitive(sys, "net.ipv4.ip_unprivileged_port_start") &&
                    access("/proc/sys/net/ipv4/ip_unprivileged_port_start", F_OK) == 0)
                        cJSON_AddStringToObject(sys, "net.ipv4.ip_unprivileged_port_start", "0");
                if (!cJSON_GetObjectItemCaseSensitive(sys, "net.ipv4.ping_group_range") &&
                    access("/proc/sys/net/ipv4/ping_group_range", F_OK) == 0)
                        cJSON_AddStringToObject(sys, "net.ipv4.ping_group_range", "0 2147483647");
        }
        if (sys->child)
                cJSON_AddItemToObject(g->lx, "sysctl", sys);
        else
                cJSON_Delete(sys);
        return 0;
}

/* ---- security options ---- */

struct secopts {
        bool nnp, unconfined_paths, seccomp_unconfined;
        const char *seccomp_profile;    /* JSON text, points into the request */
};

static int parse_bool_opt(const char *v, bool *ret)
{
        if (!strcmp(v, "true") || !strcmp(v, "1")) {
                *ret = true;
                return 0;
        }
        if (!strcmp(v, "false") || !strcmp(v, "0")) {
                *ret = false;
                return 0;
        }
        return -EINVAL;
}

static int parse_security_opts(struct gen *g, struct secopts *so)
{
        const cJSON *e;

        memset(so, 0, sizeof(*so));
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->hc, "SecurityOpt")) {
                const char *opt = cJSON_IsString(e) ? e->valuestring : "";
                size_t klen = strcspn(opt, "=:");
                const char *val = opt + klen + 1;
                _cleanup_free_ char *key = NULL;

                if (!strcmp(opt, "no-new-privileges")) {
                        so->nnp = true;
                        continue;
                }
                if (!opt[klen])
                        return berth_err_pub(g->err, EINVAL, "invalid --security-opt 1: \"%s\"", opt);
                key = xstrndup(opt, klen);
                if (!strcmp(key, "label") || !strcmp(key, "apparmor")) {
                        continue;       /* no SELinux/AppArmor here */
                } else if (!strcmp(key, "seccomp")) {
                        if (!strcmp(val, "unconfined")) {
                                so->seccomp_unconfined = true;
                                so->seccomp_profile = NULL;
                        } else if (strcmp(val, "builtin")) {
                                so->seccomp_profile = val;
                                so->seccomp_unconfined = false;
                        }
                } else if (!strcmp(key, "no-new-privileges")) {
                        if (parse_bool_opt(val, &so->nnp) < 0)
                                return berth_err_pub(g->err, EINVAL,
                                                     "invalid --security-opt 2: \"%s\"", opt);
                } else if (!strcmp(key, "systempaths")) {
                        if (strcmp(val, "unconfined"))
                                return berth_err_pub(g->err, EINVAL,
                                                     "invalid --security-opt 2: \"%s\"", opt);
                        so->unconfined_paths = true;
                } else if (!strcmp(key, "writable-cgroups")) {
                        bool b;
                        if (parse_bool_opt(val, &b) < 0)
                                return berth_err_pub(g->err, EINVAL,
                                                     "invalid --security-opt 2: \"%s\"", opt);
                } else {
                        return berth_err_pub(g->err, EINVAL, "invalid --security-opt 2: \"%s\"", opt);
                }
        }
        return 0;
}

static int do_seccomp(struct gen *g, const struct secopts *so)
{
        _cleanup_json_ cJSON *profile = NULL;
        cJSON *out = NULL;
        int r;

        if (so->seccomp_unconfined || (g->privileged && !so->seccomp_profile))
                return 0;
        if (g->in->seccomp_disabled) {
                if (so->seccomp_profile)
                        return berth_err_pub(g->err, EINVAL,
                                             "seccomp is not enabled in your kernel, cannot run a custom seccomp profile.");
                return 0;
        }
        if (so->seccomp_profile) {
                struct berth_err perr = BERTH_ERR_INIT;
                r = berth_json_parse(so->seccomp_profile, strlen(so->seccomp_profile), &profile, &perr);
                if (r < 0)
                        return berth_err_pub(g->err, EINVAL, "Decoding seccomp profile failed: %s", perr.msg);
        } else {
                profile = spec_seccomp_default_profile();
        }
        r = spec_seccomp_resolve(profile, g->caps, &out, g->err);
        if (r < 0)
                return r;
        cJSON_AddItemToObject(g->lx, "seccomp", out);
        return 0;
}

static const char *const default_masked[] = {
        "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
        "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
        "/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};
static const char *const default_readonly[] = {
        "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static void do_paths(struct gen *g, const struct secopts *so, const char *hckey, const char *ocikey,
                     const char *const *defaults)
{
        const cJSON *given = cJSON_GetObjectItemCaseSensitive(g->hc, hckey);
        cJSON *a;

        if (g->privileged || so->unconfined_paths)
                return;
        a = cJSON_AddArrayToObject(g->lx, ocikey);
        if (cJSON_IsArray(given)) {
                const cJSON *e;
                cJSON_ArrayForEach(e, given)
                        if (cJSON_IsString(e))
                                cJSON_AddItemToArray(a, cJSON_CreateString(e->valuestring));
        } else {
                add_strs(a, defaults);
        }
}

/* ---- process ---- */

static void caps_array(cJSON *obj, const char *key, uint64_t mask)
{
        cJSON *a = cJSON_AddArrayToObject(obj, key);

        for (int i = 0; i < 64; i++)
                if ((mask & (1ULL << i)) && spec_cap_name(i))
                        cJSON_AddItemToArray(a, cJSON_CreateString(spec_cap_name(i)));
}

static bool ulimit_listed(const cJSON *list, const char *name)
{
        const cJSON *e;

        cJSON_ArrayForEach(e, list) {
                const char *n = berth_json_str(e, "Name");
                if (n && !strcmp(n, name))
                        return true;
        }
        return false;
}

static int do_rlimits(struct gen *g)
{
        const cJSON *e, *given = cJSON_GetObjectItemCaseSensitive(g->hc, "Ulimits");
        _cleanup_json_ cJSON *all = cJSON_IsArray(given) ? cJSON_Duplicate(given, true) : cJSON_CreateArray();
        cJSON *arr = NULL;

        /* daemon defaults fill in the names the container did not set */
        cJSON_ArrayForEach(e, g->in->default_ulimits) {
                const char *n = berth_json_str(e, "Name");
                if (n && !ulimit_listed(given, n))
                        cJSON_AddItemToArray(all, cJSON_Duplicate(e, true));
        }
        cJSON_ArrayForEach(e, all) {
                const char *name = berth_json_str(e, "Name");
                const cJSON *soft = cJSON_GetObjectItemCaseSensitive(e, "Soft");
                const cJSON *hard = cJSON_GetObjectItemCaseSensitive(e, "Hard");
                char type[32];
                cJSON *r;
                size_t i;

                if (!name || !ulimit_known(name))
                        return berth_err_pub(g->err, EINVAL, "invalid ulimit type: %s", name ? name : "");
                if (cJSON_IsNumber(soft) && cJSON_IsNumber(hard) && hard->valuedouble >= 0 &&
                    soft->valuedouble > hard->valuedouble)
                        return berth_err_pub(g->err, EINVAL,
                                             "ulimit soft limit must be less than or equal to hard limit: %lld > %lld",
                                             (long long)soft->valuedouble, (long long)hard->valuedouble);
                snprintf(type, sizeof(type), "RLIMIT_%s", name);
                for (i = 7; type[i]; i++)
                        type[i] = (char)toupper((unsigned char)type[i]);
                if (!arr)
                        arr = cJSON_AddArrayToObject(g->process, "rlimits");
                r = cJSON_CreateObject();
                cJSON_AddStringToObject(r, "type", type);
                /* -1 is "unlimited": RLIM_INFINITY as an unsigned 64-bit value */
                cJSON_AddNumberToObject(r, "hard", cJSON_IsNumber(hard) && hard->valuedouble >= 0
                                                           ? hard->valuedouble : 18446744073709551615.0);
                cJSON_AddNumberToObject(r, "soft", cJSON_IsNumber(soft) && soft->valuedouble >= 0
                                                           ? soft->valuedouble : 18446744073709551615.0);
                cJSON_AddItemToArray(arr, r);
        }
        return 0;
}

/* --init applies only in the container's own pid namespace (Docker). */
static bool want_init(const struct gen *g)
{
        const char *pid = hc_str(g, "PidMode");

        return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g->hc, "Init")) && strcmp(pid, "host") &&
               !berth_str_has_prefix(pid, "container:");
}

static int do_process(struct gen *g, const struct secopts *so, const char *hostname)
{
        const struct spec_input *in = g->in;
        const cJSON *ep = cJSON_GetObjectItemCaseSensitive(g->cfg, "Entrypoint");
        const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(g->cfg, "Cmd"), *e;
        const char *wd = berth_json_str(g->cfg, "WorkingDir");
        bool tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g->cfg, "Tty"));
        int64_t oom = hc_int(g, "OomScoreAdj");
        struct spec_user u = { 0 };
        cJSON *args, *env, *user, *caps;
        _cleanup_free_ char *hn = NULL, *cwd = NULL;
        int r;

        cJSON_AddBoolToObject(g->process, "terminal", tty);
        if (tty) {
                const cJSON *cs = cJSON_GetObjectItemCaseSensitive(g->hc, "ConsoleSize");
                if (cJSON_GetArraySize(cs) == 2 && cJSON_GetArrayItem(cs, 0)->valuedouble > 0) {
                        cJSON *o = cJSON_AddObjectToObject(g->process, "consoleSize");
                        cJSON_AddNumberToObject(o, "height", cJSON_GetArrayItem(cs, 0)->valuedouble);
                        cJSON_AddNumberToObject(o, "width", cJSON_GetArrayItem(cs, 1)->valuedouble);
                }
        }

        /* user */
        if (in->rootfs) {
                r = spec_user_resolve(in->rootfs, berth_json_str(g->cfg, "User"),
                                      cJSON_GetObjectItemCaseSensitive(g->hc, "GroupAdd"), &u, g->err);
                if (r < 0)
                        return r;
        } else {
                u.home = xstrdup("/root");
        }
        user = cJSON_AddObjectToObject(g->process, "user");
        cJSON_AddNumberToObject(user, "uid", u.uid);
        cJSON_AddNumberToObject(user, "gid", u.gid);
        {
                cJSON *a = cJSON_AddArrayToObject(user, "additionalGids");
                cJSON_AddItemToArray(a, cJSON_CreateNumber(u.gid));
                for (size_t i = 0; i < u.n_gids; i++)
                        cJSON_AddItemToArray(a, cJSON_CreateNumber(u.gids[i]));
        }

        /* args: [init --] entrypoint cmd; Entrypoint [""] means "none" */
        args = cJSON_AddArrayToObject(g->process, "args");
        if (want_init(g)) {
                if (!in->init_path) {
                        spec_user_release(&u);
                        return berth_err_pub(g->err, EINVAL,
                                             "--init: no init binary found (docker-init, or Debian's tini)");
                }
                cJSON_AddItemToArray(args, cJSON_CreateString("/sbin/docker-init"));
                cJSON_AddItemToArray(args, cJSON_CreateString("--"));
        }
        if (!(cJSON_GetArraySize(ep) == 1 && cJSON_IsString(ep->child) && !*ep->child->valuestring))
                cJSON_ArrayForEach(e, ep)
                        if (cJSON_IsString(e))
                                cJSON_AddItemToArray(args, cJSON_CreateString(e->valuestring));
        cJSON_ArrayForEach(e, cmd)
                if (cJSON_IsString(e))
                        cJSON_AddItemToArray(args, cJSON_CreateString(e->valuestring));
        if (cJSON_GetArraySize(args) == 0 ||
            (want_init(g) && cJSON_GetArraySize(args) == 2)) {
                spec_user_release(&u);
                return berth_err_pub(g->err, EINVAL, "no command specified");
        }

        /* env: PATH (unless given), HOSTNAME, TERM, then the config's by key */
        env = cJSON_AddArrayToObject(g->process, "env");
        if (!env_has(cJSON_GetObjectItemCaseSensitive(g->cfg, "Env"), "PATH"))
                cJSON_AddItemToArray(env, cJSON_CreateString(SPEC_DEFAULT_PATH));
        hn = xasprintf("HOSTNAME=%s", hostname);
        cJSON_AddItemToArray(env, cJSON_CreateString(hn));
        if (tty)
                cJSON_AddItemToArray(env, cJSON_CreateString("TERM=xterm"));
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(g->cfg, "Env"))
                if (cJSON_IsString(e))
                        env_set(env, e->valuestring);
        if (!env_has(env, "HOME")) {
                _cleanup_free_ char *h = xasprintf("HOME=%s", u.home ? u.home : "/");
                cJSON_AddItemToArray(env, cJSON_CreateString(h));
        }

        if (wd && *wd && wd[0] != '/') {
                spec_user_release(&u);
                return berth_err_pub(g->err, EINVAL,
                                     "the working directory '%s' is invalid, it needs to be an absolute path",
                                     wd);
        }
        cwd = clean_path(wd && *wd ? wd : "/");
        cJSON_AddStringToObject(g->process, "cwd", cwd);

        /* capabilities: a non-root user keeps only the bounding set */
        caps = cJSON_AddObjectToObject(g->process, "capabilities");
        caps_array(caps, "bounding", g->caps);
        if (u.uid == 0) {
                caps_array(caps, "effective", g->caps);
                caps_array(caps, "permitted", g->caps);
        }
        spec_user_release(&u);

        r = do_rlimits(g);
        if (r < 0)
                return r;
        if (so->nnp)
                cJSON_AddBoolToObject(g->process, "noNewPrivileges", true);
        if (oom < -1000 || oom > 1000)
                return berth_err_pub(g->err, EINVAL,
                                     "Invalid value %lld, range for oom score adj is [-1000, 1000]",
                                     (long long)oom);
        cJSON_AddNumberToObject(g->process, "oomScoreAdj", (double)oom);
        return 0;
}

static void rootfs_propagation(struct gen *g)
{
        const cJSON *m, *o;
        const char *prop = NULL;

        cJSON_ArrayForEach(m, g->mounts)
                cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(m, "options")) {
                        if (!cJSON_IsString(o))
                                continue;
                        if (!strcmp(o->valuestring, "shared") || !strcmp(o->valuestring, "rshared"))
                                prop = "rshared";
                        else if ((!strcmp(o->valuestring, "slave") || !strcmp(o->valuestring, "rslave")) && !prop)
                                prop = "rslave";
                }
        if (prop)
                cJSON_AddStringToObject(g->lx, "rootfsPropagation", prop);
}

static int generate(const struct spec_input *in, bool dry_run, cJSON **ret, struct berth_err *err)
{
        _cleanup_json_ cJSON *merged = NULL, *spec = NULL, *user_mounts = NULL;
        struct gen g = { .in = in, .err = err, .dry_run = dry_run };
        struct secopts so;
        const char *hostname, *cgparent;
        _cleanup_free_ char *hn = NULL, *cgpath = NULL;
        cJSON *root;
        int r;

        if (!in || !in->container_id || !*in->container_id)
                return berth_err_set(err, EINVAL, "spec: no container id");
        g.cfg = in->create_config;
        if (in->image_config) {
                r = spec_merge_image_config(in->create_config, in->image_config, &merged, err);
                if (r < 0)
                        return r;
                g.cfg = merged;
        }
        g.hc = in->host_config ? in->host_config
                               : cJSON_GetObjectItemCaseSensitive(in->create_config, "HostConfig");
        g.privileged = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g.hc, "Privileged"));

        spec = cJSON_CreateObject();
        user_mounts = cJSON_CreateArray();
        g.spec = spec;
        g.user_mounts = user_mounts;
        cJSON_AddStringToObject(spec, "ociVersion", "1.0.2");
        g.process = cJSON_AddObjectToObject(spec, "process");
        root = cJSON_AddObjectToObject(spec, "root");
        cJSON_AddStringToObject(root, "path", in->rootfs ? in->rootfs : "rootfs");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(g.hc, "ReadonlyRootfs")))
                cJSON_AddBoolToObject(root, "readonly", true);

        hostname = in->hostname;
        if (!hostname || !*hostname)
                hostname = berth_json_str(g.cfg, "Hostname");
        if (!hostname || !*hostname) {
                hn = xstrndup(in->container_id, 12);
                hostname = hn;
        }
        g.mounts = cJSON_AddArrayToObject(spec, "mounts");
        g.lx = cJSON_AddObjectToObject(spec, "linux");
        g.res = cJSON_AddObjectToObject(g.lx, "resources");

        r = parse_security_opts(&g, &so);
        if (r < 0)
                return r;
        r = spec_caps_compute(cJSON_GetObjectItemCaseSensitive(g.hc, "CapAdd"),
                              cJSON_GetObjectItemCaseSensitive(g.hc, "CapDrop"), g.privileged,
                              &g.caps, err);
        if (r < 0)
                return r;
        r = do_namespaces(&g);
        if (r < 0)
                return r;
        if (!g.host_uts)
                cJSON_AddStringToObject(spec, "hostname", hostname);
        r = do_process(&g, &so, hostname);
        if (r < 0)
                return r;

        /* user mounts first (they shadow defaults at the same place) */
        r = do_binds(&g);
        if (r == 0)
                r = do_mounts(&g);
        if (r == 0)
                r = do_tmpfs(&g);
        if (r == 0)
                r = do_image_volumes(&g);
        if (r == 0)
                r = default_mounts(&g);
        if (r < 0)
                return r;
        if (want_init(&g)) {
                static const char *const o[] = { "bind", "ro", NULL };
                add_mount(g.user_mounts, "/sbin/docker-init", "bind", in->init_path, o);
        }
        append_sorted_user_mounts(&g);
        rootfs_propagation(&g);

        r = do_devices(&g);
        if (r == 0)
                r = do_resources(&g);
        if (r == 0)
                r = do_sysctls(&g);
        if (r == 0)
                r = do_seccomp(&g, &so);
        if (r < 0)
                return r;
        do_paths(&g, &so, "MaskedPaths", "maskedPaths", default_masked);
        do_paths(&g, &so, "ReadonlyPaths", "readonlyPaths", default_readonly);

        {
                const cJSON *ann = cJSON_GetObjectItemCaseSensitive(g.hc, "Annotations"), *e;
                cJSON *out = NULL;
                cJSON_ArrayForEach(e, ann) {
                        if (!cJSON_IsString(e))
                                continue;
                        if (!out)
                                out = cJSON_AddObjectToObject(spec, "annotations");
                        cJSON_AddStringToObject(out, e->string, e->valuestring);
                }
        }

        cgparent = hc_str(&g, "CgroupParent");
        if (!*cgparent)
                cgparent = in->cgroup_parent ? in->cgroup_parent : SPEC_DEFAULT_CGROUP_PARENT;
        cgpath = xasprintf("%s%s/%s", cgparent[0] == '/' ? "" : "/", cgparent, in->container_id);
        cJSON_AddStringToObject(g.lx, "cgroupsPath", cgpath);

        *ret = TAKE_PTR(spec);
        return 0;
}

/* The host's static init for --init when the caller named none: Docker's
 * docker-init (Debian's docker.io links it to tini-static), else Debian
 * tini's tini-static.  It is bind-mounted into the container, so only a
 * static binary will do. */
static bool default_init_path(char *out, size_t outlen)
{
        static const char *const names[] = { "docker-init", "tini-static" };
        static const char *const dirs[] = { "/usr/local/libexec/docker", "/usr/libexec/docker",
                                            "/usr/local/lib/docker", "/usr/lib/docker" };
        const char *path = getenv("PATH");

        if (!path || !*path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                for (const char *p = path; *p;) {
                        size_t n = strcspn(p, ":");
                        if (n && snprintf(out, outlen, "%.*s/%s", (int)n, p, names[i]) < (int)outlen &&
                            access(out, X_OK) == 0)
                                return true;
                        p += n;
                        if (*p == ':')
                                p++;
                }
                for (size_t k = 0; k < ARRAY_SIZE(dirs); k++)
                        if (snprintf(out, outlen, "%s/%s", dirs[k], names[i]) < (int)outlen && access(out, X_OK) == 0)
                                return true;
        }
        return false;
}

int spec_generate(const struct spec_input *in, cJSON **ret, struct berth_err *err)
{
        struct spec_input copy;
        char init[PATH_MAX];
        const cJSON *hc = in ? (in->host_config ? in->host_config
                                                : cJSON_GetObjectItemCaseSensitive(in->create_config, "HostConfig"))
                             : NULL;

        if (in && !in->init_path && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(hc, "Init")) &&
            default_init_path(init, sizeof(init))) {
                copy = *in;
                copy.init_path = init;
                in = &copy;
        }
        return generate(in, false, ret, err);
}

static int validate_resolver(void *ctx, const char *name, char **ret, struct berth_err *err)
{
        (void)ctx;
        (void)err;
        *ret = xasprintf("/nonexistent/volumes/%s", name);
        return 0;
}

int spec_validate(const cJSON *create_config, const cJSON *host_config, const cJSON *image_config,
                  struct berth_err *err)
{
        static const char dummy_id[] = "0000000000000000000000000000000000000000000000000000000000000000";
        struct spec_input in = {
                .create_config = create_config, .host_config = host_config,
                .image_config = image_config, .container_id = dummy_id,
                .netns_path = "/proc/self/ns/net", .ipcns_path = "/proc/self/ns/ipc",
                .pidns_path = "/proc/self/ns/pid", .shm_path = "/dev/shm",
                .init_path = "/sbin/docker-init", .resolve_volume = validate_resolver,
        };
        const cJSON *hc = host_config ? host_config
                                      : cJSON_GetObjectItemCaseSensitive(create_config, "HostConfig");
        const char *net = berth_json_str(hc, "NetworkMode");
        cJSON *spec = NULL;
        int r;

        /* the joined namespaces are only known at start */
        if (!net || !berth_str_has_prefix(net, "container:"))
                in.netns_path = NULL;
        r = generate(&in, true, &spec, err);
        cJSON_Delete(spec);
        return r;
}
