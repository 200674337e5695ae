/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-state.c -- the state dir <root>/<id>: state.json, exec.fifo, and
 * the status derived from them and from /proc.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "runtime/runtime-internal.h"

const char *rt_status_name(enum rt_status s)
{
        switch (s) {
        case RT_CREATING: return "creating";
        case RT_CREATED: return "created";
        case RT_RUNNING: return "running";
        case RT_PAUSED: return "paused";
        case RT_STOPPED: return "stopped";
        }
        return "unknown";
}

char *rt_state_dir(const char *id)
{
        return xasprintf("%s/%s", rt_opts.root, id);
}

/* Write a small file via a temp name and rename (state lives on tmpfs: no fsync). */
int rt_write_file(const char *path, const char *data, size_t len, int mode, struct berth_err *err)
{
        _cleanup_free_ char *tmp = xasprintf("%s.tmp%d", path, (int)getpid());
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

        if (fd < 0)
                return berth_err_set(err, errno, "open %s: %s", tmp, strerror(errno));
        while (len > 0) {
                ssize_t n = write(fd, data, len);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        int e = errno;
                        (void)unlink(tmp);
                        return berth_err_set(err, e, "write %s: %s", tmp, strerror(e));
                }
                data += n;
                len -= (size_t)n;
        }
        if (rename(tmp, path) < 0) {
                int e = errno;
                (void)unlink(tmp);
                return berth_err_set(err, e, "rename %s: %s", path, strerror(e));
        }
        return 0;
}

/* Field 22 of /proc/<pid>/stat, and the state letter. */
int rt_proc_start_time(pid_t pid, uint64_t *ret, char *state)
{
        char path[64], buf[1024], *p;
        unsigned long long st = 0;
        ssize_t n;
        int fd;

        snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
        fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        (void)close(fd);
        if (n <= 0)
                return -EIO;
        buf[n] = '\0';
        p = strrchr(buf, ')');
        if (!p || p[1] != ' ')
                return -EIO;
        p += 2;
        if (state)
                *state = *p;
        /* after ')': field 3 is state; starttime is field 22 */
        for (int field = 3; field < 22; field++) {
                p = strchr(p, ' ');
                if (!p)
                        return -EIO;
                p++;
        }
        if (sscanf(p, "%llu", &st) != 1)
                return -EIO;
        *ret = st;
        return 0;
}

bool rt_pid_alive(pid_t pid, uint64_t start_time)
{
        uint64_t st;
        char state = 0;

        if (pid <= 0 || rt_proc_start_time(pid, &st, &state) < 0)
                return false;
        if (state == 'Z' || state == 'X')
                return false;
        return st == start_time;
}

void rt_state_release(struct rt_state *st)
{
        free(st->id);
        free(st->dir);
        cJSON_Delete(st->json);
        memset(st, 0, sizeof(*st));
}

int rt_state_load(const char *id, struct rt_state *st, struct berth_err *err)
{
        _cleanup_free_ char *path = NULL, *text = NULL;
        const cJSON *v;
        size_t len;
        int r;

        memset(st, 0, sizeof(*st));
        r = rt_valid_id(id, err);
        if (r < 0)
                return r;
        st->id = xstrdup(id);
        st->dir = rt_state_dir(id);
        path = xasprintf("%s/state.json", st->dir);
        r = berth_read_file(path, 16 << 20, &text, &len, NULL);
        if (r == -ENOENT)
                return berth_err_set(err, ENOENT, "container does not exist");
        if (r < 0)
                return berth_err_set(err, -r, "read %s: %s", path, strerror(-r));
        r = berth_json_parse(text, len, &st->json, err);
        if (r < 0)
                return berth_err_wrap(err, "%s", path);
        v = cJSON_GetObjectItemCaseSensitive(st->json, "pid");
        st->pid = cJSON_IsNumber(v) ? (pid_t)v->valuedouble : 0;
        v = cJSON_GetObjectItemCaseSensitive(st->json, "start_time");
        st->start_time = cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
        st->bundle = berth_json_str(st->json, "bundle");
        st->status = rt_state_status(st);
        return 0;
}

enum rt_status rt_state_status(struct rt_state *st)
{
        _cleanup_free_ char *fifo = NULL;
        const cJSON *paths;

        if (!rt_pid_alive(st->pid, st->start_time))
                return RT_STOPPED;
        fifo = xasprintf("%s/exec.fifo", st->dir);
        if (access(fifo, F_OK) == 0)
                return RT_CREATED;
        paths = cJSON_GetObjectItemCaseSensitive(st->json, "cgroup_paths");
        if (paths && rt_cgroup_frozen(paths) > 0)
                return RT_PAUSED;
        return RT_RUNNING;
}

cJSON *rt_state_oci(struct rt_state *st, const char *status)
{
        cJSON *o = cJSON_CreateObject();
        const cJSON *a;

        cJSON_AddStringToObject(o, "ociVersion", RT_OCI_VERSION);
        cJSON_AddStringToObject(o, "id", st->id);
        cJSON_AddNumberToObject(o, "pid", st->status == RT_STOPPED ? 0 : st->pid);
        cJSON_AddStringToObject(o, "status", status ? status : rt_status_name(st->status));
        cJSON_AddStringToObject(o, "bundle", st->bundle ? st->bundle : "");
        cJSON_AddStringToObject(o, "rootfs", berth_json_str(st->json, "rootfs") ? berth_json_str(st->json, "rootfs") : "");
        cJSON_AddStringToObject(o, "created", berth_json_str(st->json, "created") ? berth_json_str(st->json, "created") : "");
        a = cJSON_GetObjectItemCaseSensitive(st->json, "annotations");
        if (cJSON_IsObject(a) && a->child)
                cJSON_AddItemToObject(o, "annotations", cJSON_Duplicate(a, true));
        cJSON_AddStringToObject(o, "owner", "");
        return o;
}
