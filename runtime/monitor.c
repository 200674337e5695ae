/* SPDX-License-Identifier: Apache-2.0
 * runtime/monitor.c -- berth-monitor: one small process per container start
 * and per exec.  It runs the OCI runtime, is the subreaper of the process,
 * holds its stdio, writes the json-file log, serves the attach socket and
 * writes the exit status before it exits.  The protocol is runtime/monitor.h.
 */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>

#include "runtime/monitor-internal.h"

enum mon_state {
        MS_INIT,        /* exec mode before START; container mode during create */
        MS_CREATED,     /* container created, waiting for START */
        MS_RUNNING,
        MS_DRAINING,    /* reaped: reading the rest of the output */
};

struct client {
        struct client *next;
        int fd;
        unsigned flags;         /* MON_ATTACH_* */
        bool rd_eof;
        bool in_eof_done;
        bool dead;
        /* frame being read */
        unsigned char hdr[MON_FRAME_HDR];
        size_t hlen;
        unsigned type;
        uint32_t left;
        unsigned char ctl[MON_CTL_MAX];
        size_t clen;
        /* output queued for it */
        struct buf out;
        size_t out_off;
};

static struct mon {
        /* options */
        struct mon_rt rt;
        const char *id, *bundle, *exec_process, *state_dir, *log_path, *log_attrs;
        const char *exec_fifo;  /* --exec-fifo: start by writing to it (berth-runtime) */
        int64_t log_max_size;
        int log_max_file;
        bool tty, open_stdin, stdin_once, auto_start, keep, foreground;
        int sync_fd;
        int ready_fd;           /* the first process waits on it; -1 once released */

        enum mon_state state;
        pid_t pid;
        int wstatus;
        bool reaped;
        int64_t started_ns, finished_ns;
        char oom_file[PATH_MAX];
        long oom_base;
        bool oom_ok;

        int out_fd, err_fd;     /* our read ends; tty: out_fd is the pty master */
        int in_fd;              /* stdin pipe write end, or the master; -1 */
        int cout_fd, cerr_fd, cin_fd;   /* the process's ends until the runtime has them */
        bool in_closed;         /* stdin was closed (or never open) */
        bool in_close_pending;
        struct buf in_q;
        struct winsize ws;
        bool ws_pending;

        int sig_fd, listen_fd, console_listen;
        struct client *clients;
        int nclients;

        bool logging;
        struct mon_log log;
        struct mon_stream s_out, s_err;

        int64_t drain_last_ms, reaped_ms;
        unsigned long long starttime;   /* ours, /proc/self/stat field 22 */
        bool created;           /* our runtime create succeeded */
        char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        char console_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
        char cpid_path[PATH_MAX];
        char iobuf[16384];
} M;

