/* SPDX-License-Identifier: Apache-2.0
 * daemon/daemon.h -- berthd's context: configuration (daemon.json + flags),
 * the events bus, metrics, system facts, pidfile lock, sd_notify, helper
 * lookup.  Loop thread only unless a function says otherwise.
 */
#ifndef BERTH_DAEMON_H
#define BERTH_DAEMON_H

#include <uv.h>

#include "lib/lib.h"

#define BERTH_API_VERSION "1.44"
#define BERTH_API_MAJOR 1
#define BERTH_API_MINOR 44
#define BERTH_MIN_API_VERSION "1.24"
#define BERTH_MIN_API_MINOR 24

/* ---- configuration ---- */

struct berth_runtime_cfg {
        char *name;
        char *path;
        char **args;            /* NULL-terminated runtimeArgs, may be NULL */
};

struct berth_config {
        char **hosts;           /* NULL-terminated -H values */
        size_t n_hosts;
        char *data_root;
        char *exec_root;
        char *pidfile;
        char *config_file;
        char *group;            /* socket group name or gid, NULL: root only */
        char *metrics_addr;     /* host:port, NULL: no metrics listener */
        int log_level;
        bool debug;
        /* TLS: tls=true means serve TLS; tlsverify also requires client certs */
        int tls;                /* -1 unset, 0 explicitly off, 1 on */
        bool tlsverify;
        char *tlscacert, *tlscert, *tlskey;
        bool live_restore;
        char **labels;
        size_t n_labels;
        char **dns, **dns_opts, **dns_search;
        size_t n_dns, n_dns_opts, n_dns_search;
        bool dns_cache;
        char **storage_opts;
        size_t n_storage_opts;
        char *storage_driver;
        char *log_driver;
        cJSON *log_opts;        /* object of strings, owned */
        char *default_runtime;
        struct berth_runtime_cfg *runtimes;
        size_t n_runtimes;
        char *bip, *fixed_cidr, *fixed_cidr_v6, *cgroup_parent;
        bool ipv6;
        int mtu;
        cJSON *default_address_pools;   /* array, owned */
        bool iptables, ip_forward, userland_proxy;
        int64_t shutdown_timeout;       /* seconds */
        bool experimental;
        char **insecure_registries, **registry_mirrors;
        size_t n_insecure_registries, n_registry_mirrors;
        /* limits of the API server (berth's own keys) */
        int64_t api_max_connections;
        int64_t api_max_header_size;
        int64_t api_max_headers;
        int64_t api_max_body_size;
        int64_t api_idle_timeout_ms;
        int64_t api_request_timeout_ms;
};


void berth_config_init(struct berth_config *c);
void berth_config_release(struct berth_config *c);
/* Parse argv into c (after berth_config_init).  Returns 0, 1 when the
 * program should exit 0 at once (--help, --version), or -EINVAL with err. */
int berth_config_parse_args(struct berth_config *c, int argc, char **argv, struct berth_err *err);
/* Load daemon.json into c; keys set on the command line win.  A missing
 * file at the default path is not an error; an explicit one must exist.
 * Unknown keys, wrong types and malformed JSON are errors naming the key. */
int berth_config_load_file(struct berth_config *c, struct berth_err *err);
/* Parse a daemon.json text into c (no flag precedence; for tests). */
int berth_config_apply_json(struct berth_config *c, const char *text, size_t len,
                            const unsigned char *seen, struct berth_err *err);
/* Validate the combined configuration (hosts, TLS files, limits). */
int berth_config_validate(const struct berth_config *c, struct berth_err *err);
/* SIGHUP: re-read the file and apply the reloadable keys to live.  On error
 * live is untouched.  Fills *changed (a JSON object of the new values, for
 * the reload event) on success. */
int berth_config_reload(struct berth_config *live, cJSON **changed, struct berth_err *err);

/* ---- events bus ---- */

struct berth_event {
        char *type;             /* container, image, network, volume, daemon, ... */
        char *action;
        char *actor_id;
        cJSON *attributes;      /* object of strings, owned */
        char *scope;            /* "local" */
        int64_t time_ns;
};

