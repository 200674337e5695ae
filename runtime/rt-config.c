/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-config.c -- read and check a bundle's config.json before anything
 * is created, so that a bad bundle leaves nothing behind.
 */
#include "config.h"

#include <ctype.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/stat.h>

#include "runtime/runtime-internal.h"

#define CONFIG_MAX (4 << 20)

int rt_valid_id(const char *id, struct berth_err *err)
{
        size_t n = strlen(id);

        if (n == 0 || n > 1024 || !strcmp(id, ".") || !strcmp(id, ".."))
                return berth_err_set(err, EINVAL, "invalid container id '%s'", id);
        for (const char *p = id; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr("_+-.", *p))
                        return berth_err_set(err, EINVAL, "invalid container id '%s'", id);
        return 0;
}

static const struct {
        const char *name;
        int type;
        const char *proc;
} ns_table[] = {
        { "pid", CLONE_NEWPID, "pid" },
        { "network", CLONE_NEWNET, "net" },
        { "mount", CLONE_NEWNS, "mnt" },
        { "ipc", CLONE_NEWIPC, "ipc" },
        { "uts", CLONE_NEWUTS, "uts" },
        { "user", CLONE_NEWUSER, "user" },
        { "cgroup", CLONE_NEWCGROUP, "cgroup" },
        { "time", CLONE_NEWTIME, "time" },
};

int rt_ns_type(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
                if (!strcmp(ns_table[i].name, name))
                        return ns_table[i].type;
        return -1;
}

const char *rt_ns_proc_name(int type)
{
        for (size_t i = 0; i < ARRAY_SIZE(ns_table); i++)
                if (ns_table[i].type == type)
                        return ns_table[i].proc;
        return "?";
}

static char **str_array(const cJSON *arr, const char *what, struct berth_err *err, int *r)
{
        size_t n = 0, i = 0;
        const cJSON *it;
        char **v;

        *r = 0;
        if (!arr)
                return xcalloc(1, sizeof(char *));
        if (!cJSON_IsArray(arr)) {
                *r = berth_err_set(err, EINVAL, "%s must be an array of strings", what);
                return NULL;
        }
        n = (size_t)cJSON_GetArraySize(arr);
        v = xcalloc(n + 1, sizeof(char *));
        cJSON_ArrayForEach(it, arr) {
                if (!cJSON_IsString(it)) {
                        for (size_t k = 0; k < i; k++)
                                free(v[k]);
                        free(v);
                        *r = berth_err_set(err, EINVAL, "%s must be an array of strings", what);
                        return NULL;
                }
                v[i++] = xstrdup(it->valuestring);
        }
        return v;
}

static void str_array_free(char **v)
{
        if (!v)
                return;
        for (char **p = v; *p; p++)
                free(*p);
        free(v);
}

static int get_u64(const cJSON *o, const char *key, uint64_t *ret, bool *present)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

        if (present)
                *present = false;
        if (!v)
                return 0;
        if (!cJSON_IsNumber(v) || v->valuedouble < 0)
                return -EINVAL;
        *ret = v->valuedouble >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v->valuedouble;
        if (present)
                *present = true;
        return 0;
}

