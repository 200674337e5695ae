/* SPDX-License-Identifier: Apache-2.0
 * daemon/main.c -- berthd: configuration, locks, listeners, signals, and the
 * one libuv loop everything runs on.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "api/api.h"
#include "daemon/daemon.h"
#include "storage/storage.h"

static struct berth_daemon daemon_ctx;
static uv_signal_t sig_term, sig_int, sig_hup, sig_chld;
static int exit_code;

static void add_warning(struct berth_daemon *d, char *w)
{
        size_t n = 0;

        while (d->warnings && d->warnings[n])
                n++;
        d->warnings = xrealloc(d->warnings, (n + 2) * sizeof(char *));
        d->warnings[n] = w;
        d->warnings[n + 1] = NULL;
        log_warn("%s", w);
}

static void raise_nofile(void)
{
        struct rlimit rl;

        /* up to the hard limit only: raising it needs CAP_SYS_RESOURCE */
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

static void on_handle_closed(uv_handle_t *h)
{
}

static void on_drained(void *data)
{
        struct berth_daemon *d = data;

        log_info("API server stopped; exiting");
        d->api = api_server_free(d->api);
        berth_lifecycle_shutdown(d);
        api_exec_shutdown(d);
        berth_sandbox_shutdown(d);
        uv_close((uv_handle_t *)&sig_term, on_handle_closed);
        uv_close((uv_handle_t *)&sig_int, on_handle_closed);
        uv_close((uv_handle_t *)&sig_hup, on_handle_closed);
        uv_close((uv_handle_t *)&sig_chld, on_handle_closed);
}

static void on_stop_signal(uv_signal_t *s, int signum)
{
        struct berth_daemon *d = s->data;

        if (d->shutting_down) {
                log_info("received %s again, still shutting down", strsignal(signum));
                return;
        }
        d->shutting_down = true;
        log_info("received %s, shutting down", strsignal(signum));
        (void)berth_sd_notify("STOPPING=1");
        api_server_shutdown(d->api, on_drained, d);
}

static void on_hup(uv_signal_t *s, int signum)
{
        struct berth_daemon *d = s->data;
        struct berth_err err = BERTH_ERR_INIT;
        cJSON *changed = NULL;

        (void)berth_sd_notify("RELOADING=1");
        if (berth_config_reload(&d->cfg, &changed, &err) < 0) {
                log_error("configuration not reloaded: %s", err.msg);
        } else {
                berth_log_set_level(d->cfg.log_level);
                api_server_reload(d->api);
                cJSON_AddStringToObject(changed, "name", d->sys.hostname);
                berth_events_publish(d->events, "daemon", "reload", d->id, changed);
                log_info("configuration reloaded from %s", d->cfg.config_file);
        }
        (void)berth_sd_notify("READY=1");
}

static int prepare_dirs(const struct berth_config *c, struct berth_err *err)
{
        int r;

        r = berth_mkdir_p(c->data_root, 0711);
        if (r < 0)
                return berth_err_set(err, -r, "create data-root '%s': %s", c->data_root, strerror(-r));
        r = berth_mkdir_p(c->exec_root, 0700);
        if (r < 0)
                return berth_err_set(err, -r, "create exec-root '%s': %s", c->exec_root, strerror(-r));
        return 0;
}

