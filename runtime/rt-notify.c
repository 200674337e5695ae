/* SPDX-License-Identifier: Apache-2.0
 * runtime/rt-notify.c -- seccomp user notification (SCMP_ACT_NOTIFY): the
 * listener fd that loading the filter returns travels from the container's
 * process to the runtime over the sync socket ('N' with SCM_RIGHTS); the
 * runtime sends it on to linux.seccomp.listenerPath with the container
 * process state, one connection per fd, as the runtime-spec describes.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "runtime/runtime-internal.h"

#define STATE_MAX (64 * 1024)

int rt_send_fd(int sock, int fd, const void *data, size_t len)
{
        char cbuf[CMSG_SPACE(sizeof(int))];
        struct iovec iov = { (void *)data, len };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm;
        ssize_t n;

        memset(cbuf, 0, sizeof(cbuf));
        cm = CMSG_FIRSTHDR(&msg);
        cm->cmsg_level = SOL_SOCKET;
        cm->cmsg_type = SCM_RIGHTS;
        cm->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(cm), &fd, sizeof(int));
        do
                n = sendmsg(sock, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        return (size_t)n == len ? 0 : -EMSGSIZE;
}

ssize_t rt_recv_msg(int sock, char *buf, size_t cap, int *ret_fd)
{
        char cbuf[CMSG_SPACE(sizeof(int) * 4)];
        struct iovec iov = { buf, cap - 1 };
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
                              .msg_controllen = sizeof(cbuf) };
        struct cmsghdr *cm;
        ssize_t n;

        if (ret_fd)
                *ret_fd = -1;
        do
                n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return -errno;
        buf[n] = '\0';
        for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
                size_t nfd;
                if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
                        continue;
                nfd = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                for (size_t i = 0; i < nfd; i++) {
                        int fd;
                        memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int), sizeof(int));
                        if (ret_fd && *ret_fd < 0)
                                *ret_fd = fd;
                        else
                                (void)close(fd);
                }
        }
        return n;
}

int rt_notify_forward(const cJSON *seccomp, int fd, pid_t pid, cJSON *state, struct berth_err *err)
{
        const char *path = berth_json_str(seccomp, "listenerPath");
        const char *meta = berth_json_str(seccomp, "listenerMetadata");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int sock = -1;
        _cleanup_free_ char *text = NULL;
        cJSON *o, *fds;
        int r;

        if (!path || !*path)
                return berth_err_set(err, EINVAL, "seccomp: SCMP_ACT_NOTIFY needs linux.seccomp.listenerPath");
        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_err_set(err, ENAMETOOLONG, "seccomp: listenerPath '%s' is too long", path);
        strcpy(sa.sun_path, path);
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "ociVersion", RT_OCI_VERSION);
        fds = cJSON_AddArrayToObject(o, "fds");
        cJSON_AddItemToArray(fds, cJSON_CreateString("seccompFd"));
        cJSON_AddNumberToObject(o, "pid", pid);
        if (meta && *meta)
                cJSON_AddStringToObject(o, "metadata", meta);
        cJSON_AddItemReferenceToObject(o, "state", state);
        text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (strlen(text) > STATE_MAX)
                return berth_err_set(err, EMSGSIZE, "seccomp: container process state is too large");
        sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (sock < 0)
                return berth_err_set(err, errno, "seccomp: socket: %s", strerror(errno));
        if (connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return berth_err_set(err, errno, "seccomp: connect to listenerPath '%s': %s", path, strerror(errno));
        r = rt_send_fd(sock, fd, text, strlen(text));
        if (r < 0)
                return berth_err_set(err, -r, "seccomp: send the notify fd to listenerPath '%s': %s", path, strerror(-r));
        return 0;
}
