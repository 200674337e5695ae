/* SPDX-License-Identifier: Apache-2.0
 * api/listen.c -- listening sockets for -H values: unix://PATH, tcp://ADDR:PORT
 * and systemd socket activation (fd://, fd://NAME, fd://N).  Runs at startup,
 * before the loop serves anything, so the blocking calls here are fine.
 */
#include "config.h"

#include <grp.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <fcntl.h>

#include "api/api-internal.h"

/* systemd passes sockets from fd 3 on */
#define SD_LISTEN_FDS_START 3

struct activated {
        int fd;
        char *name;
        bool used;
};
static struct activated *act;
static size_t n_act;
static bool act_loaded;

static void load_activated(void)
{
        const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS"), *names = getenv("LISTEN_FDNAMES");
        int64_t p, n;

        act_loaded = true;
        if (!pid || !fds || berth_parse_int64(pid, &p) < 0 || p != getpid() || berth_parse_int64(fds, &n) < 0 ||
            n <= 0 || n > 1024)
                return;
        _cleanup_free_ char *copy = names ? xstrdup(names) : NULL;
        char *save = NULL, *tok = copy ? strtok_r(copy, ":", &save) : NULL;
        act = xcalloc((size_t)n, sizeof(*act));
        for (int64_t i = 0; i < n; i++) {
                act[i].fd = SD_LISTEN_FDS_START + (int)i;
                act[i].name = xstrdup(tok ? tok : "unknown");
                (void)fcntl(act[i].fd, F_SETFD, FD_CLOEXEC);
                tok = tok ? strtok_r(NULL, ":", &save) : NULL;
        }
        n_act = (size_t)n;
        /* not for our children */
        unsetenv("LISTEN_PID");
        unsetenv("LISTEN_FDS");
        unsetenv("LISTEN_FDNAMES");
}

static bool fd_is_tcp(int fd)
{
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);

        if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
                return false;
        return ss.ss_family == AF_INET || ss.ss_family == AF_INET6;
}

static int listen_activated(const char *what, struct api_lfd **ret, size_t *ret_n, struct berth_err *err)
{
        int64_t num = -1;

        if (!act_loaded)
                load_activated();
        if (n_act == 0)
                return berth_err_pub(err, EINVAL,
                                     "fd://%s: no sockets were passed by socket activation (LISTEN_FDS unset)", what);
        if (*what && berth_parse_int64(what, &num) < 0)
                num = -1;
        for (size_t i = 0; i < n_act; i++) {
                bool match = !*what || !strcmp(what, "*") || (num >= 0 && act[i].fd == num) ||
                             !strcmp(act[i].name, what);
                if (!match || act[i].used)
                        continue;
                act[i].used = true;
                *ret = xrealloc(*ret, (*ret_n + 1) * sizeof(**ret));
                (*ret)[*ret_n].fd = act[i].fd;
                (*ret)[*ret_n].tcp = fd_is_tcp(act[i].fd);
                (*ret_n)++;
        }
        if (*ret_n == 0)
                return berth_err_pub(err, ENOENT, "fd://%s: no activated socket of that name or number", what);
        return 0;
}

static int listen_unix(const char *path, const struct berth_config *cfg, int *ret_fd, struct berth_err *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;
        struct stat st;
        gid_t gid = 0;

        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_err_pub(err, EINVAL, "unix socket path '%s' is too long", path);
        memcpy(sa.sun_path, path, strlen(path));
        if (cfg->group) {
                struct group *g = getgrnam(cfg->group);
                int64_t n;
                if (g)
                        gid = g->gr_gid;
                else if (berth_parse_int64(cfg->group, &n) == 0 && n >= 0)
                        gid = (gid_t)n;
                else
                        return berth_err_pub(err, EINVAL, "group '%s' not found", cfg->group);
        }
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                return berth_err_set(err, errno, "socket: %s", strerror(errno));
        if (lstat(path, &st) == 0) {
                if (!S_ISSOCK(st.st_mode))
                        return berth_err_pub(err, EEXIST, "'%s' exists and is not a socket", path);
                /* a live daemon answers on it: do not steal its socket */
                int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (probe >= 0) {
                        int r = connect(probe, (struct sockaddr *)&sa, sizeof(sa));
                        close(probe);
                        if (r == 0)
                                return berth_err_pub(err, EADDRINUSE, "'%s' is in use by another daemon", path);
                }
                (void)unlink(path);
        }
        char *dir = xstrdup(path), *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                (void)berth_mkdir_p(dir, 0755);
        }
        free(dir);
        mode_t old = umask(0177);
        int r = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
        umask(old);
        if (r < 0)
                return berth_err_set(err, errno, "bind '%s': %s", path, strerror(errno));
        if (chown(path, 0, gid) < 0 && cfg->group)
                return berth_err_set(err, errno, "chown '%s': %s", path, strerror(errno));
        if (chmod(path, cfg->group ? 0660 : 0600) < 0)
                return berth_err_set(err, errno, "chmod '%s': %s", path, strerror(errno));
        if (listen(fd, 1024) < 0)
                return berth_err_set(err, errno, "listen '%s': %s", path, strerror(errno));
        *ret_fd = TAKE_FD(fd);
        return 0;
}