static int64_t mono_ms(void)
{
        struct timespec ts;

        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void set_nonblock(int fd)
{
        int fl = fcntl(fd, F_GETFL);

        if (fl >= 0)
                (void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static void xclose(int *fd)
{
        if (*fd >= 0)
                close(*fd);
        *fd = -1;
}

static void state_path(char *out, size_t len, const char *name)
{
        (void)snprintf(out, len, "%s/%s", M.state_dir, name);
}

/* ---- events ---- */

static void client_queue(struct client *c, unsigned type, const void *data, size_t n);
static void client_flush(struct client *c);

static void emit_event(const char *json)
{
        size_t n = strlen(json);

        log_debug("event %s", json);
        if (M.sync_fd >= 0) {
                struct iovec iov[2] = { { (void *)json, n }, { (void *)"\n", 1 } };

                if (writev(M.sync_fd, iov, 2) < 0 && errno != EAGAIN) {
                        log_debug("sync fd: %s: not written to any more", strerror(errno));
                        xclose(&M.sync_fd);
                }
        }
        for (struct client *c = M.clients; c; c = c->next) {
                if (c->dead || !(c->flags & MON_ATTACH_EVENTS) || (c->flags & MON_ATTACH_RAW_OUT))
                        continue;
                client_queue(c, MON_FRAME_EVENT, json, n);
                client_flush(c);
        }
}

static void state_event(char *out, size_t len)
{
        char ts[48];

        switch (M.state) {
        case MS_INIT:
                (void)snprintf(out, len, "{\"event\":\"ready\",\"monitor_pid\":%d,\"monitor_starttime\":%llu}",
                               (int)getpid(), M.starttime);
                break;
        case MS_CREATED:
                (void)snprintf(out, len, "{\"event\":\"created\",\"pid\":%d,\"monitor_pid\":%d,\"monitor_starttime\":%llu}",
                               (int)M.pid, (int)getpid(), M.starttime);
                break;
        case MS_RUNNING:
        case MS_DRAINING:
                mon_time_rfc3339fixed(M.started_ns, ts, sizeof(ts));
                (void)snprintf(out, len, "{\"event\":\"started\",\"pid\":%d,\"started_at\":\"%s\",\"started_at_ns\":%lld}",
                               (int)M.pid, ts, (long long)M.started_ns);
                break;
        }
}

/* Let the process that started us go: '0', or '1' and the message. */
static void release_starter(bool ok, const char *msg)
{
        if (M.ready_fd < 0)
                return;
        if (ok) {
                (void)!write(M.ready_fd, "0", 1);
        } else {
                struct iovec iov[2] = { { (void *)"1", 1 }, { (void *)msg, strlen(msg) } };

                (void)!writev(M.ready_fd, iov, 2);
        }
        xclose(&M.ready_fd);
}

/* ---- exit status ---- */

static void exit_json(struct buf *b, const char *error, const char *stage)
{
        char st[48], ft[48];
        int code = -1, sig = 0;
        bool oom = false;

        if (M.reaped) {
                if (WIFEXITED(M.wstatus)) {
                        code = WEXITSTATUS(M.wstatus);
                } else if (WIFSIGNALED(M.wstatus)) {
                        sig = WTERMSIG(M.wstatus);
                        code = 128 + sig;
                }
        }
        if (M.oom_ok) {
                char *data = NULL;
                size_t len = 0;

                if (berth_read_file(M.oom_file, 4096, &data, &len, NULL) == 0) {
                        const char *p = strstr(data, "oom_kill ");

                        if (p)
                                oom = strtol(p + STRLEN("oom_kill "), NULL, 10) > M.oom_base;
                }
                free(data);
        }
        mon_time_rfc3339fixed(M.started_ns, st, sizeof(st));
        mon_time_rfc3339fixed(M.finished_ns, ft, sizeof(ft));
        buf_adds(b, "{\"id\":");
        mon_json_string(b, M.id, strlen(M.id));
        buf_addf(b, ",\"exec\":%s,\"pid\":%d,\"exit_code\":%d,\"signal\":%d,\"oom_killed\":%s,"
                 "\"oom_checked\":%s,\"started_at\":\"%s\",\"finished_at\":\"%s\","
                 "\"started_at_ns\":%lld,\"finished_at_ns\":%lld,\"error\":",
                 M.exec_process ? "true" : "false", (int)M.pid, code, sig, oom ? "true" : "false",
                 M.oom_ok ? "true" : "false", st, ft, (long long)M.started_ns, (long long)M.finished_ns);
        mon_json_string(b, error ? error : "", error ? strlen(error) : 0);
        buf_addf(b, ",\"stage\":\"%s\"}", stage ? stage : "");
}

static void write_exit_file(const char *json, size_t len)
{
        struct berth_err err = BERTH_ERR_INIT;
        char path[PATH_MAX];

        state_path(path, sizeof(path), MON_FILE_EXIT);
        if (berth_write_file_atomic(path, json, len, 0644, &err) < 0)
                log_error("exit status: %s", err.msg);
}

/* ---- runtime commands ---- */

static int run_runtime(const char *const *argv, struct mon_rt_io *io, char *msg, size_t msglen)
{
        int r;

        log_debug("runtime %s %s", argv[0], M.id);
        r = mon_rt_run(&M.rt, argv, io, msg, msglen);
        if (r < 0 && !msg[0])
                (void)snprintf(msg, msglen, "run %s: %s", M.rt.runtime, strerror(-r));
        return r;
}

static bool status_ok(int r)
{
        return r >= 0 && WIFEXITED(r) && WEXITSTATUS(r) == 0;
}

static void runtime_delete(bool force)
{
        const char *argv[] = { "delete", force ? "--force" : M.id, force ? M.id : NULL, NULL };
        struct mon_rt_io io = { -1, -1, -1, NULL, -1, -1 };
        char msg[512];
        int r;

        r = run_runtime(argv, &io, msg, sizeof(msg));
        if (!status_ok(r) && !force) {
                log_warn("runtime delete %s: %s; again with --force", M.id, msg[0] ? msg : "failed");
                argv[1] = "--force";
                argv[2] = M.id;
                r = run_runtime(argv, &io, msg, sizeof(msg));
        }
        if (!status_ok(r))
                log_debug("runtime delete %s: %s", M.id, msg[0] ? msg : "failed");
}

static void cleanup_files(void)
{
        char path[PATH_MAX];

        if (M.sock_path[0])
                (void)unlink(M.sock_path);
        if (M.console_path[0])
                (void)unlink(M.console_path);
        state_path(path, sizeof(path), MON_FILE_PID);
        (void)unlink(path);
}

static void close_clients(void)
{
        struct client *c = M.clients;

        while (c) {
                struct client *next = c->next;

                close(c->fd);
                buf_release(&c->out);
                free(c);
                c = next;
        }
        M.clients = NULL;
        M.nclients = 0;
}

static void flush_clients_bounded(void);

/* create, start or exec failed: report, clean up and exit 1 */
static __attribute__((noreturn)) void fail(const char *stage, const char *msg, int status)
{
        struct buf b = BUF_INIT;
        char *ev;

        log_error("%s failed: %s", stage, msg);
        if (M.reaped && M.finished_ns == 0)
                M.finished_ns = berth_now_ns();
        buf_adds(&b, "{\"event\":\"error\",\"stage\":\"");
        buf_adds(&b, stage);
        buf_adds(&b, "\",\"message\":");
        mon_json_string(&b, msg, strlen(msg));
        buf_addf(&b, ",\"runtime_status\":%d}", status >= 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        ev = buf_detach(&b, NULL);
        exit_json(&b, msg, stage);
        write_exit_file(b.data, b.len);
        buf_release(&b);
        emit_event(ev);
        free(ev);
        release_starter(false, msg);
        flush_clients_bounded();
        close_clients();
        /* only a container this monitor created: after a failed create the
         * id may well belong to someone else's running container */
        if (M.created && !M.keep)
                runtime_delete(true);
        cleanup_files();
        if (M.logging)
                mon_log_close(&M.log);
        exit(1);
}

/* What the runtime said when its json log had nothing. */
static void fallback_msg(int status, const char *cmd, char *msg, size_t msglen)
{
        char text[4096];
        size_t n = 0;

        if (msg[0])
                return;
        if (M.tty) {
                char path[PATH_MAX];
                char *data = NULL;
                size_t len = 0;

                state_path(path, sizeof(path), MON_FILE_RTERR);
                if (berth_read_file(path, 1 << 20, &data, &len, NULL) == 0 && len > 0)
                        mon_rt_last_line(data, len, msg, msglen);
                free(data);
        } else {
                /* the runtime wrote to the process's own stderr: read it */
                int fds[2] = { M.err_fd, M.out_fd };

                for (int i = 0; i < 2 && n == 0; i++) {
                        ssize_t r;

                        while (fds[i] >= 0 && n < sizeof(text) &&
                               (r = read(fds[i], text + n, sizeof(text) - n)) > 0)
                                n += (size_t)r;
                }
                if (n > 0)
                        mon_rt_last_line(text, n, msg, msglen);
        }
        if (!msg[0]) {
                if (status >= 0 && WIFSIGNALED(status))
                        (void)snprintf(msg, msglen, "%s %s: killed by signal %d", M.rt.runtime, cmd,
                                       WTERMSIG(status));
                else
                        (void)snprintf(msg, msglen, "%s %s: exited with status %d", M.rt.runtime, cmd,
                                       status >= 0 ? WEXITSTATUS(status) : -1);
        }
}

static pid_t read_pid_file(void)
{
        char *data = NULL;
        int64_t v = 0;
        size_t len = 0;

        if (berth_read_file(M.cpid_path, 64, &data, &len, NULL) < 0)
                return -1;
        while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == ' '))
                data[--len] = '\0';
        if (berth_parse_int64(data, &v) < 0 || v <= 0 || v > INT_MAX)
                v = -1;
        free(data);
        return (pid_t)v;
}

/* The memory cgroup's OOM counter: v1 memory.oom_control, v2 memory.events. */
static void oom_setup(void)
{
        char path[64], *data = NULL, *line, *save = NULL;
        char v2[PATH_MAX] = "";
        size_t len = 0;

        (void)snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)M.pid);
        if (berth_read_file(path, 1 << 16, &data, &len, NULL) < 0)
                return;
        for (line = strtok_r(data, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                bool mem = false;

                if (!c2)
                        continue;
                *c2 = '\0';
                for (char *t = c1 + 1, *e; *t; t = e + 1) {
                        e = strchr(t, ',');
                        if ((e ? (size_t)(e - t) : strlen(t)) == 6 && !strncmp(t, "memory", 6))
                                mem = true;
                        if (!e)
                                break;
                }
                if (mem) {
                        (void)snprintf(M.oom_file, sizeof(M.oom_file),
                                       "/sys/fs/cgroup/memory%s/memory.oom_control", c2 + 1);
                        break;
                }
                if (c1 == line + 1 && line[0] == '0' && c1[1] == '\0')
                        (void)snprintf(v2, sizeof(v2), "%s", c2 + 1);
        }
        free(data);
        if (!M.oom_file[0] && v2[0]) {
                (void)snprintf(M.oom_file, sizeof(M.oom_file), "/sys/fs/cgroup%s/memory.events", v2);
                if (access(M.oom_file, R_OK) < 0)
                        (void)snprintf(M.oom_file, sizeof(M.oom_file),
                                       "/sys/fs/cgroup/unified%s/memory.events", v2);
        }
        if (!M.oom_file[0] || berth_read_file(M.oom_file, 4096, &data, &len, NULL) < 0) {
                log_debug("no memory cgroup counter for %d: OOM kills are not detected", (int)M.pid);
                M.oom_file[0] = '\0';
                return;
        }
        line = strstr(data, "oom_kill ");
        if (line) {
                M.oom_base = strtol(line + STRLEN("oom_kill "), NULL, 10);
                M.oom_ok = true;
        }
        free(data);
}

static void apply_winsize(void)
{
        if (!M.tty || !M.ws_pending || M.out_fd < 0)
                return;
        if (ioctl(M.out_fd, TIOCSWINSZ, &M.ws) < 0)
                log_debug("resize: %s", strerror(errno));
        M.ws_pending = false;
}

static void stdin_flush(void);

/* The process's stdio: pipes, or (tty) a console socket for the pty. */
static void make_stdio(void)
{
        int p[2];

        if (M.tty) {
                struct sockaddr_un sa = { .sun_family = AF_UNIX };

                M.console_listen = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                memcpy(sa.sun_path, M.console_path, strlen(M.console_path) + 1);
                (void)unlink(M.console_path);
                if (M.console_listen < 0 || bind(M.console_listen, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
                    listen(M.console_listen, 4) < 0) {
                        char msg[256];

                        (void)snprintf(msg, sizeof(msg), "console socket '%s': %s", M.console_path,
                                       strerror(errno));
                        fail(M.exec_process ? "exec" : "create", msg, -1);
                }
                return;
        }
        if (pipe2(p, O_CLOEXEC) < 0)
                goto fail;
        M.out_fd = p[0];
        M.cout_fd = p[1];
        if (pipe2(p, O_CLOEXEC) < 0)
                goto fail;
        M.err_fd = p[0];
        M.cerr_fd = p[1];
        set_nonblock(M.out_fd);
        set_nonblock(M.err_fd);
        if (M.open_stdin) {
                if (pipe2(p, O_CLOEXEC) < 0)
                        goto fail;
                M.cin_fd = p[0];
                M.in_fd = p[1];
                set_nonblock(M.in_fd);
        }
        return;
fail:
        {
                char msg[128];

                (void)snprintf(msg, sizeof(msg), "pipe: %s", strerror(errno));
                fail(M.exec_process ? "exec" : "create", msg, -1);
        }
}

/* After the runtime has given the process its stdio. */
static void stdio_handed(struct mon_rt_io *io)
{
        xclose(&M.cout_fd);
        xclose(&M.cerr_fd);
        xclose(&M.cin_fd);
        if (M.tty) {
                xclose(&M.console_listen);
                (void)unlink(M.console_path);
                M.console_path[0] = '\0';
                if (io->console_fd >= 0) {
                        M.out_fd = io->console_fd;
                        set_nonblock(M.out_fd);
                        if (M.open_stdin && !M.in_closed)
                                M.in_fd = M.out_fd;
                        apply_winsize();
                        stdin_flush();
                }
        }
}

static int rterr_fd(void)
{
        char path[PATH_MAX];

        state_path(path, sizeof(path), MON_FILE_RTERR);
        return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
}

/* What the runtime printed on the pipes before the process ran is not
 * the process's output: keep it out of the log. */
static void discard_runtime_noise(void)
{
        int fds[2] = { M.out_fd, M.err_fd };

        for (int i = 0; i < 2; i++) {
                ssize_t n;

                while (fds[i] >= 0 && (n = read(fds[i], M.iobuf, sizeof(M.iobuf) - 1)) > 0) {
                        M.iobuf[n] = '\0';
                        log_warn("runtime output before start: %s", M.iobuf);
                }
        }
}

static void do_create(void)
{
        const char *argv[10];
        struct mon_rt_io io = { M.cin_fd, M.cout_fd, M.cerr_fd, M.bundle, M.console_listen, -1 };
        char msg[1024];
        int n = 0, r, efd = -1;

        argv[n++] = "create";
        argv[n++] = "--bundle";
        argv[n++] = M.bundle;
        argv[n++] = "--pid-file";
        argv[n++] = M.cpid_path;
        if (M.tty) {
                argv[n++] = "--console-socket";
                argv[n++] = M.console_path;
                efd = rterr_fd();
                io.out = io.err = efd;
        }
        argv[n++] = M.id;
        argv[n] = NULL;
        (void)unlink(M.cpid_path);
        r = run_runtime(argv, &io, msg, sizeof(msg));
        xclose(&efd);
        stdio_handed(&io);
        if (!status_ok(r)) {
                fallback_msg(r, "create", msg, sizeof(msg));
                fail("create", msg, r);
        }
        M.created = true;
        M.pid = read_pid_file();
        if (M.pid <= 0) {
                (void)snprintf(msg, sizeof(msg), "runtime create: no pid in %s", MON_FILE_CPID);
                fail("create", msg, r);
        }
        if (M.tty && M.out_fd < 0) {
                (void)snprintf(msg, sizeof(msg), "runtime create: no terminal came over the console socket");
                fail("create", msg, r);
        }
        if (!M.tty)
                discard_runtime_noise();
        oom_setup();
        M.state = MS_CREATED;
        log_info("created %s: pid %d", M.id, (int)M.pid);
}

/* --exec-fifo: berth-runtime's start, without running it: its init waits
 * on the exec fifo of the container's state dir for one byte, and the fifo
 * gone marks the container running (there are no poststart hooks to run:
 * berthd's bundles have none) */
static void start_by_fifo(void)
{
        char msg[512];
        int fd = open(M.exec_fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);

        if (fd < 0) {
                (void)snprintf(msg, sizeof(msg), "%s start: %s", M.rt.runtime,
                               errno == ENXIO ? "container not running" : strerror(errno));
                fail("start", msg, -1);
        }
        if (write(fd, "0", 1) != 1) {
                (void)snprintf(msg, sizeof(msg), "%s start: %s", M.rt.runtime, strerror(errno));
                (void)close(fd);
                fail("start", msg, -1);
        }
        (void)unlink(M.exec_fifo);
        (void)close(fd);
}

static void do_start(void)
{
        struct mon_rt_io io = { -1, -1, -1, NULL, -1, -1 };
        const char *argv[12];
        char msg[1024], ev[256];
        int n = 0, r, efd = -1;

        if (M.exec_process) {
                if (M.state != MS_INIT)
                        return;
                argv[n++] = "exec";
                argv[n++] = "--process";
                argv[n++] = M.exec_process;
                argv[n++] = "--pid-file";
                argv[n++] = M.cpid_path;
                if (M.tty) {
                        argv[n++] = "--console-socket";
                        argv[n++] = M.console_path;
                }
                argv[n++] = "--detach";
                argv[n++] = M.id;
                argv[n] = NULL;
                io.in = M.cin_fd;
                io.out = M.cout_fd;
                io.err = M.cerr_fd;
                io.console_listen = M.console_listen;
                if (M.tty) {
                        efd = rterr_fd();
                        io.out = io.err = efd;
                }
                (void)unlink(M.cpid_path);
                r = run_runtime(argv, &io, msg, sizeof(msg));
                xclose(&efd);
                stdio_handed(&io);
                if (!status_ok(r)) {
                        fallback_msg(r, "exec", msg, sizeof(msg));
                        fail("exec", msg, r);
                }
                M.pid = read_pid_file();
                if (M.pid <= 0) {
                        (void)snprintf(msg, sizeof(msg), "runtime exec: no pid in %s", MON_FILE_CPID);
                        fail("exec", msg, r);
                }
                if (M.tty && M.out_fd < 0)
                        fail("exec", "runtime exec: no terminal came over the console socket", r);
        } else {
                if (M.state != MS_CREATED)
                        return;
                if (M.exec_fifo) {
                        start_by_fifo();
                } else {
                        argv[n++] = "start";
                        argv[n++] = M.id;
                        argv[n] = NULL;
                        r = run_runtime(argv, &io, msg, sizeof(msg));
                        if (!status_ok(r)) {
                                fallback_msg(r, "start", msg, sizeof(msg));
                                fail("start", msg, r);
                        }
                }
        }
        M.started_ns = berth_now_ns();
        M.state = MS_RUNNING;
        log_info("started %s: pid %d", M.id, (int)M.pid);
        state_event(ev, sizeof(ev));
        emit_event(ev);
}

/* ---- clients ---- */

static bool client_wants(const struct client *c, unsigned type)
{
        if (c->dead)
                return false;
        if (type == MON_FRAME_STDOUT)
                return c->flags & MON_ATTACH_STDOUT;
        if (type == MON_FRAME_STDERR)
                return c->flags & MON_ATTACH_STDERR;
        return false;
}

static void client_queue(struct client *c, unsigned type, const void *data, size_t n)
{
        if (!(c->flags & MON_ATTACH_RAW_OUT)) {
                unsigned char h[MON_FRAME_HDR] = { (unsigned char)type, 0, 0, 0,
                                                   (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                                                   (unsigned char)(n >> 8), (unsigned char)n };

                buf_add(&c->out, h, sizeof(h));
        }
        buf_add(&c->out, data, n);
}

static void client_flush(struct client *c)
{
        while (!c->dead && c->out_off < c->out.len) {
                ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
                                 MSG_NOSIGNAL | MSG_DONTWAIT);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        log_debug("client %d: %s", c->fd, strerror(errno));
                        c->dead = true;
                        return;
                }
                c->out_off += (size_t)n;
        }
        if (c->out_off == c->out.len) {
                c->out_off = 0;
                buf_reset(&c->out);
                if (c->out.cap > 2 * MON_CLIENT_OUT_MAX)
                        buf_release(&c->out);
        }
}

static size_t client_pending(const struct client *c)
{
        return c->out.len - c->out_off;
}

static void stdin_flush(void)
{
        while (M.in_fd >= 0 && M.in_q.len > 0) {
                ssize_t n = write(M.in_fd, M.in_q.data, M.in_q.len);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0 && errno == EAGAIN)
                        return;
                if (n < 0) {
                        log_debug("stdin: %s", strerror(errno));
                        buf_release(&M.in_q);
                        if (!M.tty)
                                xclose(&M.in_fd);
                        else
                                M.in_fd = -1;
                        M.in_closed = true;
                        return;
                }
                buf_consume(&M.in_q, (size_t)n);
        }
        if (M.in_q.len == 0) {
                buf_release(&M.in_q);
                if (M.in_close_pending && !M.tty && M.in_fd >= 0) {
                        log_debug("stdin closed");
                        xclose(&M.in_fd);
                        M.in_closed = true;
                }
        }
}

