/* SPDX-License-Identifier: Apache-2.0
 * api/api.h -- the Engine API server: listeners (unix, tcp with optional TLS,
 * systemd fd://), the HTTP/1.1 server on berthd's loop, graceful shutdown.
 * Loop thread only.
 */
#ifndef BERTH_API_H
#define BERTH_API_H

#include "daemon/daemon.h"

struct api_server;

/* Create the server for daemon d (TLS context built from d->cfg when TLS is
 * on).  Returns 0 or -errno with err. */
int api_server_new(struct berth_daemon *d, struct api_server **ret, struct berth_err *err);

/* Listen on one -H value: unix:///path, tcp://addr:port, fd:// or fd://NAME.
 * With metrics_only the listener serves GET /metrics and nothing else
 * (--metrics-addr; plain HTTP).  Unix sockets get mode 0660 and the
 * configured group (or 0600 root-only without one). */
int api_server_listen(struct api_server *s, const char *host, bool metrics_only, struct berth_err *err);

/* Re-read the limits from d->cfg (SIGHUP). */
void api_server_reload(struct api_server *s);

/* Stop accepting, let in-flight requests finish (streams end), close idle
 * connections; done(data) runs once, on the loop, when no connection is
 * left (or after the daemon's shutdown-timeout, closing the rest). */
void api_server_shutdown(struct api_server *s, void (*done)(void *data), void *data);

/* Free after the loop is done with it.  NULL-safe; returns NULL. */
struct api_server *api_server_free(struct api_server *s);

/* Serve a connected unix stream socket fd as a client connection (tests,
 * fuzzing, and sockets handed over by another process).  Takes the fd. */
int api_server_adopt(struct api_server *s, int fd, struct berth_err *err);

/* Stop watching exec processes (shutdown). */
void api_exec_shutdown(struct berth_daemon *d);

/* Refresh the image count /info shows (on the thread pool). */
void api_images_recount(struct berth_daemon *d);

/* Number of open client connections (for /info and tests). */
size_t api_server_connections(const struct api_server *s);

#endif