/* "ADDR:PORT", "[V6]:PORT", ":PORT" (all addresses) */
int api_split_hostport(const char *hp, char *host, size_t hostlen, char *port, size_t portlen)
{
        const char *colon;
        size_t n;

        if (hp[0] == '[') {
                const char *end = strchr(hp, ']');
                if (!end || end[1] != ':')
                        return -EINVAL;
                n = (size_t)(end - hp - 1);
                if (n >= hostlen)
                        return -EINVAL;
                memcpy(host, hp + 1, n);
                host[n] = '\0';
                colon = end + 1;
        } else {
                colon = strrchr(hp, ':');
                if (!colon)
                        return -EINVAL;
                n = (size_t)(colon - hp);
                if (n >= hostlen || memchr(hp, ':', n))
                        return -EINVAL;
                memcpy(host, hp, n);
                host[n] = '\0';
        }
        if (!colon[1] || strlen(colon + 1) >= portlen || strspn(colon + 1, "0123456789") != strlen(colon + 1))
                return -EINVAL;
        int64_t p;
        if (berth_parse_int64(colon + 1, &p) < 0 || p < 0 || p > 65535)
                return -ERANGE;
        snprintf(port, portlen, "%s", colon + 1);
        return 0;
}

int api_listen_tcp(const char *hp, int *ret_fd, struct berth_err *err)
{
        char host[256], port[16];
        struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE }, *res = NULL;
        _cleanup_close_ int fd = -1;
        int r, one = 1;

        r = api_split_hostport(hp, host, sizeof(host), port, sizeof(port));
        if (r < 0)
                return berth_err_pub(err, EINVAL, "invalid tcp address '%s': expected ADDR:PORT", hp);
        if (!strcmp(host, "localhost"))
                snprintf(host, sizeof(host), "127.0.0.1");
        hints.ai_flags |= AI_NUMERICHOST | AI_NUMERICSERV;
        r = getaddrinfo(host[0] ? host : NULL, port, &hints, &res);
        if (r != 0)
                return berth_err_pub(err, EINVAL, "invalid tcp address '%s': %s", hp, gai_strerror(r));
        fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0) {
                r = errno;
                freeaddrinfo(res);
                return berth_err_set(err, r, "socket: %s", strerror(r));
        }
        (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 1024) < 0) {
                r = errno;
                freeaddrinfo(res);
                return berth_err_set(err, r, "listen on tcp://%s: %s", hp, strerror(r));
        }
        freeaddrinfo(res);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int api_listen_fds(const char *host, const struct berth_config *cfg, struct api_lfd **ret, size_t *ret_n,
                   char **ret_unlink, struct berth_err *err)
{
        int fd = -1, r;

        *ret = NULL;
        *ret_n = 0;
        *ret_unlink = NULL;
        if (berth_str_has_prefix(host, "fd://"))
                return listen_activated(host + 5, ret, ret_n, err);
        if (berth_str_has_prefix(host, "unix://")) {
                r = listen_unix(host + 7, cfg, &fd, err);
                if (r < 0)
                        return r;
                *ret_unlink = xstrdup(host + 7);
        } else if (berth_str_has_prefix(host, "tcp://")) {
                r = api_listen_tcp(host + 6, &fd, err);
                if (r < 0)
                        return r;
        } else {
                return berth_err_pub(err, EINVAL, "invalid host '%s'", host);
        }
        *ret = xmalloc(sizeof(**ret));
        (*ret)[0].fd = fd;
        (*ret)[0].tcp = berth_str_has_prefix(host, "tcp://");
        *ret_n = 1;
        return 0;
}