static void stdin_add(const void *data, size_t n)
{
        if (!M.open_stdin || M.in_closed || M.in_close_pending || n == 0)
                return;
        buf_add(&M.in_q, data, n);
        stdin_flush();
}

static void stdin_close_request(void)
{
        if (M.tty) {
                log_debug("stdin end with a tty: the pty stays open");
                return;
        }
        if (!M.open_stdin || M.in_closed)
                return;
        M.in_close_pending = true;
        stdin_flush();
}

static void client_stdin_eof(struct client *c)
{
        if (c->in_eof_done || !(c->flags & MON_ATTACH_STDIN))
                return;
        c->in_eof_done = true;
        if (M.stdin_once)
                stdin_close_request();
}

static void client_frame(struct client *c)
{
        char ev[256];

        switch (c->type) {
        case MON_FRAME_STDIN:
                break;
        case MON_FRAME_ATTACH:
                if (c->clen < 1) {
                        c->dead = true;
                        break;
                }
                c->flags = c->ctl[0];
                if ((c->flags & MON_ATTACH_EVENTS) && !(c->flags & MON_ATTACH_RAW_OUT)) {
                        state_event(ev, sizeof(ev));
                        client_queue(c, MON_FRAME_EVENT, ev, strlen(ev));
                        client_flush(c);
                }
                break;
        case MON_FRAME_START:
                if ((M.state == MS_INIT && M.exec_process) || M.state == MS_CREATED)
                        do_start();
                break;
        case MON_FRAME_RESIZE:
                if (c->clen != 4) {
                        c->dead = true;
                        break;
                }
                M.ws.ws_row = (unsigned short)(c->ctl[0] << 8 | c->ctl[1]);
                M.ws.ws_col = (unsigned short)(c->ctl[2] << 8 | c->ctl[3]);
                M.ws_pending = true;
                apply_winsize();
                break;
        case MON_FRAME_KILL: {
                uint32_t sig;

                if (c->clen != 4) {
                        c->dead = true;
                        break;
                }
                sig = (uint32_t)c->ctl[0] << 24 | (uint32_t)c->ctl[1] << 16 | (uint32_t)c->ctl[2] << 8 | c->ctl[3];
                if (M.pid > 0 && !M.reaped && sig > 0 && sig < (uint32_t)NSIG) {
                        log_debug("kill %d with %u", (int)M.pid, sig);
                        if (kill(M.pid, (int)sig) < 0)
                                log_debug("kill %d: %s", (int)M.pid, strerror(errno));
                }
                break;
        }
        case MON_FRAME_STDIN_EOF:
                client_stdin_eof(c);
                break;
        case MON_FRAME_CLOSE_STDIN:
                stdin_close_request();
                break;
        default:
                log_debug("client %d: unknown frame type %u", c->fd, c->type);
                c->dead = true;
                break;
        }
}

