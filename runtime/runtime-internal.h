/* SPDX-License-Identifier: Apache-2.0
 * runtime/runtime-internal.h -- private declarations of berth-runtime, the OCI
 * runtime: config parsing, state dir, container init, cgroups, process setup.
 */
#ifndef BERTH_RUNTIME_INTERNAL_H
#define BERTH_RUNTIME_INTERNAL_H

#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "lib/lib.h"
#include "runtime/runtime.h"

#define RT_OCI_VERSION "1.2.0"
#define RT_MAX_GIDS 256
#define RT_MAX_RLIMITS 32
#define RT_MAX_NS 8

/* ---- the process part of a config (also exec's process.json) ---- */
struct rt_rlimit {
        int resource;
        uint64_t soft, hard;
};

struct rt_process {
        bool terminal;
        unsigned short cons_h, cons_w;
        char **args;            /* NULL-terminated */
        char **env;             /* NULL-terminated */
        char *cwd;
        uid_t uid;
        gid_t gid;
        int umask;              /* -1: unset */
        size_t ngids;
        gid_t gids[RT_MAX_GIDS];
        bool nnp;
        bool has_caps;
        uint64_t cap_bnd, cap_eff, cap_inh, cap_prm, cap_amb;
        size_t nrlimits;
        struct rt_rlimit rlimits[RT_MAX_RLIMITS];
        bool has_oom;
        int oom_score_adj;
};

struct rt_ns {
        int type;               /* CLONE_NEW* */
        char *path;             /* NULL: new namespace */
};

struct rt_mount {
        char *dest;
        char *type;
        char *source;           /* absolute for binds */
        unsigned long flags;    /* MS_* */
        unsigned long clear;    /* flags cleared by options (rw, suid, ...) */
        unsigned long prop;     /* propagation flags */
        char *data;             /* joined unknown options */
        bool bind;
};

struct rt_config {
        cJSON *json;            /* parsed config.json */
        char *bundle;           /* absolute */
        char *rootfs;           /* absolute */
        bool readonly;
        bool has_process;
        struct rt_process proc;
        const char *hostname, *domainname;
        size_t nns;
        struct rt_ns ns[RT_MAX_NS];
        int clone_flags;        /* namespaces created new */
        bool has_userns;
        const cJSON *uid_maps, *gid_maps;
        size_t nmounts;
        struct rt_mount *mounts;
        const cJSON *masked, *ro_paths, *devices, *sysctl, *resources, *seccomp, *hooks;
        const char *cgroups_path;
        unsigned long rootfs_prop;
        long personality;       /* -1: unset */
        const cJSON *annotations;
};

/* ---- global options ---- */
struct rt_opts {
        const char *root;
        bool systemd_cgroup;
        bool debug;
};
extern struct rt_opts rt_opts;

/* Log a line to --log (text or json) when given; errors also go to stderr. */
void rt_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define rt_warn(...) rt_log(BERTH_LOG_WARN, __VA_ARGS__)
#define rt_debug(...) rt_log(BERTH_LOG_DEBUG, __VA_ARGS__)

/* ---- rt-config.c ---- */
int rt_config_load(const char *bundle, struct rt_config *c, struct berth_err *err);
void rt_config_release(struct rt_config *c);
int rt_process_parse(const cJSON *p, struct rt_process *proc, struct berth_err *err);
void rt_process_release(struct rt_process *proc);
/* Mount option table: returns true when known and fills flags. */
int rt_ns_type(const char *name);
bool rt_ns_has_path(const struct rt_config *c, int type);
bool rt_ns_has(const struct rt_config *c, int type);
const char *rt_ns_proc_name(int type);
int rt_cap_parse_list(const cJSON *arr, uint64_t *ret, struct berth_err *err);
int rt_valid_id(const char *id, struct berth_err *err);

