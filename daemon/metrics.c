/* SPDX-License-Identifier: Apache-2.0
 * daemon/metrics.c -- Prometheus metrics of berthd (text exposition 0.0.4):
 * build info, uptime, API requests by route/method/code, request latency
 * histogram, open connections, process RSS, fds and threads.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "daemon/daemon.h"

static const double buckets[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS ARRAY_SIZE(buckets)

struct req_counter {
        char *route;
        char method[12];
        int code;
        uint64_t count;
};

struct berth_metrics {
        struct req_counter *reqs;
        size_t n_reqs;
        uint64_t bucket_counts[N_BUCKETS];
        uint64_t lat_count;
        double lat_sum;
        int64_t conns_open;
        uint64_t conns_total;
};

struct berth_metrics *berth_metrics_new(void)
{
        return xcalloc(1, sizeof(struct berth_metrics));
}

struct berth_metrics *berth_metrics_free(struct berth_metrics *m)
{
        if (!m)
                return NULL;
        for (size_t i = 0; i < m->n_reqs; i++)
                free(m->reqs[i].route);
        free(m->reqs);
        free(m);
        return NULL;
}

void berth_metrics_request(struct berth_metrics *m, const char *route, const char *method,
                           int code, double seconds)
{
        size_t i;

        for (i = 0; i < m->n_reqs; i++)
                if (m->reqs[i].code == code && !strcmp(m->reqs[i].method, method) &&
                    !strcmp(m->reqs[i].route, route))
                        break;
        if (i == m->n_reqs) {
                /* routes come from the route table, so this stays bounded */
                m->reqs = xrealloc(m->reqs, (m->n_reqs + 1) * sizeof(*m->reqs));
                m->reqs[i].route = xstrdup(route);
                (void)snprintf(m->reqs[i].method, sizeof(m->reqs[i].method), "%s", method);
                m->reqs[i].code = code;
                m->reqs[i].count = 0;
                m->n_reqs++;
        }
        m->reqs[i].count++;
        for (size_t b = 0; b < N_BUCKETS; b++)
                if (seconds <= buckets[b])
                        m->bucket_counts[b]++;
        m->lat_count++;
        m->lat_sum += seconds;
}

void berth_metrics_conn(struct berth_metrics *m, int delta)
{
        m->conns_open += delta;
        if (delta > 0)
                m->conns_total += (uint64_t)delta;
}

/* label values escape \ " and newline */
static void add_label_value(struct buf *b, const char *s)
{
        for (; *s; s++) {
                if (*s == '\\' || *s == '"')
                        buf_addc(b, '\\'), buf_addc(b, *s);
                else if (*s == '\n')
                        buf_adds(b, "\\n");
                else
                        buf_addc(b, *s);
        }
}

void berth_metrics_render(struct berth_metrics *m, struct buf *b, double uptime)
{
        buf_adds(b, "# HELP berth_build_info Build information of berthd.\n"
                    "# TYPE berth_build_info gauge\n");
        buf_addf(b, "berth_build_info{version=\"%s\",api_version=\"%s\"} 1\n", PACKAGE_VERSION,
                 BERTH_API_VERSION);
        buf_adds(b, "# HELP berth_uptime_seconds Seconds since berthd started.\n"
                    "# TYPE berth_uptime_seconds gauge\n");
        buf_addf(b, "berth_uptime_seconds %.3f\n", uptime);
        buf_adds(b, "# HELP berth_api_requests_total API requests served, by route, method and status code.\n"
                    "# TYPE berth_api_requests_total counter\n");
        for (size_t i = 0; i < m->n_reqs; i++) {
                buf_adds(b, "berth_api_requests_total{route=\"");
                add_label_value(b, m->reqs[i].route);
                buf_addf(b, "\",method=\"%s\",code=\"%d\"} %llu\n", m->reqs[i].method, m->reqs[i].code,
                         (unsigned long long)m->reqs[i].count);
        }
        buf_adds(b, "# HELP berth_api_request_duration_seconds Time to answer an API request (to the first byte of a stream).\n"
                    "# TYPE berth_api_request_duration_seconds histogram\n");
        for (size_t i = 0; i < N_BUCKETS; i++)
                buf_addf(b, "berth_api_request_duration_seconds_bucket{le=\"%g\"} %llu\n", buckets[i],
                         (unsigned long long)m->bucket_counts[i]);
        buf_addf(b, "berth_api_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                 (unsigned long long)m->lat_count);
        buf_addf(b, "berth_api_request_duration_seconds_sum %.6f\n", m->lat_sum);
        buf_addf(b, "berth_api_request_duration_seconds_count %llu\n", (unsigned long long)m->lat_count);
        buf_adds(b, "# HELP berth_api_connections_open API connections open now.\n"
                    "# TYPE berth_api_connections_open gauge\n");
        buf_addf(b, "berth_api_connections_open %lld\n", (long long)m->conns_open);
        buf_adds(b, "# HELP berth_api_connections_total API connections accepted.\n"
                    "# TYPE berth_api_connections_total counter\n");
        buf_addf(b, "berth_api_connections_total %llu\n", (unsigned long long)m->conns_total);
        buf_adds(b, "# HELP process_resident_memory_bytes Resident memory size in bytes.\n"
                    "# TYPE process_resident_memory_bytes gauge\n");
        buf_addf(b, "process_resident_memory_bytes %lld\n", (long long)berth_self_rss());
        buf_adds(b, "# HELP process_open_fds Number of open file descriptors.\n"
                    "# TYPE process_open_fds gauge\n");
        buf_addf(b, "process_open_fds %d\n", berth_count_fds());
        buf_adds(b, "# HELP berth_threads Threads of the berthd process.\n"
                    "# TYPE berth_threads gauge\n");
        buf_addf(b, "berth_threads %d\n", berth_self_threads());
}