static void client_parse(struct client *c, const unsigned char *p, size_t n)
{
        size_t i = 0;

        while (i < n && !c->dead) {
                if ((c->flags & MON_ATTACH_RAW_IN) && c->hlen == 0) {
                        stdin_add(p + i, n - i);
                        return;
                }
                if (c->hlen < MON_FRAME_HDR) {
                        size_t take = MON_FRAME_HDR - c->hlen;

                        if (take > n - i)
                                take = n - i;
                        memcpy(c->hdr + c->hlen, p + i, take);
                        c->hlen += take;
                        i += take;
                        if (c->hlen < MON_FRAME_HDR)
                                return;
                        c->type = c->hdr[0];
                        c->left = (uint32_t)c->hdr[4] << 24 | (uint32_t)c->hdr[5] << 16 |
                                  (uint32_t)c->hdr[6] << 8 | c->hdr[7];
                        c->clen = 0;
                        if (c->type != MON_FRAME_STDIN && c->left > MON_CTL_MAX) {
                                log_debug("client %d: frame of %u bytes", c->fd, c->left);
                                c->dead = true;
                                return;
                        }
                } else {
                        size_t take = c->left;

                        if (take > n - i)
                                take = n - i;
                        if (c->type == MON_FRAME_STDIN)
                                stdin_add(p + i, take);
                        else
                                memcpy(c->ctl + c->clen, p + i, take), c->clen += take;
                        c->left -= (uint32_t)take;
                        i += take;
                }
                if (c->hlen == MON_FRAME_HDR && c->left == 0) {
                        c->hlen = 0;
                        client_frame(c);
                }
        }
}