struct berth_events;
typedef void (*berth_event_cb)(const struct berth_event *ev, void *data);

struct berth_events *berth_events_new(size_t history);
struct berth_events *berth_events_free(struct berth_events *e);
/* Publish: stamps the time, keeps it in the history ring and calls every
 * subscriber synchronously (subscribers must not block).  attributes is
 * taken over (may be NULL). */
void berth_events_publish(struct berth_events *e, const char *type, const char *action,
                          const char *actor_id, cJSON *attributes);
/* The time of the newest event (strictly increasing), 0 before the first. */
int64_t berth_events_last_ns(const struct berth_events *e);
/* Call cb for each event in history with since_ns <= time <= until_ns. */
void berth_events_replay(struct berth_events *e, int64_t since_ns, int64_t until_ns,
                         berth_event_cb cb, void *data);
/* Subscribe; returns a handle for unsubscribe. */
void *berth_events_subscribe(struct berth_events *e, berth_event_cb cb, void *data);
void berth_events_unsubscribe(struct berth_events *e, void *handle);
size_t berth_events_listeners(const struct berth_events *e);
/* The Engine API JSON object of an event (new object). */
cJSON *berth_event_to_json(const struct berth_event *ev);

/* ---- metrics (Prometheus text format 0.0.4) ---- */

struct berth_metrics;
struct berth_metrics *berth_metrics_new(void);
struct berth_metrics *berth_metrics_free(struct berth_metrics *m);
/* Count one API request: route is the route pattern ("/containers/{name}/json")
 * or "other"; latency in seconds. */
void berth_metrics_request(struct berth_metrics *m, const char *route, const char *method,
                           int code, double seconds);
void berth_metrics_conn(struct berth_metrics *m, int delta);
/* Render everything into b. */
void berth_metrics_render(struct berth_metrics *m, struct buf *b, double uptime_seconds);

/* ---- system facts ---- */

struct berth_sysinfo {
        char kernel[128];
        char os_name[128];      /* PRETTY_NAME of os-release */
        char os_version[64];    /* VERSION_ID */
        char arch_uname[72];    /* x86_64 */
        char arch_go[72];       /* amd64: the Engine API naming */
        char hostname[256];
        long ncpu;
        int64_t mem_total;
        int cgroup_version;     /* 1 or 2 */
        bool memory_limit, swap_limit, cpu_cfs_period, cpu_cfs_quota, cpu_shares, cpuset,
                pids_limit, oom_kill_disable, kernel_memory_tcp;
        char backing_fs[32];
};
/* Gather facts (reads /proc, /sys, /etc/os-release: call at startup). */
void berth_sysinfo_gather(struct berth_sysinfo *si, const char *data_root);
bool berth_sysctl_on(const char *path);
int berth_count_fds(void);
int64_t berth_self_rss(void);
int berth_self_threads(void);

/* ---- process helpers ---- */

/* Exclusive lock on path (pidfile) and write our pid to it.  Returns the
 * locked fd, or -EWOULDBLOCK/-errno with a message. */
int berth_pidfile_acquire(const char *path, struct berth_err *err);
/* Lock <data_root>/berthd.lock so two daemons never share a data-root. */
int berth_dataroot_lock(const char *data_root, struct berth_err *err);
/* sd_notify(3) wire protocol on $NOTIFY_SOCKET; no-op when it is unset. */
int berth_sd_notify(const char *state);
/* Locate a helper program (berth-runtime, berth-monitor): next to berthd's
 * executable, then in <exe dir>/runtime (the build tree), then libexecdir.
 * Returns a new string or NULL. */
char *berth_find_helper(const char *name);
/* Find a program in PATH; new string or NULL. */
char *berth_find_in_path(const char *name);
/* A read-only bind mount of the program src at <exec_root>/bin/<name>, kept
 * across restarts (CVE-2019-5736: what the monitors execute); new string,
 * NULL where it cannot be made. */