static int run(int argc, char **argv)
{
        struct berth_daemon *d = &daemon_ctx;
        struct berth_err err = BERTH_ERR_INIT;
        int r, pid_fd = -1, lock_fd = -1;

        berth_config_init(&d->cfg);
        r = berth_config_parse_args(&d->cfg, argc, argv, &err);
        if (r == 1)
                return 0;
        if (r == 0)
                r = berth_config_load_file(&d->cfg, &err);
        if (r == 0 && d->cfg.n_hosts == 0) {
                d->cfg.hosts = xcalloc(2, sizeof(char *));
                d->cfg.hosts[0] = xstrdup("unix:///run/berth.sock");
                d->cfg.n_hosts = 1;
        }
        if (r == 0)
                r = berth_config_validate(&d->cfg, &err);
        if (r < 0) {
                fprintf(stderr, "berthd: %s\n", err.msg);
                return 1;
        }
        if (d->cfg.debug)
                d->cfg.log_level = BERTH_LOG_DEBUG;
        berth_log_set_level(d->cfg.log_level);
        raise_nofile();
        (void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);

        r = prepare_dirs(&d->cfg, &err);
        if (r >= 0)
                r = lock_fd = berth_dataroot_lock(d->cfg.data_root, &err);
        if (r >= 0)
                r = pid_fd = berth_pidfile_acquire(d->cfg.pidfile, &err);
        if (r >= 0)
                r = berth_daemon_load_id(d, &err);
        if (r < 0) {
                log_error("%s", err.msg);
                fprintf(stderr, "berthd: %s\n", err.msg);
                return 1;
        }
        d->start_ns = berth_now_ns();
        berth_sysinfo_gather(&d->sys, d->cfg.data_root);
        d->runtime_path = berth_find_helper("berth-runtime");
        if (!d->runtime_path)
                log_warn("berth-runtime not found next to berthd or in %s", BERTH_LIBEXECDIR);
        if (d->runtime_path && geteuid() == 0)
                d->runtime_exec = berth_protected_helper(d->runtime_path, d->cfg.exec_root);
        d->runc_path = berth_find_in_path("runc");
        d->loop = uv_default_loop();
        /* opening the store collects what a crash left: blocking, before the loop runs */
        r = storage_open(d->cfg.data_root, NULL, &d->storage, &err);
        for (size_t i = 0; r >= 0 && i < d->cfg.n_storage_opts; i++)
                r = storage_set_option(d->storage, d->cfg.storage_opts[i], &err);
        if (r < 0) {
                log_error("storage: %s", err.msg);
                fprintf(stderr, "berthd: storage: %s\n", err.msg);
                exit_code = 1;
                goto out;
        }
        d->events = berth_events_new(1024);
        d->metrics = berth_metrics_new();

        r = api_server_new(d, &d->api, &err);
        for (size_t i = 0; r >= 0 && i < d->cfg.n_hosts; i++) {
                const char *h = d->cfg.hosts[i];
                r = api_server_listen(d->api, h, false, &err);
                if (r >= 0 && berth_str_has_prefix(h, "tcp://") && d->cfg.tls != 1 && !d->cfg.tlsverify)
                        add_warning(d, xasprintf("WARNING: API is accessible on http://%s without encryption.", h + 6));
        }
        if (r >= 0 && d->cfg.metrics_addr) {
                _cleanup_free_ char *m = xasprintf("tcp://%s", d->cfg.metrics_addr);
                r = api_server_listen(d->api, m, true, &err);
        }
        if (r < 0) {
                log_error("%s", err.msg);
                fprintf(stderr, "berthd: %s\n", err.msg);
                if (d->api)
                        d->api = api_server_free(d->api);
                uv_run(d->loop, UV_RUN_NOWAIT);
                exit_code = 1;
                goto out;
        }
        r = berth_containers_open(d, &err);
        if (r >= 0)
                r = berth_networks_open(d, &err);
        if (r >= 0)
                r = berth_sandbox_init(d, &err);
        if (r < 0) {
                log_error("%s", err.msg);
                fprintf(stderr, "berthd: %s\n", err.msg);
                d->api = api_server_free(d->api);
                uv_run(d->loop, UV_RUN_NOWAIT);
                exit_code = 1;
                goto out;
        }
        api_images_recount(d);
        if (d->cfg.n_dns > 3)
                add_warning(d, xasprintf("WARNING: only the first 3 of %zu DNS servers are used", d->cfg.n_dns));

        uv_signal_init(d->loop, &sig_term);
        uv_signal_init(d->loop, &sig_int);
        uv_signal_init(d->loop, &sig_hup);
        sig_term.data = sig_int.data = sig_hup.data = d;
        uv_signal_start(&sig_term, on_stop_signal, SIGTERM);
        uv_signal_start(&sig_int, on_stop_signal, SIGINT);
        uv_signal_start(&sig_hup, on_hup, SIGHUP);
        (void)berth_lifecycle_init(d, &sig_chld);
        berth_lifecycle_restore(d);
        berth_sandbox_restore(d);

        log_info("berthd %s (API %s) ready: data-root %s, pid %ld", PACKAGE_VERSION, BERTH_API_VERSION,
                 d->cfg.data_root, (long)getpid());
        (void)berth_sd_notify("READY=1");
        uv_run(d->loop, UV_RUN_DEFAULT);
out:
        r = uv_loop_close(d->loop);
        if (r != 0)
                berth_bug("loop closed with handles still open: %s", uv_strerror(r));
        berth_sandbox_fini(d);
        berth_networks_close(d);
        berth_containers_close(d);
        d->storage = storage_free(d->storage);
        d->events = berth_events_free(d->events);
        d->metrics = berth_metrics_free(d->metrics);
        free(d->runtime_path);
        free(d->runtime_exec);
        free(d->runc_path);
        if (d->warnings)
                for (char **w = d->warnings; *w; w++)
                        free(*w);
        free(d->warnings);
        if (pid_fd >= 0) {
                (void)unlink(d->cfg.pidfile);
                close(pid_fd);
        }
        if (lock_fd >= 0)
                close(lock_fd);
        berth_config_release(&d->cfg);
        return exit_code;
}

int main(int argc, char **argv)
{
        signal(SIGPIPE, SIG_IGN);
        berth_json_init();
        return run(argc, argv);
}