static const struct {
        const char *name;
        int res;
} rlimit_table[] = {
        { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_CPU", RLIMIT_CPU },
        { "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
        { "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
        { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
        { "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC },
        { "RLIMIT_RSS", RLIMIT_RSS }, { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
        { "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
        { "RLIMIT_STACK", RLIMIT_STACK },
};

int rt_cap_parse_list(const cJSON *arr, uint64_t *ret, struct berth_err *err)
{
        const cJSON *it;

        *ret = 0;
        if (!arr)
                return 0;
        if (!cJSON_IsArray(arr))
                return berth_err_set(err, EINVAL, "capabilities must be arrays of strings");
        cJSON_ArrayForEach(it, arr) {
                int cap;

                if (!cJSON_IsString(it))
                        return berth_err_set(err, EINVAL, "capabilities must be arrays of strings");
                cap = rt_cap_from_name(it->valuestring);
                if (cap < 0) {
                        /* as runc: an unknown capability is a warning */
                        rt_warn("unknown capability '%s' ignored", it->valuestring);
                        continue;
                }
                if (cap > rt_cap_last()) {
                        rt_warn("capability '%s' is not supported by this kernel", it->valuestring);
                        continue;
                }
                *ret |= 1ULL << cap;
        }
        return 0;
}

void rt_process_release(struct rt_process *p)
{
        str_array_free(p->args);
        str_array_free(p->env);
        free(p->cwd);
        memset(p, 0, sizeof(*p));
}

int rt_process_parse(const cJSON *p, struct rt_process *proc, struct berth_err *err)
{
        const cJSON *user, *caps, *rl, *it, *cs;
        int r;

        memset(proc, 0, sizeof(*proc));
        proc->umask = -1;
        if (!cJSON_IsObject(p))
                return berth_err_set(err, EINVAL, "process must be an object");
        proc->terminal = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "terminal"));
        cs = cJSON_GetObjectItemCaseSensitive(p, "consoleSize");
        if (cJSON_IsObject(cs)) {
                uint64_t h = 0, w = 0;
                (void)get_u64(cs, "height", &h, NULL);
                (void)get_u64(cs, "width", &w, NULL);
                proc->cons_h = (unsigned short)h;
                proc->cons_w = (unsigned short)w;
        }
        proc->args = str_array(cJSON_GetObjectItemCaseSensitive(p, "args"), "process.args", err, &r);
        if (r < 0)
                return r;
        proc->env = str_array(cJSON_GetObjectItemCaseSensitive(p, "env"), "process.env", err, &r);
        if (r < 0)
                return r;
        if (!proc->args[0])
                return berth_err_set(err, EINVAL, "process.args must not be empty");
        const char *cwd = berth_json_str(p, "cwd");
        if (!cwd)
                cwd = "/";
        if (cwd[0] != '/')
                return berth_err_set(err, EINVAL, "process.cwd '%s' is not an absolute path", cwd);
        proc->cwd = xstrdup(cwd);

        user = cJSON_GetObjectItemCaseSensitive(p, "user");
        if (user) {
                uint64_t v = 0;
                bool present;
                const cJSON *g;

                if (get_u64(user, "uid", &v, NULL) < 0 || v > UINT32_MAX)
                        return berth_err_set(err, EINVAL, "process.user.uid is invalid");
                proc->uid = (uid_t)v;
                v = 0;
                if (get_u64(user, "gid", &v, NULL) < 0 || v > UINT32_MAX)
                        return berth_err_set(err, EINVAL, "process.user.gid is invalid");
                proc->gid = (gid_t)v;
                v = 0;  /* an absent umask must not inherit the gid */
                if (get_u64(user, "umask", &v, &present) < 0 || v > 0777)
                        return berth_err_set(err, EINVAL, "process.user.umask is invalid");
                if (present)
                        proc->umask = (int)v;
                g = cJSON_GetObjectItemCaseSensitive(user, "additionalGids");
                cJSON_ArrayForEach(it, g) {
                        if (!cJSON_IsNumber(it) || it->valuedouble < 0)
                                return berth_err_set(err, EINVAL, "process.user.additionalGids is invalid");
                        if (proc->ngids >= RT_MAX_GIDS)
                                return berth_err_set(err, E2BIG, "too many additionalGids");
                        proc->gids[proc->ngids++] = (gid_t)it->valuedouble;
                }
        }
        proc->nnp = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "noNewPrivileges"));
        caps = cJSON_GetObjectItemCaseSensitive(p, "capabilities");
        if (caps) {
                proc->has_caps = true;
                if ((r = rt_cap_parse_list(cJSON_GetObjectItemCaseSensitive(caps, "bounding"), &proc->cap_bnd, err)) < 0 ||
                    (r = rt_cap_parse_list(cJSON_GetObjectItemCaseSensitive(caps, "effective"), &proc->cap_eff, err)) < 0 ||
                    (r = rt_cap_parse_list(cJSON_GetObjectItemCaseSensitive(caps, "inheritable"), &proc->cap_inh, err)) < 0 ||
                    (r = rt_cap_parse_list(cJSON_GetObjectItemCaseSensitive(caps, "permitted"), &proc->cap_prm, err)) < 0 ||
                    (r = rt_cap_parse_list(cJSON_GetObjectItemCaseSensitive(caps, "ambient"), &proc->cap_amb, err)) < 0)
                        return r;
        }
        rl = cJSON_GetObjectItemCaseSensitive(p, "rlimits");
        cJSON_ArrayForEach(it, rl) {
                const char *type = berth_json_str(it, "type");
                struct rt_rlimit *l;
                size_t k;

                if (!type)
                        return berth_err_set(err, EINVAL, "process.rlimits: missing type");
                for (k = 0; k < ARRAY_SIZE(rlimit_table); k++)
                        if (!strcmp(rlimit_table[k].name, type))
                                break;
                if (k == ARRAY_SIZE(rlimit_table))
                        return berth_err_set(err, EINVAL, "process.rlimits: unknown type '%s'", type);
                if (proc->nrlimits >= RT_MAX_RLIMITS)
                        return berth_err_set(err, E2BIG, "too many rlimits");
                l = &proc->rlimits[proc->nrlimits++];
                l->resource = rlimit_table[k].res;
                if (get_u64(it, "soft", &l->soft, NULL) < 0 || get_u64(it, "hard", &l->hard, NULL) < 0)
                        return berth_err_set(err, EINVAL, "process.rlimits: invalid value for %s", type);
        }
        it = cJSON_GetObjectItemCaseSensitive(p, "oomScoreAdj");
        if (cJSON_IsNumber(it)) {
                proc->has_oom = true;
                proc->oom_score_adj = (int)it->valuedouble;
        }
        return 0;
}

static const struct {
        const char *name;
        unsigned long set, clear, prop;
        bool bind;
} mount_opts[] = {
        { "defaults", 0, 0, 0, false },
        { "ro", MS_RDONLY, 0, 0, false },
        { "rw", 0, MS_RDONLY, 0, false },
        { "suid", 0, MS_NOSUID, 0, false },
        { "nosuid", MS_NOSUID, 0, 0, false },
        { "dev", 0, MS_NODEV, 0, false },
        { "nodev", MS_NODEV, 0, 0, false },
        { "exec", 0, MS_NOEXEC, 0, false },
        { "noexec", MS_NOEXEC, 0, 0, false },
        { "sync", MS_SYNCHRONOUS, 0, 0, false },
        { "async", 0, MS_SYNCHRONOUS, 0, false },
        { "dirsync", MS_DIRSYNC, 0, 0, false },
        { "remount", MS_REMOUNT, 0, 0, false },
        { "mand", MS_MANDLOCK, 0, 0, false },
        { "nomand", 0, MS_MANDLOCK, 0, false },
        { "atime", 0, MS_NOATIME, 0, false },
        { "noatime", MS_NOATIME, 0, 0, false },
        { "diratime", 0, MS_NODIRATIME, 0, false },
        { "nodiratime", MS_NODIRATIME, 0, 0, false },
        { "relatime", MS_RELATIME, 0, 0, false },
        { "norelatime", 0, MS_RELATIME, 0, false },
        { "strictatime", MS_STRICTATIME, 0, 0, false },
        { "nostrictatime", 0, MS_STRICTATIME, 0, false },
        { "lazytime", MS_LAZYTIME, 0, 0, false },
        { "nolazytime", 0, MS_LAZYTIME, 0, false },
        { "silent", MS_SILENT, 0, 0, false },
        { "loud", 0, MS_SILENT, 0, false },
        { "bind", MS_BIND, 0, 0, true },
        { "rbind", MS_BIND | MS_REC, 0, 0, true },
        { "private", 0, 0, MS_PRIVATE, false },
        { "rprivate", 0, 0, MS_PRIVATE | MS_REC, false },
        { "shared", 0, 0, MS_SHARED, false },
        { "rshared", 0, 0, MS_SHARED | MS_REC, false },
        { "slave", 0, 0, MS_SLAVE, false },
        { "rslave", 0, 0, MS_SLAVE | MS_REC, false },
        { "unbindable", 0, 0, MS_UNBINDABLE, false },
        { "runbindable", 0, 0, MS_UNBINDABLE | MS_REC, false },
};

int rt_mount_flag(const char *opt, unsigned long *set, unsigned long *clear, unsigned long *prop,
                  bool *bind)
{
        for (size_t i = 0; i < ARRAY_SIZE(mount_opts); i++)
                if (!strcmp(mount_opts[i].name, opt)) {
                        *set |= mount_opts[i].set;
                        *clear |= mount_opts[i].clear;
                        *prop |= mount_opts[i].prop;
                        if (mount_opts[i].bind)
                                *bind = true;
                        return 1;
                }
        return 0;
}

static int parse_mount(const char *bundle, const cJSON *m, struct rt_mount *out, struct berth_err *err)
{
        const char *dest = berth_json_str(m, "destination");
        const char *type = berth_json_str(m, "type");
        const char *src = berth_json_str(m, "source");
        const cJSON *opts = cJSON_GetObjectItemCaseSensitive(m, "options"), *it;
        struct buf data = BUF_INIT;

        if (!dest || !*dest)
                return berth_err_set(err, EINVAL, "mount without a destination");
        if (dest[0] != '/')
                return berth_err_set(err, EINVAL, "mount destination '%s' is not an absolute path", dest);
        out->dest = xstrdup(dest);
        out->type = xstrdup(type ? type : "");
        cJSON_ArrayForEach(it, opts) {
                if (!cJSON_IsString(it))
                        return berth_err_set(err, EINVAL, "mount '%s': options must be strings", dest);
                if (rt_mount_flag(it->valuestring, &out->flags, &out->clear, &out->prop, &out->bind))
                        continue;
                /* recursive mount_setattr options and runc extensions we do not honour */
                if (it->valuestring[0] == 'r' && (!strcmp(it->valuestring, "rro") || !strcmp(it->valuestring, "rrw") ||
                    !strncmp(it->valuestring, "rno", 3) || !strcmp(it->valuestring, "rsuid") ||
                    !strcmp(it->valuestring, "rdev") || !strcmp(it->valuestring, "rexec") ||
                    !strcmp(it->valuestring, "ratime") || !strcmp(it->valuestring, "rrelatime") ||
                    !strcmp(it->valuestring, "rstrictatime"))) {
                        if (!strcmp(it->valuestring, "rro"))
                                out->flags |= MS_RDONLY;
                        continue;
                }
                if (!strcmp(it->valuestring, "tmpcopyup") || !strncmp(it->valuestring, "idmap", 5) ||
                    !strncmp(it->valuestring, "ridmap", 6))
                        continue;
                if (data.len)
                        buf_addc(&data, ',');
                buf_adds(&data, it->valuestring);
        }
        if (!strcmp(out->type, "bind"))
                out->bind = true;
        out->data = data.len ? buf_detach(&data, NULL) : NULL;
        if (out->bind) {
                struct stat sb;

                if (!src)
                        return berth_err_set(err, EINVAL, "bind mount '%s' has no source", dest);
                out->source = src[0] == '/' ? xstrdup(src) : xasprintf("%s/%s", bundle, src);
                if (stat(out->source, &sb) < 0)
                        return berth_err_set(err, errno, "mount source '%s' for '%s': %s", src, dest,
                                             strerror(errno));
        } else {
                out->source = xstrdup(src ? src : out->type);
        }
        return 0;
}

void rt_config_release(struct rt_config *c)
{
        for (size_t i = 0; i < c->nmounts; i++) {
                free(c->mounts[i].dest);
                free(c->mounts[i].type);
                free(c->mounts[i].source);
                free(c->mounts[i].data);
        }
        free(c->mounts);
        for (size_t i = 0; i < c->nns; i++)
                free(c->ns[i].path);
        rt_process_release(&c->proc);
        free(c->bundle);
        free(c->rootfs);
        cJSON_Delete(c->json);
        memset(c, 0, sizeof(*c));
}

static int parse_linux(struct rt_config *c, const cJSON *lx, struct berth_err *err)
{
        const cJSON *nss = cJSON_GetObjectItemCaseSensitive(lx, "namespaces"), *it;
        const char *s;

        cJSON_ArrayForEach(it, nss) {
                const char *type = berth_json_str(it, "type");
                const char *path = berth_json_str(it, "path");
                int t;

                if (!type)
                        return berth_err_set(err, EINVAL, "namespace without a type");
                t = rt_ns_type(type);
                if (t < 0)
                        return berth_err_set(err, EINVAL, "unknown namespace type '%s'", type);
                for (size_t i = 0; i < c->nns; i++)
                        if (c->ns[i].type == t)
                                return berth_err_set(err, EINVAL, "duplicate namespace '%s'", type);
                if (path && *path) {
                        struct stat sb;
                        if (stat(path, &sb) < 0)
                                return berth_err_set(err, errno, "namespace '%s' path '%s': %s", type, path,
                                                     strerror(errno));
                }
                c->ns[c->nns].type = t;
                c->ns[c->nns].path = path && *path ? xstrdup(path) : NULL;
                c->nns++;
                if (!path || !*path)
                        c->clone_flags |= t;
                if (t == CLONE_NEWUSER)
                        c->has_userns = true;
        }
        c->uid_maps = cJSON_GetObjectItemCaseSensitive(lx, "uidMappings");
        c->gid_maps = cJSON_GetObjectItemCaseSensitive(lx, "gidMappings");
        if ((c->clone_flags & CLONE_NEWUSER) && (!cJSON_GetArraySize(c->uid_maps) || !cJSON_GetArraySize(c->gid_maps)))
                return berth_err_set(err, EINVAL, "user namespace requires uidMappings and gidMappings");
        if (!c->has_userns && (cJSON_GetArraySize(c->uid_maps) || cJSON_GetArraySize(c->gid_maps)))
                return berth_err_set(err, EINVAL, "uidMappings/gidMappings given without a user namespace");
        c->masked = cJSON_GetObjectItemCaseSensitive(lx, "maskedPaths");
        c->ro_paths = cJSON_GetObjectItemCaseSensitive(lx, "readonlyPaths");
        c->devices = cJSON_GetObjectItemCaseSensitive(lx, "devices");
        c->sysctl = cJSON_GetObjectItemCaseSensitive(lx, "sysctl");
        c->resources = cJSON_GetObjectItemCaseSensitive(lx, "resources");
        c->seccomp = cJSON_GetObjectItemCaseSensitive(lx, "seccomp");
        c->cgroups_path = berth_json_str(lx, "cgroupsPath");
        s = berth_json_str(lx, "rootfsPropagation");
        if (s && *s) {
                unsigned long set = 0, clear = 0, prop = 0;
                bool bind = false;
                if (!rt_mount_flag(s, &set, &clear, &prop, &bind) || !prop)
                        return berth_err_set(err, EINVAL, "invalid rootfsPropagation '%s'", s);
                c->rootfs_prop = prop;
        }
        it = cJSON_GetObjectItemCaseSensitive(lx, "personality");
        if (it) {
                s = berth_json_str(it, "domain");
                if (!s)
                        return berth_err_set(err, EINVAL, "linux.personality without a domain");
                if (!strcmp(s, "LINUX"))
                        c->personality = PER_LINUX;
                else if (!strcmp(s, "LINUX32"))
                        c->personality = PER_LINUX32;
                else
                        return berth_err_set(err, EINVAL, "unknown personality domain '%s'", s);
        }
        /* validate sysctl against namespaces, as runc does */
        cJSON_ArrayForEach(it, c->sysctl) {
                if (!cJSON_IsString(it))
                        return berth_err_set(err, EINVAL, "sysctl '%s' must be a string", it->string);
                if (!strncmp(it->string, "net.", 4) && !(c->clone_flags & CLONE_NEWNET) &&
                    !rt_ns_has_path(c, CLONE_NEWNET))
                        return berth_err_set(err, EINVAL, "sysctl '%s' is not allowed in the host network namespace",
                                             it->string);
                if ((!strcmp(it->string, "kernel.hostname") || !strcmp(it->string, "kernel.domainname")) &&
                    !(c->clone_flags & CLONE_NEWUTS))
                        return berth_err_set(err, EINVAL, "sysctl '%s' is not allowed in the host UTS namespace",
                                             it->string);
        }
        return 0;
}

bool rt_ns_has_path(const struct rt_config *c, int type)
{
        for (size_t i = 0; i < c->nns; i++)
                if (c->ns[i].type == type && c->ns[i].path)
                        return true;
        return false;
}

bool rt_ns_has(const struct rt_config *c, int type)
{
        for (size_t i = 0; i < c->nns; i++)
                if (c->ns[i].type == type)
                        return true;
        return false;
}

int rt_config_load(const char *bundle, struct rt_config *c, struct berth_err *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL, *rp = NULL;
        const cJSON *root, *lx, *mounts, *it;
        const char *rootpath, *hn;
        size_t len;
        struct stat sb;
        int r;

        memset(c, 0, sizeof(*c));
        c->personality = -1;
        rp = realpath(bundle, NULL);
        if (!rp)
                return berth_err_set(err, errno, "bundle '%s': %s", bundle, strerror(errno));
        c->bundle = TAKE_PTR(rp);
        path = xasprintf("%s/config.json", c->bundle);
        r = berth_read_file(path, CONFIG_MAX, &text, &len, NULL);
        if (r < 0)
                return berth_err_set(err, -r, "open %s: %s", path, strerror(-r));
        r = berth_json_parse(text, len, &c->json, err);
        if (r < 0)
                return berth_err_wrap(err, "config.json");
        if (!cJSON_IsObject(c->json))
                return berth_err_set(err, EINVAL, "config.json: not a JSON object");
        if (!berth_json_str(c->json, "ociVersion"))
                return berth_err_set(err, EINVAL, "config.json: ociVersion is missing");
        root = cJSON_GetObjectItemCaseSensitive(c->json, "root");
        rootpath = berth_json_str(root, "path");
        if (!rootpath)
                return berth_err_set(err, EINVAL, "config.json: root.path is missing");
        {
                _cleanup_free_ char *joined = rootpath[0] == '/' ? xstrdup(rootpath)
                                                                  : xasprintf("%s/%s", c->bundle, rootpath);
                c->rootfs = realpath(joined, NULL);
                if (!c->rootfs)
                        return berth_err_set(err, errno, "rootfs '%s': %s", rootpath, strerror(errno));
                if (stat(c->rootfs, &sb) < 0 || !S_ISDIR(sb.st_mode))
                        return berth_err_set(err, ENOTDIR, "rootfs '%s' is not a directory", rootpath);
                if (!strcmp(c->rootfs, "/"))
                        return berth_err_set(err, EINVAL, "rootfs '%s' resolves to the host root", rootpath);
                /* a relative root.path must stay inside the bundle */
                if (rootpath[0] != '/') {
                        size_t bl = strlen(c->bundle);
                        if (strncmp(c->rootfs, c->bundle, bl) || (c->rootfs[bl] != '/' && c->rootfs[bl] != '\0'))
                                return berth_err_set(err, EINVAL, "rootfs '%s' escapes the bundle", rootpath);
                }
        }
        c->readonly = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(root, "readonly"));

        it = cJSON_GetObjectItemCaseSensitive(c->json, "process");
        if (!it)
                return berth_err_set(err, EINVAL, "config.json: process is missing");
        c->has_process = true;
        r = rt_process_parse(it, &c->proc, err);
        if (r < 0)
                return berth_err_wrap(err, "config.json");

        hn = berth_json_str(c->json, "hostname");
        c->hostname = hn && *hn ? hn : NULL;
        hn = berth_json_str(c->json, "domainname");
        c->domainname = hn && *hn ? hn : NULL;
        lx = cJSON_GetObjectItemCaseSensitive(c->json, "linux");
        if (lx) {
                r = parse_linux(c, lx, err);
                if (r < 0)
                        return berth_err_wrap(err, "config.json");
        }
        if ((c->hostname || c->domainname) && !(c->clone_flags & CLONE_NEWUTS) && !rt_ns_has_path(c, CLONE_NEWUTS))
                return berth_err_set(err, EINVAL, "config.json: hostname requires a new UTS namespace");
        c->hooks = cJSON_GetObjectItemCaseSensitive(c->json, "hooks");
        c->annotations = cJSON_GetObjectItemCaseSensitive(c->json, "annotations");
        mounts = cJSON_GetObjectItemCaseSensitive(c->json, "mounts");
        if (mounts && !cJSON_IsArray(mounts))
                return berth_err_set(err, EINVAL, "config.json: mounts must be an array");
        c->mounts = xcalloc((size_t)cJSON_GetArraySize(mounts) + 1, sizeof(*c->mounts));
        cJSON_ArrayForEach(it, mounts) {
                r = parse_mount(c->bundle, it, &c->mounts[c->nmounts], err);
                c->nmounts++;
                if (r < 0)
                        return berth_err_wrap(err, "config.json");
        }
        return 0;
}