static void client_read(struct client *c)
{
        unsigned char tmp[8192];
        ssize_t n = recv(c->fd, tmp, sizeof(tmp), MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                c->rd_eof = true;
                client_stdin_eof(c);
                if (n < 0 || !(c->flags & (MON_ATTACH_STDOUT | MON_ATTACH_STDERR | MON_ATTACH_EVENTS)))
                        c->dead = true;
                return;
        }
        client_parse(c, tmp, (size_t)n);
}

static void client_accept(void)
{
        int fd = accept4(M.listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
        struct client *c;

        if (fd < 0)
                return;
        if (M.nclients >= MON_MAX_CLIENTS) {
                log_warn("attach: more than %d clients: refused", MON_MAX_CLIENTS);
                close(fd);
                return;
        }
        c = xcalloc(1, sizeof(*c));
        c->fd = fd;
        buf_init(&c->out);
        c->next = M.clients;
        M.clients = c;
        M.nclients++;
}

static void clients_sweep(void)
{
        struct client **pp = &M.clients;

        while (*pp) {
                struct client *c = *pp;

                if (c->dead) {
                        client_stdin_eof(c);
                        *pp = c->next;
                        close(c->fd);
                        buf_release(&c->out);
                        free(c);
                        M.nclients--;
                } else {
                        pp = &c->next;
                }
        }
}

static void flush_clients_bounded(void)
{
        int64_t deadline = mono_ms() + MON_CLOSE_MS;

        for (;;) {
                struct pollfd p[MON_MAX_CLIENTS];
                struct client *cs[MON_MAX_CLIENTS];
                nfds_t n = 0;
                int64_t left = deadline - mono_ms();

                for (struct client *c = M.clients; c; c = c->next) {
                        client_flush(c);
                        if (!c->dead && client_pending(c) > 0 && n < MON_MAX_CLIENTS) {
                                p[n] = (struct pollfd){ c->fd, POLLOUT, 0 };
                                cs[n++] = c;
                        }
                }
                if (n == 0 || left <= 0)
                        return;
                if (poll(p, n, (int)left) < 0 && errno != EINTR)
                        return;
                for (nfds_t i = 0; i < n; i++)
                        if (p[i].revents & (POLLERR | POLLHUP))
                                cs[i]->dead = true;
        }
}

/* ---- output ---- */

static void output_eof(int *fd, struct mon_stream *s)
{
        xclose(fd);
        if (M.tty && fd == &M.out_fd && M.in_fd >= 0) {
                /* the master was also stdin */
                M.in_fd = -1;
                M.in_closed = true;
        }
        if (M.logging)
                mon_stream_eof(s, &M.log);
}

static void output_read(int *fd, unsigned type, struct mon_stream *s)
{
        ssize_t n = read(*fd, M.iobuf, sizeof(M.iobuf));

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n <= 0) {
                /* EIO: the pty's last slave is gone */
                if (n < 0 && errno != EIO)
                        log_debug("read output: %s", strerror(errno));
                output_eof(fd, s);
                return;
        }
        M.drain_last_ms = mono_ms();
        for (struct client *c = M.clients; c; c = c->next) {
                if (!client_wants(c, type))
                        continue;
                client_queue(c, type, M.iobuf, (size_t)n);
                client_flush(c);
        }
        if (M.logging)
                mon_stream_feed(s, &M.log, M.iobuf, (size_t)n);
}

static bool output_blocked(void)
{
        for (struct client *c = M.clients; c; c = c->next)
                if (!c->dead && (c->flags & (MON_ATTACH_STDOUT | MON_ATTACH_STDERR)) &&
                    client_pending(c) >= MON_CLIENT_OUT_MAX)
                        return true;
        return false;
}

/* ---- the end ---- */

static __attribute__((noreturn)) void finish(void)
{
        struct buf b = BUF_INIT;
        char *json;
        size_t len;

        if (M.out_fd >= 0)
                output_eof(&M.out_fd, &M.s_out);
        if (M.err_fd >= 0)
                output_eof(&M.err_fd, &M.s_err);
        if (M.logging)
                mon_log_close(&M.log);
        M.logging = false;
        exit_json(&b, NULL, NULL);
        json = buf_detach(&b, &len);
        write_exit_file(json, len);
        log_info("exited %s: pid %d, status 0x%x", M.id, (int)M.pid, (unsigned)M.wstatus);
        buf_adds(&b, "{\"event\":\"exited\",");
        buf_adds(&b, json + 1);
        emit_event(b.data);
        buf_release(&b);
        free(json);
        flush_clients_bounded();
        close_clients();
        if (M.created && !M.keep)
                runtime_delete(false);
        cleanup_files();
        xclose(&M.sync_fd);
        log_debug("monitor done");
        exit(0);
}

