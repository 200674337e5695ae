/* SPDX-License-Identifier: Apache-2.0
 * t/helper/storage-tool.c -- drive storage/ from shell tests:
 *   storage-tool [--min-free SPEC] ROOT COMMAND ARGS...
 * Prints JSON answers on stdout; failures as "error: MSG (errno N)" on
 * stderr with exit 1; usage errors exit 2. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/xattr.h>

#include "storage/storage.h"

static struct storage *S;

static int fail(const struct berth_err *e)
{
        fprintf(stderr, "error: %s (errno %d%s)\n", e->msg, e->code, e->public ? ", public" : "");
        return 1;
}

static void print_json(const cJSON *j)
{
        char *s = cJSON_PrintUnformatted(j);

        printf("%s\n", s);
        free(s);
}

static int open_in(const char *p)
{
        if (!strcmp(p, "-"))
                return dup(0);
        return open(p, O_RDONLY | O_CLOEXEC);
}

static int open_out(const char *p)
{
        if (!strcmp(p, "-"))
                return dup(1);
        return open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
}

/* collect "--flag value" options; returns the next positional index */
struct opts {
        const char *repo, *tag, *message, *comment, *author;
        const char *changes[32];
        int nchanges;
        bool force, noprune, all, ro, nodirnondir;
        cJSON *labels, *dopts;
        const char *pos[8];
        int npos;
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
        int i;

        for (i = 0; i < argc; i++) {
                const char *a = argv[i];

                if (!strcmp(a, "--force"))
                        o->force = true;
                else if (!strcmp(a, "--noprune"))
                        o->noprune = true;
                else if (!strcmp(a, "--all"))
                        o->all = true;
                else if (!strcmp(a, "--ro"))
                        o->ro = true;
                else if (!strcmp(a, "--no-overwrite-dir-non-dir"))
                        o->nodirnondir = true;
                else if (i + 1 < argc && !strcmp(a, "--repo"))
                        o->repo = argv[++i];
                else if (i + 1 < argc && !strcmp(a, "--tag"))
                        o->tag = argv[++i];
                else if (i + 1 < argc && !strcmp(a, "--message"))
                        o->message = argv[++i];
                else if (i + 1 < argc && !strcmp(a, "--comment"))
                        o->comment = argv[++i];
                else if (i + 1 < argc && !strcmp(a, "--author"))
                        o->author = argv[++i];
                else if (i + 1 < argc && !strcmp(a, "--change") && o->nchanges < 31)
                        o->changes[o->nchanges++] = argv[++i];
                else if (i + 1 < argc && (!strcmp(a, "--label") || !strcmp(a, "--opt"))) {
                        cJSON **t = a[2] == 'l' ? &o->labels : &o->dopts;
                        char *kv = argv[++i], *eq = strchr(kv, '=');

                        if (!*t)
                                *t = cJSON_CreateObject();
                        if (eq) {
                                *eq = '\0';
                                cJSON_AddStringToObject(*t, kv, eq + 1);
                        } else {
                                cJSON_AddStringToObject(*t, kv, "");
                        }
                } else if (o->npos < 8)
                        o->pos[o->npos++] = a;
                else
                        return -1;
        }
        return 0;
}

static cJSON *parse_filters(const char *s)
{
        cJSON *j = NULL;

        if (s && berth_json_parse(s, strlen(s), &j, NULL) < 0)
                return NULL;
        return j;
}

struct async_state {
        int calls;
        int status;
        bool returned;
        bool early;
};

static void async_cb(int status, void *result, const struct berth_err *err, void *data)
{
        struct async_state *st = data;

        st->calls++;
        st->status = status;
        if (!st->returned)
                st->early = true;
        if (status < 0)
                fprintf(stderr, "error: %s (errno %d)\n", err->msg, err->code);
        if (result) {
                struct storage_load_result *res = result;
                size_t i;

                for (i = 0; res->tags && res->tags[i]; i++)
                        printf("Loaded image: %s\n", res->tags[i]);
                for (i = 0; res->ids && res->ids[i]; i++)
                        printf("Loaded image ID: %s\n", res->ids[i]);
                storage_load_result_release(res);
                free(res);
        }
}

