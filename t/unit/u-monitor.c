/* SPDX-License-Identifier: Apache-2.0
 * t/unit/u-monitor.c -- berth-monitor's json-file writer (escaping, times,
 * 16K pieces, rotation) and the runtime-log parser. */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/monitor-internal.h"
#include "t/unit/tap.h"

static int64_t fake_ns;

static int64_t fake_clock(void)
{
        return fake_ns += 1000;
}

static const char *esc(const char *s, size_t n)
{
        static struct buf b;

        buf_reset(&b);
        mon_json_string(&b, s, n);
        return buf_cstr(&b);
}

static void test_escape(void)
{
        is_str(esc("plain", 5), "\"plain\"", "plain text is quoted only");
        is_str(esc("<a&b>", 5), "\"\\u003ca\\u0026b\\u003e\"", "html characters as \\u00XX");
        is_str(esc("q\"b\\\n\r\t\x01\x7f", 9), "\"q\\\"b\\\\\\n\\r\\u0009\\u0001\x7f\"", "quotes, backslash, controls");
        is_str(esc("\xc3\xa9", 2), "\"\xc3\xa9\"", "valid UTF-8 kept");
        is_str(esc("\xe2\x80\xa8\xe2\x80\xa9", 6), "\"\\u2028\\u2029\"", "U+2028/2029 escaped");
        is_str(esc("a\xffz", 3), "\"a\\ufffdz\"", "invalid byte is \\ufffd");
        is_str(esc("\xc3", 1), "\"\\ufffd\"", "truncated sequence");
        is_str(esc("\xed\xa0\x80", 3), "\"\\ufffd\\ufffd\\ufffd\"", "surrogate: one \\ufffd per byte");
        is_str(esc("\xc0\xaf", 2), "\"\\ufffd\\ufffd\"", "overlong");
        is_str(esc("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"", "4-byte sequence kept");
        is_str(esc("\xf4\x90\x80\x80", 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "above U+10FFFF");
        is_str(esc("\xef\xbf\xbd", 3), "\"\xef\xbf\xbd\"", "a real U+FFFD is kept");
        is_str(esc("a\0b", 3), "\"a\\u0000b\"", "NUL");
}

static void test_time(void)
{
        char t[48];

        mon_time_rfc3339nano(1795918294505112863LL, t, sizeof(t));
        is_str(t, "2026-11-29T02:11:34.505112863Z", "nano: 9 digits");
        mon_time_rfc3339nano(1795918294500000000LL, t, sizeof(t));
        is_str(t, "2026-11-29T02:11:34.5Z", "nano: trailing zeros trimmed");
        mon_time_rfc3339nano(1795918294000000000LL, t, sizeof(t));
        is_str(t, "2026-11-29T02:11:34Z", "nano: no fraction");
        mon_time_rfc3339fixed(1795918294500000000LL, t, sizeof(t));
        is_str(t, "2026-11-29T02:11:34.500000000Z", "fixed: 9 digits");
        mon_time_rfc3339fixed(0, t, sizeof(t));
        is_str(t, "0001-01-01T00:00:00Z", "fixed: zero time");
}

static void test_size(void)
{
        int64_t v = 0;

        ok(mon_parse_size("10m", &v) == 0 && v == 10000000, "10m");
        ok(mon_parse_size("1k", &v) == 0 && v == 1000, "1k");
        ok(mon_parse_size("1.5KB", &v) == 0 && v == 1500, "1.5KB");
        ok(mon_parse_size("2 MiB", &v) == 0 && v == 2000000, "2 MiB is decimal, as FromHumanSize");
        ok(mon_parse_size("123", &v) == 0 && v == 123, "bytes");
        ok(mon_parse_size("m", &v) < 0, "no digits");
        ok(mon_parse_size("10x", &v) < 0, "bad unit");
}

static char *slurp(const char *path)
{
        char *data = NULL;
        size_t len;

        if (berth_read_file(path, 1 << 22, &data, &len, NULL) < 0)
                return xstrdup("");
        return data;
}

static int count_lines(const char *s)
{
        int n = 0;

        for (; *s; s++)
                n += *s == '\n';
        return n;
}

static void test_lines(const char *dir)
{
        struct mon_log l;
        struct mon_stream out, err;
        char path[512], big[40000];
        char *data;

        snprintf(path, sizeof(path), "%s/lines.log", dir);
        ok(mon_log_open(&l, path, 0, 1, NULL, NULL) == 0, "open log");
        mon_stream_init(&out, "stdout");
        mon_stream_init(&err, "stderr");
        fake_ns = 1795918294000000000LL;
        mon_stream_feed(&out, &l, "a\nb", 3);
        mon_stream_feed(&err, &l, "e\n", 2);
        mon_stream_feed(&out, &l, "c\n\n", 3);
        mon_stream_eof(&out, &l);
        mon_stream_feed(&out, &l, "tail", 4);
        mon_stream_eof(&out, &l);
        mon_log_close(&l);
        data = slurp(path);
        is_str(data,
               "{\"log\":\"a\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T02:11:34.000001Z\"}\n"
               "{\"log\":\"e\\n\",\"stream\":\"stderr\",\"time\":\"2026-11-29T02:11:34.000002Z\"}\n"
               "{\"log\":\"bc\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T02:11:34.000003Z\"}\n"
               "{\"log\":\"\\n\",\"stream\":\"stdout\",\"time\":\"2026-11-29T02:11:34.000004Z\"}\n"
               "{\"log\":\"tail\",\"stream\":\"stdout\",\"time\":\"2026-11-29T02:11:34.000005Z\"}\n",
               "lines, streams, empty line, partial at EOF");
        free(data);

        /* a 40000-byte line: 16384 + 16384 pieces, then 7232 + "\n", one time */
        snprintf(path, sizeof(path), "%s/long.log", dir);
        ok(mon_log_open(&l, path, 0, 1, "{\"tag\":\"t\"}", NULL) == 0, "open log with attrs");
        memset(big, 'x', sizeof(big));
        for (size_t off = 0; off < sizeof(big); off += 1000)
                mon_stream_feed(&out, &l, big + off, 1000);
        mon_stream_feed(&out, &l, "\nnext\n", 6);
        mon_log_close(&l);
        data = slurp(path);
        is_int(count_lines(data), 4, "three pieces and the next line");
        {
                char *p = data, *t1 = NULL;
                int i = 0;
                bool same = true;

                while (p && *p && i < 3) {
                        char *nl = strchr(p, '\n');
                        char *t = strstr(p, "\"time\":\"");
                        size_t xs = strspn(p + 8, "x");

                        if (i < 2)
                                ok(xs == 16384 && p[8 + xs] == '"', "piece %d has 16384 bytes, no newline", i + 1);
                        else
                                ok(xs == 7232 && !strncmp(p + 8 + xs, "\\n\"", 3), "last piece 7232 bytes + newline");
                        ok(strstr(p, ",\"attrs\":{\"tag\":\"t\"},\"time\":") != NULL, "attrs before time");
                        if (!t1)
                                t1 = t;
                        else if (strncmp(t1, t, 40))
                                same = false;
                        p = nl ? nl + 1 : NULL;
                        i++;
                }
                ok(same, "the pieces share the first piece's time");
                ok(p && !strncmp(p, "{\"log\":\"next\\n\"", 15), "the next line is whole");
        }
        free(data);
}

static void test_rotation(const char *dir)
{
        struct mon_log l;
        struct mon_stream s;
        char path[512], p1[520], p2[520], p3[520], line[64];
        struct stat st;
        char *a, *b, *c;

        snprintf(path, sizeof(path), "%s/rot.log", dir);
        snprintf(p1, sizeof(p1), "%s.1", path);
        snprintf(p2, sizeof(p2), "%s.2", path);
        snprintf(p3, sizeof(p3), "%s.3", path);
        ok(mon_log_open(&l, path, 500, 3, NULL, NULL) == 0, "open rotating log");
        mon_stream_init(&s, "stdout");
        for (int i = 0; i < 40; i++) {
                snprintf(line, sizeof(line), "line-%02d\n", i);
                mon_stream_feed(&s, &l, line, strlen(line));
                if (i % 3 == 0)
                        (void)mon_log_flush(&l);
        }
        mon_log_close(&l);
        ok(stat(path, &st) == 0 && st.st_size < 600, "current file under max-size + a line");
        ok((st.st_mode & 0777) == 0640, "mode 0640");
        ok(stat(p1, &st) == 0 && st.st_size >= 500 && st.st_size < 600, "log.1 reached max-size");
        ok(stat(p2, &st) == 0, "log.2 exists");
        ok(stat(p3, &st) < 0, "no log.3 with max-file 3");
        a = slurp(p2);
        b = slurp(p1);
        c = slurp(path);
        ok(strstr(c, "line-39") != NULL, "newest line in the current file");
        ok(strstr(b, "line-39") == NULL && strstr(a, "line-39") == NULL, "and only there");
        free(a);
        free(b);
        free(c);

        /* max-file 1: the file is replaced */
        snprintf(path, sizeof(path), "%s/one.log", dir);
        ok(mon_log_open(&l, path, 300, 1, NULL, NULL) == 0, "open max-file 1");
        for (int i = 0; i < 20; i++) {
                snprintf(line, sizeof(line), "x%02d\n", i);
                mon_stream_feed(&s, &l, line, strlen(line));
        }
        mon_log_close(&l);
        snprintf(p1, sizeof(p1), "%s.1", path);
        ok(stat(p1, &st) < 0, "no .1 with max-file 1");
        ok(stat(path, &st) == 0 && st.st_size < 400, "replaced file is small");
}

static void test_rtlog(void)
{
        char msg[256];
        const char *log =
                "{\"level\":\"warning\",\"msg\":\"w\",\"time\":\"t\"}\n"
                "{\"level\":\"error\",\"msg\":\"first\",\"time\":\"t\"}\n"
                "{\"level\":\"error\",\"msg\":\"runc create failed: exec: \\\"x\\\": executable file not found in $PATH \\u00e9\",\"time\":\"t\"}\n"
                "{\"level\":\"info\",\"msg\":\"later\",\"time\":\"t\"}\n";

        ok(mon_rt_log_error(log, strlen(log), msg, sizeof(msg)) == 0, "error found");
        is_str(msg, "runc create failed: exec: \"x\": executable file not found in $PATH \xc3\xa9",
               "the last error, unescaped");
        ok(mon_rt_log_error("{\"level\":\"info\",\"msg\":\"x\"}\n", 27, msg, sizeof(msg)) == -ENOENT,
           "no error line");
        mon_rt_last_line("one\ntwo  \n\n", 11, msg, sizeof(msg));
        is_str(msg, "two", "last non-empty line");
}

int main(void)
{
        char dir[] = "/tmp/u-monitor.XXXXXX";
        char cmd[64];

        mon_log_clock = fake_clock;
        test_escape();
        test_time();
        test_size();
        test_rtlog();
        if (!mkdtemp(dir)) {
                perror("mkdtemp");
                return 1;
        }
        test_lines(dir);
        test_rotation(dir);
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
        if (system(cmd) != 0)
                printf("# could not remove %s\n", dir);
        return tap_done();
}