static void reap(void)
{
        for (;;) {
                int st;
                pid_t p = waitpid(-1, &st, WNOHANG);

                if (p <= 0)
                        return;
                if (p == M.pid && M.pid > 0 && !M.reaped) {
                        M.reaped = true;
                        M.wstatus = st;
                        M.finished_ns = berth_now_ns();
                        M.state = MS_DRAINING;
                        M.drain_last_ms = M.reaped_ms = mono_ms();
                        log_debug("process %d ended (status 0x%x)", (int)p, (unsigned)st);
                } else {
                        log_debug("reaped %d", (int)p);
                }
        }
}

static void on_signal(void)
{
        struct signalfd_siginfo si;

        while (read(M.sig_fd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
                int sig = (int)si.ssi_signo;

                if (sig == SIGCHLD)
                        continue;
                if (M.state == MS_RUNNING && M.pid > 0 && !M.reaped) {
                        log_info("signal %d: forwarded to %d", sig, (int)M.pid);
                        (void)kill(M.pid, sig);
                } else if (M.state == MS_INIT || M.state == MS_CREATED) {
                        if (M.state == MS_CREATED && M.pid > 0)
                                (void)kill(M.pid, SIGKILL);
                        fail("abort", "the monitor was terminated before the process started", -1);
                }
        }
        reap();
}

enum { P_SIG, P_LISTEN, P_OUT, P_ERR, P_IN, P_CLIENT };

static void loop(void)
{
        struct pollfd p[8 + MON_MAX_CLIENTS];
        struct client *owner[8 + MON_MAX_CLIENTS];
        int kind[8 + MON_MAX_CLIENTS];

        for (;;) {
                nfds_t n = 0;
                int timeout = -1, r;
                bool blocked = output_blocked();

                if (M.state == MS_DRAINING) {
                        int64_t now = mono_ms(), since = now - M.reaped_ms, idle;

                        /* bounded: an orphan writing for ever or a client
                         * that does not read must not keep the exit status
                         * from being written */
                        if (since >= MON_DRAIN_MAX_MS)
                                finish();
                        if (blocked)
                                M.drain_last_ms = now;
                        idle = now - M.drain_last_ms;
                        if ((M.out_fd < 0 && M.err_fd < 0) || idle >= MON_DRAIN_IDLE_MS)
                                finish();
                        timeout = (int)(MON_DRAIN_IDLE_MS - idle);
                        if (MON_DRAIN_MAX_MS - since < timeout)
                                timeout = (int)(MON_DRAIN_MAX_MS - since);
                }
#define ADD(fd_, ev_, kind_, owner_) \
        do { p[n] = (struct pollfd){ (fd_), (short)(ev_), 0 }; kind[n] = (kind_); owner[n] = (owner_); n++; } while (0)
                ADD(M.sig_fd, POLLIN, P_SIG, NULL);
                if (M.nclients < MON_MAX_CLIENTS)
                        ADD(M.listen_fd, POLLIN, P_LISTEN, NULL);
                if (M.out_fd >= 0 && !blocked)
                        ADD(M.out_fd, POLLIN, P_OUT, NULL);
                if (M.err_fd >= 0 && !blocked)
                        ADD(M.err_fd, POLLIN, P_ERR, NULL);
                if (M.in_fd >= 0 && M.in_q.len > 0)
                        ADD(M.in_fd, POLLOUT, P_IN, NULL);
                for (struct client *c = M.clients; c; c = c->next) {
                        short ev = 0;

                        if (!c->rd_eof && M.in_q.len < MON_STDIN_MAX)
                                ev |= POLLIN;
                        if (client_pending(c) > 0)
                                ev |= POLLOUT;
                        ADD(c->fd, ev, P_CLIENT, c);
                }
#undef ADD
                r = poll(p, n, timeout);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        log_error("poll: %s", strerror(errno));
                        finish();
                }
                for (nfds_t i = 0; i < n; i++) {
                        short re = p[i].revents;

                        if (!re)
                                continue;
                        switch (kind[i]) {
                        case P_SIG:
                                on_signal();
                                break;
                        case P_LISTEN:
                                client_accept();
                                break;
                        case P_OUT:
                                if (M.out_fd >= 0)
                                        output_read(&M.out_fd, MON_FRAME_STDOUT, &M.s_out);
                                break;
                        case P_ERR:
                                if (M.err_fd >= 0)
                                        output_read(&M.err_fd, MON_FRAME_STDERR, &M.s_err);
                                break;
                        case P_IN:
                                if (re & (POLLERR | POLLHUP)) {
                                        buf_release(&M.in_q);
                                        if (!M.tty)
                                                xclose(&M.in_fd);
                                        M.in_fd = -1;   /* tty: the master stays for output */
                                        M.in_closed = true;
                                } else {
                                        stdin_flush();
                                }
                                break;
                        case P_CLIENT: {
                                struct client *c = owner[i];

                                if (c->dead)
                                        break;
                                if (re & POLLIN)
                                        client_read(c);
                                else if (re & (POLLHUP | POLLERR))
                                        c->rd_eof = true, client_stdin_eof(c), c->dead = true;
                                if (!c->dead && (re & POLLOUT))
                                        client_flush(c);
                                break;
                        }
                        }
                }
                if (M.logging)
                        (void)mon_log_flush(&M.log);
                clients_sweep();
        }
}

/* ---- setup ---- */

static __attribute__((noreturn)) void usage(int code)
{
        fputs("usage: berth-monitor --runtime PATH [--runtime-arg ARG]... --id ID --state-dir DIR\n"
              "         (--bundle DIR | --exec PROCESS_JSON)\n"
              "         [--log-path FILE [--log-max-size N] [--log-max-file N] [--log-attrs JSON]]\n"
              "         [--tty] [--stdin] [--stdin-once] [--sync-fd N] [--auto-start] [--keep]\n"
              "         [--exec-fifo PATH]\n"
              "         [--foreground] [--debug]\n"
              "The protocol is described in runtime/monitor.h.\n",
              code ? stderr : stdout);
        exit(code);
}