static int run(const char *cmd, struct opts *o)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *out = NULL;
        int r = 0;
        const char *a0 = o->npos > 0 ? o->pos[0] : NULL;
        const char *a1 = o->npos > 1 ? o->pos[1] : NULL;

        if (!strcmp(cmd, "load")) {
                struct storage_load_result res;
                int fd;
                size_t i;

                if (!a0)
                        return 2;
                fd = open_in(a0);
                if (fd < 0)
                        return 2;
                r = storage_image_load(S, fd, &res, &err);
                close(fd);
                if (r < 0)
                        return fail(&err);
                for (i = 0; res.tags && res.tags[i]; i++)
                        printf("Loaded image: %s\n", res.tags[i]);
                for (i = 0; res.ids && res.ids[i]; i++)
                        printf("Loaded image ID: %s\n", res.ids[i]);
                storage_load_result_release(&res);
                return 0;
        }
        if (!strcmp(cmd, "load-async")) {
                uv_loop_t loop;
                struct async_state st = { 0 };
                int fd;

                if (!a0 || (fd = open_in(a0)) < 0)
                        return 2;
                uv_loop_init(&loop);
                r = storage_image_load_async(&loop, S, fd, async_cb, &st, &err);
                st.returned = true;
                if (r < 0) {
                        close(fd);
                        uv_loop_close(&loop);
                        return fail(&err);
                }
                uv_run(&loop, UV_RUN_DEFAULT);
                uv_loop_close(&loop);
                printf("callbacks=%d early=%d status=%d\n", st.calls, st.early, st.status);
                return st.calls == 1 && !st.early && st.status == 0 ? 0 : 1;
        }
        if (!strcmp(cmd, "save")) {
                int fd;

                if (!a0 || !a1)
                        return 2;
                fd = open_out(a0);
                if (fd < 0)
                        return 2;
                r = storage_image_save(S, (const char *const *)&o->pos[1], fd, &err);
                close(fd);
                return r < 0 ? fail(&err) : 0;
        }
        if (!strcmp(cmd, "import")) {
                struct storage_import_opts io = { .repo = o->repo, .tag = o->tag,
                                                  .message = o->message,
                                                  .changes = o->changes };
                char *id = NULL;
                int fd;

                if (!a0 || (fd = open_in(a0)) < 0)
                        return 2;
                r = storage_image_import(S, fd, &io, &id, &err);
                close(fd);
                if (r < 0)
                        return fail(&err);
                printf("%s\n", id);
                free(id);
                return 0;
        }
        if (!strcmp(cmd, "resolve")) {
                char *id = NULL;

                if (!a0)
                        return 2;
                r = storage_image_resolve(S, a0, &id, &err);
                if (r < 0)
                        return fail(&err);
                printf("%s\n", id);
                free(id);
                return 0;
        }
        if (!strcmp(cmd, "ref")) {
                struct storage_ref ref;
                char *f, *fam;

                if (!a0)
                        return 2;
                r = storage_ref_parse(a0, &ref, &err);
                if (r < 0)
                        return fail(&err);
                f = storage_ref_full(&ref);
                fam = storage_ref_familiar(&ref);
                printf("%s %s\n", f, fam);
                free(f);
                free(fam);
                storage_ref_release(&ref);
                return 0;
        }
        if (!strcmp(cmd, "inspect"))
                r = a0 ? storage_image_inspect(S, a0, &out, &err) : -1;
        else if (!strcmp(cmd, "history"))
                r = a0 ? storage_image_history(S, a0, &out, &err) : -1;
        else if (!strcmp(cmd, "images")) {
                cJSON *f = parse_filters(a0);
                struct storage_image_filter fl = { .all = o->all, .filters = f };

                r = storage_image_list(S, &fl, &out, &err);
                cJSON_Delete(f);
        } else if (!strcmp(cmd, "tag")) {
                if (!a0 || !a1)
                        return 2;
                r = storage_image_tag(S, a0, a1, o->npos > 2 ? o->pos[2] : NULL, &err);
        } else if (!strcmp(cmd, "rmi")) {
                struct storage_rmi_opts ro = { .force = o->force, .noprune = o->noprune };

                r = a0 ? storage_image_remove(S, a0, &ro, &out, &err) : -1;
        } else if (!strcmp(cmd, "prune")) {
                cJSON *f = parse_filters(a0);

                r = storage_image_prune(S, o->all, f, NULL, NULL, &out, &err);
                cJSON_Delete(f);
        } else if (!strcmp(cmd, "gc")) {
                uint64_t rec = 0;

                r = storage_gc(S, &rec, &err);
                if (r == 0)
                        printf("reclaimed %llu\n", (unsigned long long)rec);
        } else if (!strcmp(cmd, "check")) {
                struct buf b = BUF_INIT;

                r = storage_check(S, &b, &err);
                if (r > 0) {
                        fprintf(stderr, "%s", buf_cstr(&b));
                        buf_release(&b);
                        return 1;
                }
                buf_release(&b);
        } else if (!strcmp(cmd, "rootfs-create")) {
                r = a0 && a1 ? storage_rootfs_create(S, a0, a1, &err) : -1;
        } else if (!strcmp(cmd, "mount")) {
                char *p = NULL;

                r = a0 ? storage_rootfs_mount(S, a0, o->ro ? STORAGE_MOUNT_RO : 0, &p, &err) : -1;
                if (r == 0)
                        printf("%s\n", p);
                free(p);
        } else if (!strcmp(cmd, "umount")) {
                r = a0 ? storage_rootfs_unmount(S, a0, &err) : -1;
        } else if (!strcmp(cmd, "rootfs-rm")) {
                r = a0 ? storage_rootfs_remove(S, a0, &err) : -1;
        } else if (!strcmp(cmd, "graphdriver")) {
                r = a0 ? storage_rootfs_graphdriver(S, a0, &out, &err) : -1;
        } else if (!strcmp(cmd, "changes")) {
                r = a0 ? storage_rootfs_changes(S, a0, &out, &err) : -1;
        } else if (!strcmp(cmd, "export")) {
                int fd;

                if (!a0 || !a1 || (fd = open_out(a1)) < 0)
                        return 2;
                r = storage_rootfs_export(S, a0, fd, &err);
                close(fd);
        } else if (!strcmp(cmd, "cp-stat")) {
                r = a0 && a1 ? storage_rootfs_path_stat(S, a0, a1, &out, &err) : -1;
        } else if (!strcmp(cmd, "cp-get")) {
                cJSON *stat = NULL;
                int fd;

                if (!a0 || !a1 || o->npos < 3 || (fd = open_out(o->pos[2])) < 0)
                        return 2;
                r = storage_rootfs_archive_get(S, a0, a1, fd, &stat, &err);
                close(fd);
                if (r == 0) {
                        char *js = cJSON_PrintUnformatted(stat);

                        fprintf(stderr, "stat: %s\n", js);
                        free(js);
                }
                cJSON_Delete(stat);
        } else if (!strcmp(cmd, "cp-put")) {
                int fd;

                if (!a0 || !a1 || o->npos < 3 || (fd = open_in(o->pos[2])) < 0)
                        return 2;
                r = storage_rootfs_archive_put(S, a0, a1, fd, o->nodirnondir, &err);
                close(fd);
        } else if (!strcmp(cmd, "commit")) {
                struct storage_commit_opts co = { .repo = o->repo, .tag = o->tag,
                                                  .comment = o->comment, .author = o->author,
                                                  .changes = o->changes };
                char *id = NULL;

                r = a0 ? storage_commit(S, a0, &co, &id, &err) : -1;
                if (r == 0)
                        printf("%s\n", id);
                free(id);
        } else if (!strcmp(cmd, "vol-create")) {
                struct storage_volume_opts vo = { .name = a0, .labels = o->labels,
                                                  .driver_opts = o->dopts };

                r = storage_volume_create(S, &vo, &out, &err);
        } else if (!strcmp(cmd, "vol-inspect")) {
                r = a0 ? storage_volume_inspect(S, a0, &out, &err) : -1;
        } else if (!strcmp(cmd, "vol-ls")) {
                cJSON *f = parse_filters(a0);

                r = storage_volume_list(S, f, &out, &err);
                cJSON_Delete(f);
        } else if (!strcmp(cmd, "vol-rm")) {
                r = a0 ? storage_volume_remove(S, a0, o->force, &err) : -1;
        } else if (!strcmp(cmd, "vol-rm-in-use")) {
                /* ref the volume in this process, then try to remove it */
                if (!a0)
                        return 2;
                r = storage_volume_ref(S, a0, &err);
                if (r == 0)
                        r = storage_volume_remove(S, a0, o->force, &err);
        } else if (!strcmp(cmd, "vol-path")) {
                char *p = NULL;

                r = a0 ? storage_volume_path(S, a0, &p, &err) : -1;
                if (r == 0)
                        printf("%s\n", p);
                free(p);
        } else if (!strcmp(cmd, "vol-copy-up")) {
                r = a0 && a1 && o->npos > 2 ? storage_volume_copy_up(S, a0, a1, o->pos[2], &err)
                                            : -1;
        } else if (!strcmp(cmd, "vol-prune")) {
                r = storage_volume_prune(S, o->all, NULL, &out, &err);
        } else if (!strcmp(cmd, "df")) {
                r = storage_df(S, &out, &err);
        } else {
                fprintf(stderr, "unknown command %s\n", cmd);
                return 2;
        }
        if (r == -1 && !err.code)
                return 2;
        if (r < 0)
                return fail(&err);
        if (out) {
                print_json(out);
                cJSON_Delete(out);
        }
        return 0;
}

