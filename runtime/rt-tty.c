/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-tty.c -- terminals as runc does them: the pty is opened inside
 * the container and its master is sent to --console-socket with SCM_RIGHTS.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>

#include "runtime/runtime-internal.h"

int rt_console_connect(const char *path, struct berth_err *err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_err_set(err, ENAMETOOLONG, "console socket path '%s' is too long", path);
        strcpy(sa.sun_path, path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_err_set(err, errno, "socket: %s", strerror(errno));
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
                int e = errno;
                (void)close(fd);
                return berth_err_set(err, e, "connect to console socket '%s': %s", path, strerror(e));
        }
        return fd;
}

int rt_console_setup(int sockfd, const struct rt_process *p, bool mount_console, struct berth_err *err)
{
        _cleanup_close_ int master = -1, slave = -1;
        char name[64];
        int n = 0, unlock = 0, r;

        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (master < 0)
                return berth_err_set(err, errno, "open /dev/ptmx: %s", strerror(errno));
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0 || ioctl(master, TIOCGPTN, &n) < 0)
                return berth_err_set(err, errno, "pty: %s", strerror(errno));
        snprintf(name, sizeof(name), "/dev/pts/%d", n);
        slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return berth_err_set(err, errno, "open %s: %s", name, strerror(errno));
        if (p->cons_h || p->cons_w) {
                struct winsize ws = { .ws_row = p->cons_h, .ws_col = p->cons_w };
                (void)ioctl(slave, TIOCSWINSZ, &ws);
        }
        if (mount_console) {
                int cfd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
                if (cfd >= 0)
                        (void)close(cfd);
                if (mount(name, "/dev/console", NULL, MS_BIND, NULL) < 0)
                        rt_debug("bind %s on /dev/console: %s", name, strerror(errno));
        }
        r = rt_send_fd(sockfd, master, name, strlen(name));
        if (r < 0)
                return berth_err_set(err, -r, "send the pty master to the console socket: %s", strerror(-r));
        for (int i = 0; i < 3; i++)
                if (dup2(slave, i) < 0)
                        return berth_err_set(err, errno, "dup2: %s", strerror(errno));
        if (ioctl(0, TIOCSCTTY, 0) < 0)
                return berth_err_set(err, errno, "set controlling terminal: %s", strerror(errno));
        return 0;
}

static int recv_fd(int sock)
{
        char name[256], cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { name, sizeof(name) };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm;
        int fd = -1;

        if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
                return -1;
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        return fd;
}

static bool copy_some(int from, int to)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));

        if (n <= 0)
                return false;
        for (ssize_t off = 0; off < n;) {
                ssize_t w = write(to, buf + off, (size_t)(n - off));
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return false;
                }
                off += w;
        }
        return true;
}

int rt_console_proxy(int sock, int pidfd)
{
        struct termios saved, raw;
        bool restore = false, in_open = true;
        int master = recv_fd(sock);

        if (master < 0)
                return -EIO;
        if (isatty(0) && tcgetattr(0, &saved) == 0) {
                struct winsize ws;
                raw = saved;
                cfmakeraw(&raw);
                if (tcsetattr(0, TCSANOW, &raw) == 0)
                        restore = true;
                if (ioctl(0, TIOCGWINSZ, &ws) == 0)
                        (void)ioctl(master, TIOCSWINSZ, &ws);
        }
        for (;;) {
                struct pollfd p[3] = { { master, POLLIN, 0 }, { pidfd, POLLIN, 0 }, { 0, POLLIN, 0 } };
                int r = poll(p, in_open ? 3 : 2, -1);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        break;
                }
                if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
                        if (!copy_some(master, 1))
                                break;
                        continue;
                }
                if (in_open && (p[2].revents & (POLLIN | POLLHUP | POLLERR)) && !copy_some(0, master))
                        in_open = false;
                if (p[1].revents & POLLIN) {
                        /* drain what is left, then stop */
                        struct pollfd q = { master, POLLIN, 0 };
                        while (poll(&q, 1, 0) > 0 && (q.revents & POLLIN) && copy_some(master, 1))
                                ;
                        break;
                }
        }
        if (restore)
                (void)tcsetattr(0, TCSANOW, &saved);
        (void)close(master);
        return 0;
}