static __attribute__((noreturn, format(printf, 1, 2))) void die_usage(const char *fmt, ...)
{
        va_list ap;

        fputs("berth-monitor: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        exit(2);
}

static char *abspath(const char *p)
{
        char cwd[PATH_MAX];

        if (p[0] == '/')
                return xstrdup(p);
        if (!getcwd(cwd, sizeof(cwd)))
                die_usage("getcwd: %s", strerror(errno));
        return xasprintf("%s/%s", cwd, p);
}

static char *find_in_path(const char *name)
{
        const char *path = getenv("PATH");

        if (strchr(name, '/'))
                return abspath(name);
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        while (*path) {
                const char *e = strchr(path, ':');
                size_t len = e ? (size_t)(e - path) : strlen(path);
                char *cand = xasprintf("%.*s/%s", (int)len, path, name);

                if (len > 0 && access(cand, X_OK) == 0)
                        return cand;
                free(cand);
                if (!e)
                        break;
                path = e + 1;
        }
        die_usage("runtime '%s' not found in PATH", name);
}

static void parse_args(int argc, char **argv)
{
        enum { OPT_RUNTIME = 256, OPT_RTARG, OPT_ID, OPT_BUNDLE, OPT_EXEC, OPT_STATE, OPT_LOG, OPT_MAXSIZE,
               OPT_MAXFILE, OPT_ATTRS, OPT_TTY, OPT_STDIN, OPT_ONCE, OPT_SYNC, OPT_AUTO, OPT_KEEP, OPT_FG,
               OPT_DEBUG, OPT_FIFO, OPT_HELP };
        static const struct option opts[] = {
                { "runtime", required_argument, NULL, OPT_RUNTIME },
                { "runtime-arg", required_argument, NULL, OPT_RTARG },
                { "id", required_argument, NULL, OPT_ID },
                { "bundle", required_argument, NULL, OPT_BUNDLE },
                { "exec", required_argument, NULL, OPT_EXEC },
                { "state-dir", required_argument, NULL, OPT_STATE },
                { "log-path", required_argument, NULL, OPT_LOG },
                { "log-max-size", required_argument, NULL, OPT_MAXSIZE },
                { "log-max-file", required_argument, NULL, OPT_MAXFILE },
                { "log-attrs", required_argument, NULL, OPT_ATTRS },
                { "tty", no_argument, NULL, OPT_TTY },
                { "stdin", no_argument, NULL, OPT_STDIN },
                { "stdin-once", no_argument, NULL, OPT_ONCE },
                { "sync-fd", required_argument, NULL, OPT_SYNC },
                { "auto-start", no_argument, NULL, OPT_AUTO },
                { "exec-fifo", required_argument, NULL, OPT_FIFO },
                { "keep", no_argument, NULL, OPT_KEEP },
                { "foreground", no_argument, NULL, OPT_FG },
                { "debug", no_argument, NULL, OPT_DEBUG },
                { "help", no_argument, NULL, OPT_HELP },
                { NULL, 0, NULL, 0 },
        };
        int c;
        int64_t v;

        M.log_max_file = 1;
        M.sync_fd = -1;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                switch (c) {
                case OPT_RUNTIME: M.rt.runtime = optarg; break;
                case OPT_RTARG:
                        M.rt.args = xrealloc(M.rt.args, sizeof(char *) * (size_t)(M.rt.nargs + 1));
                        M.rt.args[M.rt.nargs++] = optarg;
                        if (M.rt.nargs > 32)
                                die_usage("too many --runtime-arg");
                        break;
                case OPT_ID: M.id = optarg; break;
                case OPT_BUNDLE: M.bundle = abspath(optarg); break;
                case OPT_EXEC: M.exec_process = abspath(optarg); break;
                case OPT_STATE: M.state_dir = abspath(optarg); break;
                case OPT_LOG: M.log_path = abspath(optarg); break;
                case OPT_MAXSIZE:
                        if (mon_parse_size(optarg, &M.log_max_size) < 0 || M.log_max_size <= 0)
                                die_usage("--log-max-size: '%s' is not a positive size", optarg);
                        break;
                case OPT_MAXFILE:
                        if (berth_parse_int64(optarg, &v) < 0 || v < 1 || v > 1000)
                                die_usage("--log-max-file: '%s' is not a number from 1 to 1000", optarg);
                        M.log_max_file = (int)v;
                        break;
                case OPT_ATTRS:
                        if (optarg[0] != '{' || optarg[strlen(optarg) - 1] != '}' || strchr(optarg, '\n'))
                                die_usage("--log-attrs: a JSON object on one line is expected");
                        M.log_attrs = optarg;
                        break;
                case OPT_TTY: M.tty = true; break;
                case OPT_STDIN: M.open_stdin = true; break;
                case OPT_ONCE: M.stdin_once = true; break;
                case OPT_SYNC:
                        if (berth_parse_int64(optarg, &v) < 0 || v < 3 || v > INT_MAX ||
                            fcntl((int)v, F_GETFD) < 0)
                                die_usage("--sync-fd: '%s' is not an open fd above 2", optarg);
                        M.sync_fd = (int)v;
                        break;
                case OPT_AUTO: M.auto_start = true; break;
                case OPT_KEEP: M.keep = true; break;
                case OPT_FG: M.foreground = true; break;
                case OPT_DEBUG: berth_log_set_level(BERTH_LOG_DEBUG); break;
                case OPT_FIFO: M.exec_fifo = abspath(optarg); break;
                case OPT_HELP: usage(0);
                default: usage(2);
                }
        }
        if (optind != argc)
                die_usage("unexpected argument '%s'", argv[optind]);
        if (!M.rt.runtime || !M.id || !M.state_dir)
                die_usage("--runtime, --id and --state-dir are required");
        if (!M.bundle == !M.exec_process)
                die_usage("give one of --bundle and --exec");
        if (!M.id[0] || strchr(M.id, '/'))
                die_usage("bad --id '%s'", M.id);
        M.rt.runtime = find_in_path(M.rt.runtime);
        if (strlen(M.state_dir) + 1 + strlen(MON_FILE_CONSOLE) >= sizeof(M.sock_path))
                die_usage("--state-dir '%s' is too long for a unix socket path", M.state_dir);
        (void)snprintf(M.sock_path, sizeof(M.sock_path), "%s/%s", M.state_dir, MON_FILE_SOCK);
        if (M.tty)
                (void)snprintf(M.console_path, sizeof(M.console_path), "%s/%s", M.state_dir,
                               MON_FILE_CONSOLE);
        state_path(M.cpid_path, sizeof(M.cpid_path), MON_FILE_CPID);
        M.rt.state_dir = M.state_dir;
        M.rt.timeout_ms = 120 * 1000;
}

/* Close everything inherited but stdio and the sync fd. */
static void close_inherited(void)
{
#ifdef SYS_close_range
        unsigned keep = M.sync_fd >= 0 ? (unsigned)M.sync_fd : 0;

        if (keep) {
                if (keep > 3 && syscall(SYS_close_range, 3U, keep - 1, 0U) < 0)
                        goto slow;
                if (syscall(SYS_close_range, keep + 1, ~0U, 0U) < 0)
                        goto slow;
        } else if (syscall(SYS_close_range, 3U, ~0U, 0U) < 0) {
                goto slow;
        }
        return;
slow:
#endif
        for (int fd = 3; fd < 1024; fd++)
                if (fd != M.sync_fd)
                        (void)close(fd);
}

