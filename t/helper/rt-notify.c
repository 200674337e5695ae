/* SPDX-License-Identifier: Apache-2.0
 * t/helper/rt-notify.c -- a seccomp agent for tests (linux.seccomp.listenerPath):
 *   rt-notify SOCKET LOG ERRNO
 * listens on SOCKET; for each connection takes the container process state
 * (appended to LOG as one line "state <json>") and the listener fd it
 * carries; answers every notification with -ERRNO, or with success and
 * return value 0 when ERRNO is 0, logging "notify <syscall> <pid>".  Runs
 * until killed.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define MAX_FDS 32

static FILE *logfp;

static int take_state(int ls)
{
        char data[65536], cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { data, sizeof(data) - 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm;
        int c, fd = -1;
        ssize_t n;

        c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0)
                return -1;
        n = recvmsg(c, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0) {
                perror("rt-notify: recvmsg");
                close(c);
                return -1;
        }
        data[n] = '\0';
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm))
                if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
                        memcpy(&fd, CMSG_DATA(cm), sizeof(int));
        /* the runtime closes the connection after one state */
        n = read(c, cbuf, 1);
        close(c);
        fprintf(logfp, "state %s%s\n", data, n == 0 ? "" : " (connection not closed)");
        if (fd < 0)
                fprintf(logfp, "no fd\n");
        fflush(logfp);
        return fd;
}

static void answer(int fd, int err)
{
        struct seccomp_notif *req = NULL;
        struct seccomp_notif_resp *resp = NULL;
        char *name;

        if (seccomp_notify_alloc(&req, &resp) < 0)
                exit(1);
        if (seccomp_notify_receive(fd, req) == 0) {
                name = seccomp_syscall_resolve_num_arch(req->data.arch, req->data.nr);
                fprintf(logfp, "notify %s %u\n", name ? name : "?", req->pid);
                fflush(logfp);
                free(name);
                resp->id = req->id;
                resp->val = 0;
                resp->error = err ? -err : 0;
                resp->flags = 0;
                (void)seccomp_notify_respond(fd, resp);
        }
        seccomp_notify_free(req, resp);
}

int main(int argc, char **argv)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        struct pollfd p[MAX_FDS + 1];
        int ls, nfds = 1, err;

        if (argc != 4 || strlen(argv[1]) >= sizeof(sa.sun_path)) {
                fprintf(stderr, "usage: rt-notify SOCKET LOG ERRNO\n");
                return 2;
        }
        err = atoi(argv[3]);
        logfp = fopen(argv[2], "ae");
        if (!logfp) {
                perror("rt-notify: log");
                return 1;
        }
        strcpy(sa.sun_path, argv[1]);
        ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0) {
                perror("rt-notify: listen");
                return 1;
        }
        p[0].fd = ls;
        p[0].events = POLLIN;
        for (;;) {
                if (poll(p, (nfds_t)nfds, -1) < 0) {
                        if (errno == EINTR)
                                continue;
                        perror("rt-notify: poll");
                        return 1;
                }
                for (int i = nfds - 1; i >= 1; i--) {
                        if (p[i].revents & POLLIN)
                                answer(p[i].fd, err);
                        else if (p[i].revents & (POLLHUP | POLLERR | POLLNVAL)) {
                                /* every process of the filter is gone */
                                close(p[i].fd);
                                p[i] = p[--nfds];
                        }
                }
                if (p[0].revents & POLLIN) {
                        int fd = take_state(ls);
                        if (fd >= 0 && nfds <= MAX_FDS) {
                                p[nfds].fd = fd;
                                p[nfds].events = POLLIN;
                                p[nfds].revents = 0;
                                nfds++;
                        } else if (fd >= 0) {
                                close(fd);
                        }
                }
        }
}