char *berth_protected_helper(const char *src, const char *exec_root);

/* A helper process started without fork() (daemon/spawn.c): posix_spawn,
 * then its exit watched through a pidfd on the loop and reaped there.  fds[i]
 * becomes the child's descriptor i (-1: /dev/null); every signal at its
 * default, none blocked.  exit_cb gets the exit code, or the signal that
 * ended it.  berth_child_close closes the watch (uv_close with cb on the
 * poll handle, whose data is the caller's) whether or not the child ended. */
struct berth_child;
typedef void (*berth_child_exit_cb)(struct berth_child *ch, int64_t code, int sig);
struct berth_child {
        uv_poll_t poll;
        int pidfd;
        pid_t pid;
        berth_child_exit_cb exit_cb;
        void *data;
};
int berth_child_spawn(uv_loop_t *loop, struct berth_child *ch, const char *file, const char *const *argv,
                      const int *fds, int nfds, berth_child_exit_cb exit_cb, struct berth_err *err);
void berth_child_close(struct berth_child *ch, uv_close_cb cb);

/* ---- the daemon context ---- */

struct api_server;
struct storage;
struct net;
struct dns_server;
struct dns_upstream;
struct berth_networks;
struct berth_containers;
struct api_exec;

struct berth_daemon {
        uv_loop_t *loop;
        struct berth_config cfg;
        struct berth_events *events;
        struct berth_metrics *metrics;
        struct berth_sysinfo sys;
        struct api_server *api;
        struct storage *storage;        /* images, layers, volumes */
        struct net *net;                /* net/: links, IPAM, NAT, proxies */
        struct dns_server *dns;         /* dns/: the embedded resolvers */
        struct dns_upstream *host_dns;  /* the host's nameservers (resolv.conf) */
        size_t n_host_dns;
        struct berth_networks *networks;        /* daemon/networks.c */
        struct berth_containers *containers;    /* daemon/containers.c */
        struct berth_monitor *monitors;         /* live monitors (daemon/lifecycle.c) */
        struct api_exec *execs;                 /* exec instances (api/exec.c) */
        char id[64];            /* engine ID, kept under data-root */
        int64_t start_ns;
        char *runtime_path;     /* berth-runtime, found at start */
        char *runtime_exec;     /* what monitors run: its read-only bind mount, or runtime_path */
        char *runc_path;        /* runc in PATH, if any, found at start */
        bool shutting_down;
        /* object counts shown by /info; the object stores keep them */
        int n_containers, n_running, n_paused, n_stopped, n_images;
        char **warnings;        /* NULL-terminated, for /info */
};

/* ---- networks (daemon/networks.c) ---- */
/* At startup, after storage: open net/, restore networks, create the
 * predefined ones.  Blocking (netlink, state files): before the loop runs. */
int berth_networks_open(struct berth_daemon *d, struct berth_err *err);
/* At exit, after the loop stopped. */
void berth_networks_close(struct berth_daemon *d);

/* ---- containers (daemon/containers.c) ---- */

enum ctr_state { CTR_CREATED, CTR_RUNNING, CTR_PAUSED, CTR_RESTARTING, CTR_REMOVING, CTR_EXITED, CTR_DEAD };

struct berth_container;
struct berth_monitor;
/* Completion of an async container operation: exactly once, on the loop,
 * never before the call returned; status 0 or -errno with err. */
typedef void (*berth_done_cb)(int status, const struct berth_err *err, void *data);

enum berth_wait_cond { BERTH_WAIT_NOT_RUNNING, BERTH_WAIT_NEXT_EXIT, BERTH_WAIT_REMOVED };
typedef void (*berth_wait_cb)(int exit_code, const char *error, void *data);
struct berth_waiter {
        struct berth_waiter *next;
        enum berth_wait_cond cond;
        berth_wait_cb cb;
        void *data;
};

typedef void (*berth_created_cb)(struct berth_container *c, void *data);
struct berth_created_hook {
        struct berth_created_hook *next;
        berth_created_cb cb;
        void *data;
};