/* ---- rt-state.c ---- */
enum rt_status { RT_CREATING, RT_CREATED, RT_RUNNING, RT_PAUSED, RT_STOPPED };
struct rt_state {
        char *id;
        char *dir;              /* <root>/<id> */
        cJSON *json;            /* state.json */
        pid_t pid;
        uint64_t start_time;
        const char *bundle;
        enum rt_status status;
};
const char *rt_status_name(enum rt_status s);
char *rt_state_dir(const char *id);
/* Load an existing container; -ENOENT with "container does not exist". */
int rt_state_load(const char *id, struct rt_state *st, struct berth_err *err);
void rt_state_release(struct rt_state *st);
enum rt_status rt_state_status(struct rt_state *st);
/* The OCI state JSON (for `state` and hooks). */
cJSON *rt_state_oci(struct rt_state *st, const char *status);
int rt_write_file(const char *path, const char *data, size_t len, int mode, struct berth_err *err);
int rt_proc_start_time(pid_t pid, uint64_t *ret, char *state);
/* Is the process alive and the same one (start time)? */
bool rt_pid_alive(pid_t pid, uint64_t start_time);

/* ---- rt-cgroup.c ---- */
struct rt_cgroup {
        bool v2;
        cJSON *paths;           /* {"controller": "/sys/fs/cgroup/ctrl/path", ...}; v2: {"": path} */
};
int rt_cgroup_create(const char *id, const char *cgpath, const cJSON *resources,
                     struct rt_cgroup *cg, struct berth_err *err);
int rt_cgroup_enter(const cJSON *paths, pid_t pid, struct berth_err *err);
int rt_cgroup_enter_self(const cJSON *paths, struct berth_err *err);
int rt_cgroup_apply(const cJSON *paths, const cJSON *resources, struct berth_err *err);
int rt_cgroup_destroy(const cJSON *paths, struct berth_err *err);
int rt_cgroup_freeze(const cJSON *paths, bool freeze, struct berth_err *err);
int rt_cgroup_frozen(const cJSON *paths);
/* Pids in the container's cgroup, malloc'd. */
int rt_cgroup_pids(const cJSON *paths, pid_t **ret, size_t *ret_n, struct berth_err *err);
/* For the cgroup mount inside the container: controller dir list. */

/* ---- rt-devices.c ---- */
/* Replace the eBPF device filter of the cgroup v2 dir with one built from
 * linux.resources.devices (plus the default devices). */
int rt_devices_v2_apply(const char *dir, const cJSON *devs, struct berth_err *err);

/* ---- rt-seccomp.c ---- */
struct rt_seccomp {
        void *prog;             /* struct sock_filter[] */
        size_t len;             /* instructions */
        unsigned int flags;     /* SECCOMP_FILTER_FLAG_* */
        bool notify;            /* SCMP_ACT_NOTIFY used: a listener fd for listenerPath */
};
int rt_seccomp_compile(const cJSON *seccomp, struct rt_seccomp *ret, struct berth_err *err);
/* The same, through a cache of compiled filters under root (the state root). */
int rt_seccomp_compile_cached(const cJSON *seccomp, const char *root, struct rt_seccomp *ret,
                              struct berth_err *err);
/* Load the filter into this process; with notify, *ret_listener is the
 * listener fd (else -1). */
int rt_seccomp_load(const struct rt_seccomp *s, int *ret_listener);
void rt_seccomp_release(struct rt_seccomp *s);
cJSON *rt_seccomp_features(void);

/* ---- rt-notify.c: seccomp listener fds ---- */
/* Send data with one fd (SCM_RIGHTS). */
int rt_send_fd(int sock, int fd, const void *data, size_t len);
/* Receive one message into buf (NUL-terminated) and the fd it carries, if
 * any, into *ret_fd (-1 if none; NULL: closed).  Returns its length, 0 on
 * EOF, or -errno. */
ssize_t rt_recv_msg(int sock, char *buf, size_t cap, int *ret_fd);
/* Connect to seccomp's listenerPath and send the container process state
 * (pid, listenerMetadata, state) with the listener fd. */
