/* SPDX-License-Identifier: Apache-2.0
 * api/metrics.c -- GET /metrics on the --metrics-addr listener. */
#include "config.h"

#include "api/api-internal.h"

void api_h_metrics(struct api_req *r)
{
        struct buf b = BUF_INIT;

        berth_metrics_render(r->d->metrics, &b, (double)(berth_now_ns() - r->d->start_ns) / 1e9);
        api_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
        buf_release(&b);
}
