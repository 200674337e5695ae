/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-lib.c -- lib/: errors, buffers, booleans, numbers, JSON, atomic files. */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/lib.h"
#include "t/unit/tap.h"

static void test_err(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        int r;

        r = berth_err_set(&err, ENOENT, "open '%s'", "x");
        is_int(r, -ENOENT, "berth_err_set returns -errno");
        ok(!err.public, "berth_err_set is not public");
        r = berth_err_wrap(&err, "container '%s'", "web");
        is_int(r, -ENOENT, "wrap keeps the code");
        is_str(err.msg, "container 'web': open 'x'", "wrap prefixes context");
        r = berth_err_pub(&err, EINVAL, "bad");
        ok(err.public && r == -EINVAL, "berth_err_pub marks public");
        is_int(berth_err_set(NULL, 0, "x"), -EIO, "a zero code becomes EIO, NULL err is fine");
}

static void test_buf(void)
{
        struct buf b = BUF_INIT;
        char big[5000];

        buf_adds(&b, "hello");
        buf_addf(&b, " %d", 42);
        is_str(buf_cstr(&b), "hello 42", "buf_adds + buf_addf");
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        buf_addf(&b, "%s", big);
        is_int(b.len, 8 + 4999, "buf_addf grows past the first guess");
        buf_consume(&b, 6);
        ok(!strncmp(b.data, "42xxx", 5), "buf_consume drops the head");
        buf_release(&b);
        ok(b.data == NULL && b.len == 0, "buf_release empties");
}

static void test_bool_int(void)
{
        ok(!berth_parse_bool(""), "'' is false");
        ok(!berth_parse_bool("0") && !berth_parse_bool("no") && !berth_parse_bool("False") &&
           !berth_parse_bool(" none "), "0/no/False/none are false");
        ok(berth_parse_bool("1") && berth_parse_bool("True") && berth_parse_bool("yes"), "1/True/yes are true");
        int64_t v = 0;
        ok(berth_parse_int64("123", &v) == 0 && v == 123, "parse 123");
        ok(berth_parse_int64("12x", &v) == -EINVAL, "12x is invalid");
        ok(berth_parse_int64("", &v) == -EINVAL, "empty is invalid");
        ok(berth_parse_int64("99999999999999999999", &v) == -ERANGE, "overflow is ERANGE");
}

static void test_json(void)
{
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *j = NULL;
        struct buf b = BUF_INIT;

        ok(berth_json_parse("{\"a\":\"b\"}", 9, &j, &err) == 0, "parse an object");
        is_str(berth_json_str(j, "a"), "b", "string member");
        berth_json_append(&b, j);
        is_str(buf_cstr(&b), "{\"a\":\"b\"}\n", "compact output ends with a newline");
        cJSON_Delete(j);
        ok(berth_json_parse("{\"a\":", 5, &j, &err) == -EINVAL && err.public, "truncated JSON is EINVAL");
        ok(strstr(err.msg, "invalid JSON") != NULL, "message says invalid JSON: %s", err.msg);
        ok(berth_json_parse("{} x", 4, &j, &err) == -EINVAL, "trailing garbage is rejected");
        ok(berth_json_parse("", 0, &j, &err) == -EINVAL, "empty body is rejected");
        ok(berth_json_parse("{\"big\":1e30,\"neg\":-1e30,\"n\":42,\"s\":\"x\"}", 39, &j, &err) == 0,
           "numbers past int64");
        ok(berth_json_int64(cJSON_GetObjectItem(j, "big"), 0) == INT64_MAX &&
           berth_json_int64(cJSON_GetObjectItem(j, "neg"), 0) == INT64_MIN, "int64 clamps, never an undefined cast");
        ok(berth_json_int64(cJSON_GetObjectItem(j, "n"), 0) == 42 &&
           berth_json_int64(cJSON_GetObjectItem(j, "s"), 7) == 7 && berth_json_int64(NULL, -1) == -1,
           "int64: the number, or the default");
        cJSON_Delete(j);
        buf_release(&b);
}

static void test_files(void)
{
        char dir[] = "/tmp/u-lib.XXXXXX";
        struct berth_err err = BERTH_ERR_INIT;
        char *data = NULL;
        size_t len = 0;

        ok(mkdtemp(dir) != NULL, "mkdtemp");
        char *p = xasprintf("%s/a/b/c", dir);
        ok(berth_mkdir_p(p, 0700) == 0, "mkdir -p");
        char *f = xasprintf("%s/state.json", p);
        ok(berth_write_file_atomic(f, "{}", 2, 0600, &err) == 0, "atomic write");
        ok(berth_write_file_atomic(f, "{\"x\":1}", 7, 0600, &err) == 0, "atomic overwrite");
        ok(berth_read_file(f, 100, &data, &len, &err) == 0 && len == 7 && !strcmp(data, "{\"x\":1}"),
           "read back the new version");
        free(data);
        {
                char *v = xasprintf("%s/volatile", p);
                ok(berth_write_file_volatile(v, "one", 3, 0644, &err) == 0, "volatile write");
                ok(berth_write_file_volatile(v, "second", 6, 0644, &err) == 0, "volatile overwrite");
                ok(berth_read_file(v, 100, &data, &len, &err) == 0 && len == 6 && !strcmp(data, "second"),
                   "volatile: read back the new version");
                free(data);
                struct stat st;
                ok(stat(v, &st) == 0 && (st.st_mode & 0777) == 0644, "volatile: mode kept");
                char *ls = xasprintf("test $(ls -A %s | wc -l) = 2", p);
                ok(system(ls) == 0, "no temp file left behind (state.json and volatile only)");
                free(ls);
                char *missing = xasprintf("%s/no/such/dir/f", dir);
                ok(berth_write_file_volatile(missing, "x", 1, 0644, &err) == -ENOENT && err.msg[0],
                   "volatile: a missing directory is ENOENT with a message");
                ok(berth_write_file_atomic(missing, "x", 1, 0644, &err) == -ENOENT, "atomic: likewise");
                free(missing);
                free(v);
        }
        ok(berth_read_file(f, 3, &data, &len, &err) == -EFBIG, "bounded read refuses a larger file");
        ok(berth_read_file("/nonexistent/x", 3, &data, &len, &err) == -ENOENT, "missing file is ENOENT");
        char *cmd = xasprintf("rm -rf %s", dir);
        ok(system(cmd) == 0, "cleanup");
        free(cmd);
        free(f);
        free(p);
}

static void test_time(void)
{
        char out[64];

        berth_time_rfc3339(0, 0, out, sizeof(out));
        is_str(out, "1970-01-01T00:00:00Z", "epoch");
        berth_time_rfc3339(1795918294, 505112863, out, sizeof(out));
        is_str(out, "2026-11-29T02:11:34.505112863Z", "nanoseconds");
        char hex[33];
        ok(berth_random_hex(hex, 16) == 0 && strlen(hex) == 32, "random hex");
}

int main(void)
{
        berth_json_init();
        test_err();
        test_buf();
        test_bool_int();
        test_json();
        test_files();
        test_time();
        return tap_done();
}