/* One container.  Refcounted: the table holds a ref; an async operation
 * holds its own while it runs.  Loop thread only. */
struct berth_container {
        struct berth_container *next;
        int refs;
        char id[65];
        char *name;             /* with the leading '/': "/web" */
        char *dir;              /* data-root/containers/<id> */
        int64_t created_ns;
        char *image_id;         /* "sha256:..." */
        char *path;             /* entrypoint[0] or cmd[0] */
        cJSON *args;            /* the rest */
        cJSON *config;          /* Config as inspect shows it */
        cJSON *host_config;     /* HostConfig with Docker's defaults filled in */
        cJSON *networking;      /* NetworkingConfig as given */
        cJSON *graph_data;      /* GraphDriver {Data, Name} from storage */
        cJSON *network_settings;/* NetworkSettings, once networks attach */
        enum ctr_state state;
        int pid;
        int exit_code;
        bool oom_killed;
        char *error;
        int64_t started_ns, finished_ns;
        int restart_count;
        bool busy;              /* an operation (create, remove) is under way */
        bool creating;          /* reserved name, not yet visible to lookups */
        bool manual_stop;       /* docker stop: no restart policy applies */
        uint64_t restart_delay_ms;
        struct berth_monitor *mon;      /* while a monitor runs it (daemon/lifecycle.c) */
        struct berth_waiter *waiters;
        struct berth_created_hook *created_hooks;
        struct berth_sandbox *sb;       /* while networks are set up (daemon/sandbox.c) */
        /* starts wait while something of the last run is still being
         * undone (its rootfs and netns released, its monitor deleting the
         * runtime's state): how many such things, and the starts waiting
         * (daemon/lifecycle.c) */
        int start_holds;
        struct berth_pending_start *pending_starts;
        struct berth_monitor *starting; /* the start under way */
};

/* Load every container's state at startup (blocking); close at exit. */
int berth_containers_open(struct berth_daemon *d, struct berth_err *err);
void berth_containers_close(struct berth_daemon *d);
const char *berth_containers_dir(struct berth_daemon *d);
/* Lookup as Docker does: full ID, name (with or without '/'), unique ID
 * prefix.  NULL with -ENOENT "No such container: x" (public) or -EINVAL for
 * an ambiguous prefix.  The pointer is borrowed. */
struct berth_container *berth_container_find(struct berth_daemon *d, const char *ref, struct berth_err *err);
struct berth_container *berth_container_first(struct berth_daemon *d);
struct berth_container *berth_container_ref(struct berth_container *c);
void berth_container_unref(struct berth_container *c);
/* Put c in the table (takes a ref) / take it out (drops the table's ref). */
void berth_container_add(struct berth_daemon *d, struct berth_container *c);
void berth_container_unlink(struct berth_daemon *d, struct berth_container *c);
void berth_containers_recount(struct berth_daemon *d);
/* Name rules: 400 for a bad name, 409 when another container has it. */
int berth_container_name_valid(const char *name, struct berth_err *err);
int berth_container_name_free(struct berth_daemon *d, const char *name, struct berth_err *err);
char *berth_container_gen_name(struct berth_daemon *d);
const char *berth_container_state_name(enum ctr_state s);
/* "Up 3 seconds (Paused)", "Exited (3) 2 seconds ago", "Created" */
char *berth_container_status(const struct berth_container *c);
/* The first instant (ns, wall clock) after now at which that text may read
 * differently; INT64_MAX when it does not depend on the time. */
int64_t berth_container_status_until(const struct berth_container *c, int64_t now);
/* Appends to b bytes that change whenever anything a list entry (or a list
 * filter) reads of c changes without an event on the bus: state, times,
 * exit code, name, network config, published ports.  The list's answer
 * cache compares them (api/containers.c). */