int rt_notify_forward(const cJSON *seccomp, int fd, pid_t pid, cJSON *state, struct berth_err *err);

/* ---- rt-proc.c: process attributes, in the child ---- */
int rt_proc_rlimits(const struct rt_process *p, struct berth_err *err);
int rt_proc_identity(const struct rt_process *p, bool in_userns, struct berth_err *err);
int rt_proc_caps(const struct rt_process *p, struct berth_err *err);
int rt_proc_drop_bounding(const struct rt_process *p, struct berth_err *err);
int rt_proc_oom(const struct rt_process *p, struct berth_err *err);
/* Resolve args[0] through the process PATH; returns malloc'd path. */
int rt_proc_lookup(const struct rt_process *p, char **ret, struct berth_err *err);
int rt_cap_from_name(const char *name);
const char *rt_cap_name(int cap);
int rt_cap_last(void);

/* ---- rt-mount.c: rootfs, in the child ---- */
int rt_rootfs_prepare(const struct rt_config *c, const cJSON *cg_paths, struct berth_err *err);
int rt_rootfs_pivot(const struct rt_config *c, bool no_pivot, struct berth_err *err);
int rt_rootfs_finish(const struct rt_config *c, struct berth_err *err);
int rt_mount_flag(const char *opt, unsigned long *set, unsigned long *clear, unsigned long *prop,
                  bool *bind);
/* Open path inside root (a directory fd) without escaping it. */
int rt_open_in_root(int rootfd, const char *path, int flags, struct berth_err *err);

/* ---- rt-tty.c ---- */
int rt_console_connect(const char *path, struct berth_err *err);
/* run in the foreground with a terminal: take the pty master from sock and
 * copy between it and our stdio until pidfd says the process exited. */
int rt_console_proxy(int sock, int pidfd);
/* In the container: open a pty, send the master to sockfd, make the slave our
 * stdio and controlling terminal. */
int rt_console_setup(int sockfd, const struct rt_process *p, bool mount_console, struct berth_err *err);

/* ---- rt-hooks.c ---- */
int rt_hooks_run(const cJSON *hooks, const char *kind, const char *state_json, struct berth_err *err);

/* ---- rt-container.c: create, exec ---- */
struct rt_create_opts {
        const char *id;
        const char *bundle;
        const char *pid_file;
        const char *console_socket;
        int console_fd;         /* run: our own console socket end, or -1 */
        bool no_pivot;
        bool no_new_keyring;
        int preserve_fds;
        bool run;               /* run: no exec fifo; the caller starts it */
        bool detach;
};
/* Create the container; on success *ret_pid is its init and, for run, *ret_sync
 * the socket to send the start byte on. */
int rt_container_create(const struct rt_create_opts *o, pid_t *ret_pid, int *ret_sync,
                        struct berth_err *err);
/* Release a created container held by `run` */
int rt_container_start_sync(int sync_fd, struct berth_err *err);
int rt_container_remove(const char *id, struct rt_state *st, struct berth_err *err);

struct rt_exec_opts {
        const char *id;
        const char *process;    /* path to process.json or NULL */
        char **argv;            /* when no process file */
        bool tty;
        const char *console_socket;
        const char *pid_file;
        bool detach;
        const char *cwd;
        char **env;             /* added: NULL-terminated */
        const char *user;       /* uid[:gid] */
        bool nnp_set;
        int preserve_fds;
        char **caps;            /* --cap additions */
};
int rt_container_exec(const struct rt_exec_opts *o, int *ret_status, struct berth_err *err);

/* ---- rt-cloned.c ---- */
/* Re-execute from a read-only or sealed copy of ourselves unless already done. */
int rt_ensure_cloned(char **argv, struct berth_err *err);

int rt_write_pid_file(const char *path, pid_t pid, struct berth_err *err);
int rt_wait_status(int status);

#endif
