/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-storage.c -- unit tests of storage/: references, blobs, the
 * open guard, change lines, the min_free_space option, async contracts. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "storage/storage-internal.h"
#include "t/unit/tap.h"

static void check_ref(const char *in, const char *full, const char *fam)
{
        struct storage_ref r;
        struct berth_err err = BERTH_ERR_INIT;
        int rc = storage_ref_parse(in, &r, &err);

        ok(rc == 0, "parse '%s'", in);
        if (rc == 0) {
                char *f = storage_ref_full(&r), *m = storage_ref_familiar(&r);

                is_str(f, full, "full form of '%s'", in);
                is_str(m, fam, "familiar form of '%s'", in);
                free(f);
                free(m);
                storage_ref_release(&r);
        }
}

static void check_bad_ref(const char *in, const char *msg)
{
        struct storage_ref r;
        struct berth_err err = BERTH_ERR_INIT;
        int rc = storage_ref_parse(in, &r, &err);

        is_int(rc, -EINVAL, "'%s' is refused", in);
        ok(err.public && strstr(err.msg, msg) != NULL, "'%s': message '%s' has '%s'", in,
           err.msg, msg);
}

static void test_refs(void)
{
        check_ref("busybox", "docker.io/library/busybox:latest", "busybox:latest");
        check_ref("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36");
        check_ref("docker.io/library/busybox", "docker.io/library/busybox:latest",
                  "busybox:latest");
        check_ref("index.docker.io/library/busybox:x", "docker.io/library/busybox:x",
                  "busybox:x");
        check_ref("user/app:v_1.0-rc", "docker.io/user/app:v_1.0-rc", "user/app:v_1.0-rc");
        check_ref("localhost/app", "localhost/app:latest", "localhost/app:latest");
        check_ref("localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t", "localhost:5000/a/b/c:t");
        check_ref("registry.example.com:443/x__y-z.w", "registry.example.com:443/x__y-z.w:latest",
                  "registry.example.com:443/x__y-z.w:latest");
        check_ref("busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "docker.io/library/busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                  "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
        check_bad_ref("", "invalid reference format");
        check_bad_ref("BusyBox", "must be lowercase");
        check_bad_ref("a:b:c", "invalid reference format");
        check_bad_ref("a/-b", "invalid reference format");
        check_bad_ref("a//b", "invalid reference format");
        check_bad_ref("a:", "invalid reference format");
        check_bad_ref("x@sha256:abc", "invalid checksum digest");
        check_bad_ref("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
                      "64-byte hexadecimal");
}

static char *tmp_root(void)
{
        char t[] = "/tmp/u-storage.XXXXXX";

        if (!mkdtemp(t))
                return NULL;
        return xstrdup(t);
}

static void test_open_guard(void)
{
        struct storage *s = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        static const char *const bad[] = { "", "/", "//", "relative", "/a/..", "/a/../b" };
        size_t i;

        for (i = 0; i < ARRAY_SIZE(bad); i++) {
                berth_err_clear(&err);
                is_int(storage_open(bad[i], NULL, &s, &err), -EINVAL, "open refuses root '%s'",
                       bad[i]);
        }
        is_int(storage_open("/etc/passwd", NULL, &s, &err), -ENOTDIR, "open refuses a file");
}

static void test_blobs(const char *root)
{
        struct storage *s = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        char *d = NULL, *data = NULL, *p;
        size_t n = 0;
        FILE *f;

        ok(storage_open(root, NULL, &s, &err) == 0, "open %s: %s", root, err.msg);
        if (!s)
                return;
        ok(storage_blob_put(s, "hello", 5, NULL, &d, &err) == 0, "blob put");
        is_str(d, "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
               "blob digest");
        ok(storage_blob_exists(s, d), "blob exists");
        ok(storage_blob_get(s, d, &data, &n, &err) == 0 && n == 5 && !memcmp(data, "hello", 5),
           "blob get");
        free(data);
        data = NULL;
        is_int(storage_blob_put(s, "hellO", 5, d, NULL, &err), -EINVAL,
               "a blob that does not match its digest is refused");
        ok(strstr(err.msg, "mismatch") != NULL, "message: %s", err.msg);
        {
                char *bad = storage_sha256_digest("hellO", 5);

                ok(!storage_blob_exists(s, bad), "the mismatching content was not stored");
                free(bad);
        }
        /* corrupt the stored blob: reading detects it */
        p = st_path(s, "image/blobs/sha256/%s", d + 7);
        f = fopen(p, "we");
        if (f) {
                fputs("HELLO", f);
                fclose(f);
        }
        is_int(storage_blob_get(s, d, &data, &n, &err), -EIO, "a corrupt blob reads as EIO");
        free(p);
        free(d);
        (void)storage_gc(s, NULL, &err);
        {
                _cleanup_free_ char *bd = st_path(s, "image/blobs/sha256");
                int count = 0;
                DIR *dir = opendir(bd);
                struct dirent *de;

                while (dir && (de = readdir(dir)))
                        if (de->d_name[0] != '.')
                                count++;
                if (dir)
                        closedir(dir);
                is_int(count, 0, "gc removes unreferenced blobs");
        }
        storage_free(s);
}

static void test_changes(void)
{
        cJSON *c = cJSON_CreateObject();
        struct berth_err err = BERTH_ERR_INIT;
        const char *const good[] = {
                "CMD echo hi",
                "ENTRYPOINT [\"/bin/sh\", \"-c\"]",
                "ENV A=1 B=\"two words\"",
                "ENV C 3",
                "ENV A=one",
                "LABEL x=y",
                "EXPOSE 80 53/udp",
                "VOLUME /data",
                "USER nobody",
                "WORKDIR /w",
                "STOPSIGNAL SIGTERM",
                NULL,
        };
        const char *const bad[] = { "FROM busybox", NULL };
        char *js;

        is_int(storage_apply_changes(c, good, &err), 0, "change lines apply: %s", err.msg);
        js = cJSON_PrintUnformatted(c);
        ok(strstr(js, "\"Cmd\":[\"/bin/sh\",\"-c\",\"echo hi\"]") != NULL, "CMD shell form");
        ok(strstr(js, "\"Entrypoint\":[\"/bin/sh\",\"-c\"]") != NULL, "ENTRYPOINT exec form");
        ok(strstr(js, "\"Env\":[\"A=one\",\"B=two words\",\"C=3\"]") != NULL, "ENV forms: %s", js);
        ok(strstr(js, "\"ExposedPorts\":{\"80/tcp\":{},\"53/udp\":{}}") != NULL, "EXPOSE");
        ok(strstr(js, "\"Volumes\":{\"/data\":{}}") != NULL, "VOLUME");
        ok(strstr(js, "\"User\":\"nobody\"") && strstr(js, "\"WorkingDir\":\"/w\"") &&
                   strstr(js, "\"StopSignal\":\"SIGTERM\"") && strstr(js, "\"x\":\"y\""),
           "USER, WORKDIR, STOPSIGNAL, LABEL");
        free(js);
        is_int(storage_apply_changes(c, bad, &err), -EINVAL, "FROM is not a change");
        ok(err.public, "a public error");
        cJSON_Delete(c);
}

static void test_min_free(const char *root)
{
        struct storage *s = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct storage_opts o = { .min_free_space = "overlay2.min_free_space=99%" };

        ok(storage_open(root, &o, &s, &err) == 0, "open with min_free_space 99%%");
        if (!s)
                return;
        is_int(st_space_check(s, 0, &err), -ENOSPC, "99%% free is not there");
        ok(strstr(err.msg, "no space left") && strstr(err.msg, "min_free_space"),
           "message: %s", err.msg);
        is_int(storage_set_option(s, "overlay2.min_free_space=1k", &err), 0, "1k parses");
        is_int(st_space_check(s, 4096, &err), 0, "4 KiB fits above 1 KiB");
        is_int(storage_set_option(s, "overlay2.min_free_space=100%", &err), -EINVAL,
               "100%% is refused");
        is_int(storage_set_option(s, "overlay2.other=1", &err), -EINVAL,
               "unknown option refused");
        storage_free(s);
}

struct cbstate {
        int calls;
        bool returned;
        bool early;
        int status;
};

static void done_cb(int status, void *result, const struct berth_err *err, void *data)
{
        struct cbstate *c = data;

        (void)result;
        (void)err;
        c->calls++;
        c->status = status;
        if (!c->returned)
                c->early = true;
}

static int call_fn(struct storage *s, void *arg, void **result, struct berth_err *err)
{
        (void)s;
        *result = xstrdup(arg);
        return berth_err_pub(err, ENOENT, "no such thing: %s", (const char *)arg);
}

struct callstate {
        int calls;
        int status;
        char *result;
        char msg[BERTH_ERR_MSG_MAX];
};

static void call_cb(int status, void *result, const struct berth_err *err, void *data)
{
        struct callstate *c = data;

        c->calls++;
        c->status = status;
        c->result = result;
        snprintf(c->msg, sizeof(c->msg), "%s", err->msg);
}

static void test_async(const char *root)
{
        struct storage *s = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct cbstate c = { 0 }, c2 = { 0 };
        uv_loop_t loop;
        int fds[2];

        if (storage_open(root, NULL, &s, &err) < 0) {
                ok(0, "open: %s", err.msg);
                return;
        }
        uv_loop_init(&loop);
        is_int(storage_gc_async(&loop, s, done_cb, &c, &err), 0, "gc_async queued");
        c.returned = true;
        is_int(c.calls, 0, "callback not called before the loop runs");
        /* a load of garbage fails through the callback, not synchronously */
        if (pipe2(fds, O_CLOEXEC) == 0) {
                ssize_t w = write(fds[1], "garbage, not a tar archive", 26);

                (void)w;
                close(fds[1]);
                is_int(storage_image_load_async(&loop, s, fds[0], done_cb, &c2, &err), 0,
                       "load_async queued");
                c2.returned = true;
        }
        {
                struct callstate cs = { 0 };

                is_int(storage_call_async(&loop, s, call_fn, (void *)"x", call_cb, &cs, &err), 0,
                       "call_async queued");
                is_int(cs.calls, 0, "not called synchronously");
                uv_run(&loop, UV_RUN_DEFAULT);
                is_int(cs.calls, 1, "call callback ran once");
                is_int(cs.status, -ENOENT, "status passed through");
                is_str(cs.result, "x", "result passed through");
                is_str(cs.msg, "no such thing: x", "error message passed through");
                free(cs.result);
        }
        is_int(c.calls, 1, "gc callback ran exactly once");
        ok(!c.early, "never synchronously");
        is_int(c.status, 0, "gc succeeded");
        is_int(c2.calls, 1, "load callback ran exactly once");
        is_int(c2.status, -EINVAL, "bad archive reported as EINVAL");
        ok(!c2.early, "never synchronously");
        is_int(uv_loop_close(&loop), 0, "loop closes cleanly");
        storage_free(s);
}

static int count_trash(const char *root)
{
        char *tmp = xasprintf("%s/tmp", root);
        DIR *d = opendir(tmp);
        struct dirent *de;
        int n = 0;

        free(tmp);
        if (!d)
                return -1;
        while ((de = readdir(d)))
                if (!strncmp(de->d_name, "trash-", 6))
                        n++;
        closedir(d);
        return n;
}

static void test_trash(const char *root)
{
        struct storage *s = NULL;
        struct berth_err err = BERTH_ERR_INIT;
        struct stat st;

        ok(storage_open(root, NULL, &s, &err) == 0, "trash: open: %s", err.msg);
        if (!s)
                return;
        char *tree = xasprintf("%s/containers-x/a/b", root);
        ok(berth_mkdir_p(tree, 0700) == 0, "trash: a tree");
        int written = 0;
        for (int i = 0; i < 50; i++) {
                char *f = xasprintf("%s/f%d", tree, i);
                written += berth_write_file_volatile(f, "x", 1, 0600, &err) == 0;
                free(f);
        }
        is_int(written, 50, "trash: 50 files in it");
        char *top = xasprintf("%s/containers-x", root);
        is_int(storage_trash(s, top), 0, "trash: moved");
        ok(lstat(top, &st) < 0 && errno == ENOENT, "trash: gone from its place at once");
        /* the storage thread removes it: bounded wait */
        int left = -1;
        for (int i = 0; i < 500 && (left = count_trash(root)) != 0; i++)
                usleep(10000);
        is_int(left, 0, "trash: removed in the background");
        is_int(storage_trash(s, top), 0, "trash: a missing path is no error");
        /* what is still queued at exit stays for the next open, which drops it */
        ok(berth_mkdir_p(tree, 0700) == 0, "trash: another tree");
        char *mark = xasprintf("%s/tmp/trash-leftover", root);
        ok(berth_mkdir_p(mark, 0700) == 0, "trash: a leftover of a crash");
        is_int(storage_trash(s, top), 0, "trash: moved again");
        storage_free(s);
        s = NULL;
        ok(storage_open(root, NULL, &s, &err) == 0, "trash: open again");
        is_int(count_trash(root), 0, "trash: emptied at open");
        storage_free(s);
        free(mark);
        free(top);
        free(tree);
}

int main(void)
{
        char *root;

        berth_json_init();
        test_refs();
        test_open_guard();
        test_changes();
        root = tmp_root();
        ok(root != NULL, "temp root");
        if (root) {
                test_blobs(root);
                test_min_free(root);
                test_async(root);
                test_trash(root);
                (void)st_rm_rf(root);
                free(root);
        }
        return tap_done();
}