void berth_container_list_key(const struct berth_container *c, struct buf *b);
cJSON *berth_container_state_object(const struct berth_container *c);
cJSON *berth_container_inspect_json(struct berth_daemon *d, const struct berth_container *c);
cJSON *berth_container_summary_json(struct berth_daemon *d, const struct berth_container *c);
cJSON *berth_container_network_settings(struct berth_daemon *d, const struct berth_container *c);
/* The state file's text (config.v2.json), serialised on the loop; write it
 * with berth_write_file_atomic on the pool. */
char *berth_container_state_json(const struct berth_container *c);
/* A file under the container's dir (caller frees). */
char *berth_container_file(const struct berth_container *c, const char *name);

/* ---- running containers (daemon/lifecycle.c) ---- */

/* Start: mount the rootfs, write /etc files and the OCI bundle, spawn
 * berth-monitor; cb when the process runs (0) or failed (the runtime's
 * message, public, so the API answers 400 as Docker does). */
int berth_container_start(struct berth_daemon *d, struct berth_container *c, berth_done_cb cb, void *data,
                          struct berth_err *err);
/* Signal the container's process (-EBUSY "is not running"). */
int berth_container_kill(struct berth_daemon *d, struct berth_container *c, int sig, struct berth_err *err);
/* Waiters: cb once when the condition holds (not-running/next-exit: at the
 * next exit; removed: when the container is gone). */
void berth_container_wait(struct berth_daemon *d, struct berth_container *c, enum berth_wait_cond cond,
                          berth_wait_cb cb, void *data);
void berth_container_wait_cancel(struct berth_container *c, void *data);
/* The container left the table: wake every waiter. */
void berth_container_removed(struct berth_daemon *d, struct berth_container *c);
/* Persist the state file (on the pool). */
void berth_container_save(struct berth_daemon *d, struct berth_container *c);
void berth_container_auto_remove(struct berth_daemon *d, struct berth_container *c);
/* Attach before start: the hook runs when the monitor exists (created);
 * START waits for every attach_begin to be matched by attach_ready (2 s at
 * most), so the first byte of output reaches the attached clients. */
void berth_container_on_created(struct berth_container *c, berth_created_cb cb, void *data);
void berth_container_on_created_cancel(struct berth_container *c, void *data);
void berth_container_attach_begin(struct berth_container *c);
void berth_container_attach_ready(struct berth_container *c);
/* At shutdown: stop watching the monitors (they and their containers keep
 * running; the next berthd finds them again). */
void berth_lifecycle_shutdown(struct berth_daemon *d);
/* At startup (loop ready): find the monitors of running containers again. */
void berth_lifecycle_restore(struct berth_daemon *d);
/* Reap orphans that are not libuv's nor watched monitors (SIGCHLD). */
int berth_lifecycle_init(struct berth_daemon *d, uv_signal_t *sigchld);
/* Run a short command (argv[0] a path), its stdout and stderr collected;
 * cb(exit status or 128+signal, output, data) once, on the loop. */
typedef void (*berth_cmd_cb)(int status, const char *output, void *data);
int berth_run_command(struct berth_daemon *d, const char *const *argv, berth_cmd_cb cb, void *data,
                      struct berth_err *err);
/* The container's OCI runtime and its --root (caller frees *ret_root). */
int berth_container_runtime_argv(struct berth_daemon *d, const struct berth_container *c, const char **ret_path,
                                 char **ret_root);
/* exec-root/netns/<12 hex>, or NULL for host and container: network modes. */
char *berth_container_netns_path(struct berth_daemon *d, const struct berth_container *c);
/* The monitor's state dir (its attach socket is <dir>/attach), or NULL. */
const char *berth_container_monitor_dir(const struct berth_container *c);

/* ---- network objects (daemon/networks.c; its header comment tells the
 * details): the API's calls and the container code's endpoints ---- */
struct berth_endpoint_req {
        const char *container_id;       /* 64 hex, required */
        const char *container_name;     /* without '/', for Containers{} */
        const char *netns_path;         /* bridge/macvlan: the container's netns */
        const char *ip, *ip6;           /* static addresses or NULL */
        const char *mac;                /* NULL: derived from the IPv4 address */
        const cJSON *aliases;           /* array of strings or NULL (copied) */
};

