/* SPDX-License-Identifier: Apache-2.0
 * t/helper/rt-console.c -- the receiving end of --console-socket for tests:
 *   rt-console SOCKET [INPUT]
 * listens on SOCKET, takes one pty master over SCM_RIGHTS, prints
 * "name=<name>" on stderr, writes INPUT (if given) to the terminal and copies
 * what the terminal prints to stdout until the other side closes it.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        char name[4096], cbuf[CMSG_SPACE(sizeof(int))], buf[4096];
        struct iovec iov = { name, sizeof(name) - 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm;
        int ls, c, master = -1;
        ssize_t n;

        if (argc < 2 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: rt-console SOCKET [INPUT]\n");
                return 2;
        }
        strcpy(sa.sun_path, argv[1]);
        ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 1) < 0) {
                perror("rt-console: listen");
                return 1;
        }
        c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) {
                perror("rt-console: accept");
                return 1;
        }
        n = recvmsg(c, &msg, 0);
        if (n < 0) {
                perror("rt-console: recvmsg");
                return 1;
        }
        name[n] = '\0';
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&master, CMSG_DATA(cm), sizeof(int));
        if (master < 0) {
                fprintf(stderr, "rt-console: no fd received\n");
                return 1;
        }
        fprintf(stderr, "name=%s\n", name);
        close(c);
        if (argc > 2 && write(master, argv[2], strlen(argv[2])) < 0)
                perror("rt-console: write");
        for (;;) {
                struct pollfd p = { master, POLLIN, 0 };
                if (poll(&p, 1, 20000) <= 0)
                        break;
                n = read(master, buf, sizeof(buf));
                if (n <= 0)
                        break;
                fwrite(buf, 1, (size_t)n, stdout);
                fflush(stdout);
        }
        return 0;
}