/* ---- mktar: a hand-written ustar writer for hostile test archives ----
 * storage-tool mktar OUT SPEC...   SPEC = f:NAME:CONTENT | d:NAME |
 * s:NAME:TARGET (symlink) | h:NAME:TARGET (hard link) | c:NAME (char 0/0)
 * Names longer than 100 bytes get a GNU ././@LongLink entry. */
static void oct(char *dst, size_t n, unsigned long long v)
{
        size_t i = n - 1;

        dst[i] = '\0';
        while (i-- > 0) {
                dst[i] = (char)('0' + (v & 7));
                v >>= 3;
        }
}

static void tar_hdr(FILE *f, const char *name, char type, const char *link, size_t size)
{
        char h[512];
        unsigned sum = 0;
        size_t i;

        if (strlen(name) > 99) {
                size_t nl = strlen(name) + 1;
                char pad[512] = { 0 };

                tar_hdr(f, "././@LongLink", 'L', "", nl);
                fwrite(name, 1, nl, f);
                fwrite(pad, 1, (512 - nl % 512) % 512, f);
        }
        memset(h, 0, sizeof(h));
        strncpy(h, name, 99);
        oct(h + 100, 8, type == '5' ? 0755 : 0644);
        oct(h + 108, 8, 0);
        oct(h + 116, 8, 0);
        oct(h + 124, 12, size);
        oct(h + 136, 12, 1700000000);
        h[156] = type;
        strncpy(h + 157, link, 99);
        memcpy(h + 257, "ustar", 6);
        memcpy(h + 263, "00", 2);
        memset(h + 148, ' ', 8);
        for (i = 0; i < 512; i++)
                sum += (unsigned char)h[i];
        snprintf(h + 148, 8, "%06o", sum);
        fwrite(h, 1, 512, f);
}