/* fork, setsid, fork: the first process waits for the monitor's first step. */
static void detach(void)
{
        int p[2];
        pid_t c;

        if (pipe2(p, O_CLOEXEC) < 0)
                die_usage("pipe: %s", strerror(errno));
        c = fork();
        if (c < 0)
                die_usage("fork: %s", strerror(errno));
        if (c > 0) {
                char msg[2048];
                size_t n = 0;
                ssize_t r;

                close(p[1]);
                while (n < sizeof(msg) - 1 && ((r = read(p[0], msg + n, sizeof(msg) - 1 - n)) > 0 ||
                                               (r < 0 && errno == EINTR)))
                        if (r > 0)
                                n += (size_t)r;
                (void)waitpid(c, NULL, 0);
                if (n > 0 && msg[0] == '0')
                        exit(0);
                if (n > 0 && msg[0] == '1') {
                        fprintf(stderr, "%.*s\n", (int)n - 1, msg + 1);
                        exit(1);
                }
                fprintf(stderr, "berth-monitor: the monitor ended during its start (see %s/%s)\n",
                        M.state_dir, MON_FILE_LOG);
                exit(1);
        }
        close(p[0]);
        if (setsid() < 0)
                _exit(1);
        c = fork();
        if (c < 0)
                _exit(1);
        if (c > 0)
                _exit(0);
        M.ready_fd = p[1];
}

static void setup_stdio(void)
{
        char path[PATH_MAX];
        int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

        if (fd >= 0) {
                (void)dup2(fd, 0);
                (void)dup2(fd, 1);
                close(fd);
        }
        if (M.foreground)
                return;
        state_path(path, sizeof(path), MON_FILE_LOG);
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        if (fd >= 0) {
                (void)dup2(fd, 2);
                close(fd);
        }
}

/* Field 22 of /proc/self/stat: lets berthd tell us from a reused pid. */
static void read_starttime(void)
{
        char *data = NULL, *p;
        size_t len = 0;

        if (berth_read_file("/proc/self/stat", 4096, &data, &len, NULL) < 0)
                return;
        p = strrchr(data, ')');
        /* after ") ": state is field 3; starttime is field 22 */
        for (int field = 2; p && field < 22; field++)
                p = strchr(p + 1, ' ');
        if (p)
                M.starttime = strtoull(p + 1, NULL, 10);
        free(data);
}

static void setup_oom_adj(void)
{
        char *data = NULL;
        size_t len = 0;
        int fd;

        if (berth_read_file("/proc/self/oom_score_adj", 32, &data, &len, NULL) < 0)
                return;
        while (len > 0 && data[len - 1] == '\n')
                data[--len] = '\0';
        (void)snprintf(M.rt.oom_adj, sizeof(M.rt.oom_adj), "%s", data);
        free(data);
        /* the monitor outlives a memory squeeze better than its container */
        fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
                if (write(fd, "-999", 4) < 0)
                        M.rt.oom_adj[0] = '\0';
                close(fd);
        }
}

static void setup_listen(void)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        mode_t old;

        M.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (M.listen_fd < 0)
                goto fail;
        memcpy(sa.sun_path, M.sock_path, strlen(M.sock_path) + 1);
        (void)unlink(M.sock_path);
        old = umask(0177);
        if (bind(M.listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                umask(old);
                goto fail;
        }
        umask(old);
        if (listen(M.listen_fd, 16) < 0)
                goto fail;
        return;
fail:
        {
                char msg[256];

                (void)snprintf(msg, sizeof(msg), "attach socket '%s': %s", M.sock_path, strerror(errno));
                fail(M.exec_process ? "exec" : "create", msg, -1);
        }
}

int main(int argc, char **argv)
{
        struct berth_err err = BERTH_ERR_INIT;
        char path[PATH_MAX], num[32], ev[256];
        sigset_t set;
        int r;

        M.ready_fd = M.listen_fd = M.sig_fd = M.console_listen = -1;
        M.out_fd = M.err_fd = M.in_fd = M.cout_fd = M.cerr_fd = M.cin_fd = -1;
        (void)signal(SIGPIPE, SIG_IGN);
        (void)signal(SIGHUP, SIG_IGN);
        parse_args(argc, argv);
        close_inherited();
        r = berth_mkdir_p(M.state_dir, 0700);
        if (r < 0)
                die_usage("state dir '%s': %s", M.state_dir, strerror(-r));
        if (!M.foreground)
                detach();
        else if (getpgrp() != getpid())
                (void)setsid();
        setup_stdio();
        if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
                log_warn("PR_SET_CHILD_SUBREAPER: %s", strerror(errno));
        if (chdir("/") < 0)
                log_warn("chdir /: %s", strerror(errno));
        setup_oom_adj();
        read_starttime();
        state_path(path, sizeof(path), MON_FILE_EXIT);
        (void)unlink(path);     /* a previous run's status */
        if (M.sync_fd >= 0) {
                (void)fcntl(M.sync_fd, F_SETFD, FD_CLOEXEC);
                set_nonblock(M.sync_fd);
        }
        M.in_closed = !M.open_stdin;

        sigemptyset(&set);
        sigaddset(&set, SIGCHLD);
        sigaddset(&set, SIGTERM);
        sigaddset(&set, SIGINT);
        (void)sigprocmask(SIG_BLOCK, &set, NULL);
        M.sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
        if (M.sig_fd < 0)
                fail(M.exec_process ? "exec" : "create", "signalfd failed", -1);

        (void)snprintf(num, sizeof(num), "%d\n", (int)getpid());
        state_path(path, sizeof(path), MON_FILE_PID);
        if (berth_write_file_volatile(path, num, strlen(num), 0644, &err) < 0)
                log_warn("%s", err.msg);
        log_info("monitor %d for %s%s%s", (int)getpid(), M.id, M.exec_process ? " exec " : "",
                 M.exec_process ? M.exec_process : "");

        if (M.log_path) {
                if (mon_log_open(&M.log, M.log_path, M.log_max_size, M.log_max_file, M.log_attrs, &err) < 0)
                        fail(M.exec_process ? "exec" : "create", err.msg, -1);
                M.logging = true;
                mon_stream_init(&M.s_out, "stdout");
                mon_stream_init(&M.s_err, "stderr");
        }
        setup_listen();
        make_stdio();
        if (!M.exec_process)
                do_create();
        state_event(ev, sizeof(ev));
        emit_event(ev);
        if (M.auto_start)
                do_start();
        release_starter(true, NULL);
        loop();
        return 0;
}