typedef void (*berth_net_created_cb)(int status, const struct berth_err *err, const char *id,
                                     void *data);
typedef void (*berth_net_pruned_cb)(int status, const struct berth_err *err, cJSON *deleted,
                                    void *data);

int berth_network_resolve(struct berth_daemon *d, const char *ref, const char **ret_name,
                          const char **ret_id, const char **ret_driver, struct berth_err *err);
int berth_network_attach(struct berth_daemon *d, const char *network,
                         const struct berth_endpoint_req *req, berth_done_cb cb, void *data,
                         struct berth_err *err);
int berth_network_detach(struct berth_daemon *d, const char *network, const char *container_id,
                         const char *netns_path, berth_done_cb cb, void *data,
                         struct berth_err *err);
int berth_network_release_container(struct berth_daemon *d, const char *container_id,
                                    berth_done_cb cb, void *data, struct berth_err *err);
cJSON *berth_network_settings_networks(struct berth_daemon *d, const char *container_id);
/* for api/networks.c */
cJSON *berth_networks_list_json(struct berth_daemon *d);
int berth_network_inspect_json(struct berth_daemon *d, const char *ref, cJSON **ret,
                               struct berth_err *err);
int berth_network_create(struct berth_daemon *d, const cJSON *body, berth_net_created_cb cb,
                         void *data, struct berth_err *err);
int berth_network_remove(struct berth_daemon *d, const char *ref, berth_done_cb cb, void *data,
                         struct berth_err *err);
int berth_networks_prune(struct berth_daemon *d, const cJSON *filters, berth_net_pruned_cb cb,
                         void *data, struct berth_err *err);

/* What the sandbox code needs to know of a network; borrowed strings, valid
 * until the network goes. */
struct berth_network_brief {
        const char *name, *id, *driver;
        bool predefined, internal, ipv6;
        bool uses_net;                  /* bridge/macvlan: endpoints need a netns */
        const char *subnets[4];
        size_t n_subnets;
};
int berth_network_brief(struct berth_daemon *d, const char *ref, struct berth_network_brief *ret,
                        struct berth_err *err);
/* The live endpoint of a container on a network (by exact name), or NULL. */
struct net_endpoint_info;
const struct net_endpoint_info *berth_network_endpoint(struct berth_daemon *d, const char *network,
                                                       const char *container_id);
/* Names of the networks a container has endpoints on; returns the count. */
size_t berth_network_container_networks(struct berth_daemon *d, const char *container_id, const char **names,
                                        size_t max);

/* ---- a container's network sandbox (daemon/sandbox.c) ----
 * Between the network namespace and the bundle, berth_sandbox_setup()
 * attaches the container to its networks (HostConfig.NetworkMode, then
 * NetworkingConfig.EndpointsConfig), publishes its ports (PortBindings,
 * PublishAllPorts), registers its DNS names and starts its resolver on
 * user-defined networks.  berth_sandbox_teardown() undoes all of it when
 * the container stops or its start failed; a setup asked for while a
 * teardown runs waits for it.  Loop thread; cb exactly once, never before
 * the call returned. */
struct berth_sandbox;
struct berth_files;
int berth_sandbox_init(struct berth_daemon *d, struct berth_err *err);
void berth_sandbox_shutdown(struct berth_daemon *d);
void berth_sandbox_fini(struct berth_daemon *d);
/* At create: check the networks (404), a container: target, the port
 * bindings (400), and normalise *networking (canonical names, the
 * NetworkMode network first). */
int berth_sandbox_prepare(struct berth_daemon *d, const cJSON *host_config, const cJSON *config, cJSON **networking,
                          struct berth_err *err);
int berth_sandbox_setup(struct berth_daemon *d, struct berth_container *c, const char *netns_path,
                        berth_done_cb cb, void *data, struct berth_err *err);