static int mktar(int argc, char **argv)
{
        FILE *f;
        char pad[1024] = { 0 };
        int i;

        if (argc < 1)
                return 2;
        f = fopen(argv[0], "we");
        if (!f)
                return 2;
        for (i = 1; i < argc; i++) {
                char *spec = strdup(argv[i]), *name, *arg;
                char t = spec[0];

                name = spec + 2;
                arg = strchr(name, ':');
                if (arg)
                        *arg++ = '\0';
                switch (t) {
                case 'f':
                        tar_hdr(f, name, '0', "", arg ? strlen(arg) : 0);
                        if (arg && *arg) {
                                fwrite(arg, 1, strlen(arg), f);
                                fwrite(pad, 1, (512 - strlen(arg) % 512) % 512, f);
                        }
                        break;
                case 'd': tar_hdr(f, name, '5', "", 0); break;
                case 's': tar_hdr(f, name, '2', arg ? arg : "", 0); break;
                case 'h': tar_hdr(f, name, '1', arg ? arg : "", 0); break;
                case 'c': tar_hdr(f, name, '3', "", 0); break;
                case 'x': {
                        /* pax header with SCHILY.xattr.KEY=VALUE, then an empty file */
                        char rec[1024], body[1100];
                        int len, n;

                        snprintf(rec, sizeof(rec), " SCHILY.xattr.%s\n", arg ? arg : "");
                        len = (int)strlen(rec);
                        n = len + 2;
                        if (n >= 100)
                                n++;
                        snprintf(body, sizeof(body), "%d%s", n, rec);
                        n = (int)strlen(body);
                        tar_hdr(f, "PaxHeaders/x", 'x', "", (size_t)n);
                        fwrite(body, 1, (size_t)n, f);
                        fwrite(pad, 1, (512 - (size_t)n % 512) % 512, f);
                        tar_hdr(f, name, '0', "", 0);
                        break;
                }
                default:
                        free(spec);
                        fclose(f);
                        return 2;
                }
                free(spec);
        }
        fwrite(pad, 1, 1024, f);
        return fclose(f) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
        struct berth_err err = BERTH_ERR_INIT;
        struct storage_opts so = { 0 };
        struct opts o = { 0 };
        int i = 1, r;

        if (argc > 1 && !strcmp(argv[1], "mktar"))
                return mktar(argc - 2, argv + 2);
        if (argc == 4 && !strcmp(argv[1], "getxattr")) {
                char v[256];
                ssize_t n = lgetxattr(argv[2], argv[3], v, sizeof(v) - 1);

                if (n < 0)
                        return 1;
                v[n] = '\0';
                printf("%s\n", v);
                return 0;
        }

        berth_json_init();
        if (argc > 2 && !strcmp(argv[1], "--min-free")) {
                so.min_free_space = argv[2];
                i = 3;
        }
        if (argc - i < 2) {
                fprintf(stderr, "usage: storage-tool [--min-free SPEC] ROOT COMMAND ARGS...\n");
                return 2;
        }
        if (parse_opts(argc - i - 2, argv + i + 2, &o) < 0)
                return 2;
        r = storage_open(argv[i], &so, &S, &err);
        if (r < 0)
                return fail(&err);
        r = run(argv[i + 1], &o);
        storage_free(S);
        cJSON_Delete(o.labels);
        cJSON_Delete(o.dopts);
        return r;
}