void berth_sandbox_teardown(struct berth_daemon *d, struct berth_container *c, berth_done_cb cb, void *data);
void berth_sandbox_free(struct berth_sandbox *sb);
/* After berth_lifecycle_restore: resolvers of running containers started
 * again; endpoints and ports of containers that stopped meanwhile released. */
void berth_sandbox_restore(struct berth_daemon *d);
/* docker network connect/disconnect: recorded in the container's
 * NetworkingConfig; applied at once when it runs. */
int berth_sandbox_connect(struct berth_daemon *d, struct berth_container *c, const char *network,
                          const cJSON *endpoint_config, berth_done_cb cb, void *data, struct berth_err *err);
int berth_sandbox_disconnect(struct berth_daemon *d, struct berth_container *c, const char *network, bool force,
                             berth_done_cb cb, void *data, struct berth_err *err);
/* The container was renamed: its DNS names follow. */
void berth_sandbox_renamed(struct berth_daemon *d, struct berth_container *c);
/* A network went away: its DNS record table too. */
void berth_sandbox_network_removed(struct berth_daemon *d, const char *name);
/* inspect's NetworkSettings (whole) and ps's Ports array. */
cJSON *berth_sandbox_settings_json(struct berth_daemon *d, const struct berth_container *c);
cJSON *berth_sandbox_networks_json(struct berth_daemon *d, const struct berth_container *c);
cJSON *berth_sandbox_ports_summary(struct berth_daemon *d, const struct berth_container *c);
/* What the list reads of the sandbox, as bytes (berth_container_list_key). */
void berth_sandbox_list_key(const struct berth_container *c, struct buf *b);
/* /etc/hosts, hostname and resolv.conf: the config is gathered on the loop,
 * the files written on the pool (into the container's dir). */
struct berth_files *berth_sandbox_files(struct berth_daemon *d, const struct berth_container *c);
int berth_sandbox_files_write(const struct berth_files *f, const char *dir, struct berth_err *err);
void berth_sandbox_files_free(struct berth_files *f);

/* Load or create the engine ID under data-root. */
int berth_daemon_load_id(struct berth_daemon *d, struct berth_err *err);

/* ---- stats, update, resize (daemon/stats.c) ---- */
/* One sample of a container's resource usage in the Engine API's stats
 * shape (read, pids_stats, blkio_stats, num_procs, storage_stats,
 * cpu_stats, memory_stats, networks): the cgroup v1 or v2 files named by
 * /proc/PID/cgroup, /proc/stat and, unless host_net, /proc/PID/net/dev
 * without lo.  An unlimited memory limit reads as mem_total.  Blocking but
 * quick (procfs, cgroupfs); thread-safe: call it on the pool.  -ESRCH when
 * the process is gone. */
int berth_stats_sample(int pid, bool host_net, int64_t mem_total, cJSON **ret, struct berth_err *err);
/* The API object from a sample (taken; NULL gives dockerd's zeros for a
 * stopped container): preread and precpu_stats from prev (a finished
 * object or a sample, may be NULL), name and id. */
cJSON *berth_stats_finish(const struct berth_container *c, cJSON *cur, const cJSON *prev);
/* Docker's update rules applied to hc (a copy of the HostConfig) from an
 * update body: 400 (-EINVAL) for bad values, 409 (-EBUSY) for conflicts. */
int berth_update_merge(const char *id, cJSON *hc, const cJSON *body, struct berth_err *err);
/* POST /containers/{id}/update: merge, and for a running container apply
 * through the runtime's update; the HostConfig is replaced, saved and an
 * "update" event sent only on success.  cb exactly once, never before the
 * call returned, unless this returns < 0. */
int berth_container_update(struct berth_daemon *d, struct berth_container *c, const cJSON *body,
                           berth_done_cb cb, void *data, struct berth_err *err);
/* Send the container's monitor a RESIZE (rows h, columns w): -EBUSY when
 * not running, -EINVAL for sizes over 65535. */
int berth_container_resize(struct berth_daemon *d, struct berth_container *c, unsigned h, unsigned w,
                           struct berth_err *err);
/* ---- end of daemon/stats.c ---- */

#endif
