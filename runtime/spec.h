/* SPDX-License-Identifier: Apache-2.0
 * runtime/spec.h -- OCI runtime-spec generation: turns a Docker container
 * create request (Config + HostConfig, merged with the image's config) into
 * the config.json of an OCI bundle, with Docker's defaults for everything the
 * client did not set.  Plus the small parsers the daemon shares with it.
 *
 * Pure library: no logging, no global state.  spec_generate() and
 * spec_user_resolve() read files (rootfs /etc/passwd, host devices) and so
 * block: call them from a worker thread.  All other functions are pure.
 * Every function returns 0 (or a value >= 0) on success and a negative errno
 * on failure, filling *err.  Errors a client caused are public
 * (berth_err_pub, -EINVAL: the API answers 400) and worded as Docker words
 * them ("invalid mode: x", "Conflicting options: ...").
 */
#ifndef BERTH_RUNTIME_SPEC_H
#define BERTH_RUNTIME_SPEC_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/lib.h"

#define SPEC_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define SPEC_DEFAULT_SHM_SIZE (64LL * 1024 * 1024)
#define SPEC_DEFAULT_CGROUP_PARENT "/berth"

/* Resolves a named volume (from HostConfig.Binds "name:/dst" or a Mounts
 * entry of Type "volume") to a host directory; *ret_path is malloc'ed. */
typedef int (*spec_volume_resolver)(void *ctx, const char *name, char **ret_path,
                                    struct berth_err *err);

struct spec_input {
        /* The create body: Config fields at the top level.  If host_config
         * is NULL, create_config's "HostConfig" member is used. */
        const cJSON *create_config;
        const cJSON *host_config;
        /* The image's "config" object (Env, Cmd, Entrypoint, WorkingDir,
         * User, StopSignal...).  NULL when create_config is already merged
         * (spec_merge_image_config) or the image has none. */
        const cJSON *image_config;
        const char *container_id;       /* 64 hex; cgroup name, default hostname */
        const char *rootfs;             /* host path of the mounted rootfs */
        const char *hostname;           /* NULL: Config.Hostname, else id[:12] */
        /* host files bind-mounted at /etc/hostname, /etc/hosts,
         * /etc/resolv.conf (each may be NULL: no mount) */
        const char *hostname_path, *hosts_path, *resolv_conf_path;
        int cgroup_version;             /* 1 or 2 (0 means 1) */
        const char *cgroup_parent;      /* NULL: "/berth"; HostConfig.CgroupParent wins */
        /* Namespaces to join, resolved by the caller: for NetworkMode,
         * IpcMode or PidMode "container:<id>" these must be set (a
         * /proc/PID/ns/TYPE path).  netns_path may also name a netns the
         * caller prepared for the default/bridge/custom networks.  NULL
         * otherwise: a new namespace (or none for "host"). */
        const char *netns_path, *ipcns_path, *pidns_path;
        /* IpcMode "shareable"/"container:": host directory bind-mounted at
         * /dev/shm instead of a private tmpfs (NULL: tmpfs of ShmSize). */
        const char *shm_path;
        bool seccomp_disabled;          /* host has no seccomp: leave it out */
        bool no_sysctl_defaults;        /* don't add Docker's ping/port sysctls */
        const char *init_path;          /* host docker-init/tini for HostConfig.Init
                                         * (NULL: docker-init or tini-static in PATH) */
        /* daemon.json default-ulimits as [{"Name","Soft","Hard"}]: used for
         * the names HostConfig.Ulimits does not set.  May be NULL. */
        const cJSON *default_ulimits;
        spec_volume_resolver resolve_volume;
        void *resolve_ctx;
};

/* Build the OCI config.json for in.  *ret is a new cJSON object.
 * Blocking (reads rootfs/etc/passwd and /etc/group, stats --device and
 * blkio device nodes, creates a missing -v bind source directory as Docker
 * does): call it from a worker thread.  Thread-safe: no shared state. */
int spec_generate(const struct spec_input *in, cJSON **ret, struct berth_err *err);

/* The create-time checks: everything spec_generate() would refuse that
 * does not depend on the host state at start (resources, capabilities,
 * security options, mount specs, sysctls, ulimits, user-independent
 * process fields).  No files are created; --mount bind sources are checked
 * for existence as Docker does at create.  Call it in POST
 * /containers/create to answer 400 there rather than at start. */
int spec_validate(const cJSON *create_config, const cJSON *host_config, const cJSON *image_config,
                  struct berth_err *err);

/* Docker's create-time merge of the image config into the container config:
 * Env by key (container wins), Cmd/Entrypoint (an Entrypoint given by the
 * client drops the image's Cmd), WorkingDir, User, StopSignal, Labels,
 * ExposedPorts, Volumes, Healthcheck.  *ret is a new object (a copy of
 * config with the merged fields). */
int spec_merge_image_config(const cJSON *config, const cJSON *image_config, cJSON **ret,
                            struct berth_err *err);

/* ---- users ---- */
struct spec_user {
        uint32_t uid, gid;
        uint32_t *gids;         /* additional groups (malloc'ed), n_gids of them */
        size_t n_gids;
        char *home;             /* malloc'ed; "/" when unknown */
};
void spec_user_release(struct spec_user *u);
/* Resolve a Docker --user ("", "uid", "uid:gid", "name", "name:group") and
 * HostConfig.GroupAdd (may be NULL) against rootfs/etc/passwd and
 * rootfs/etc/group, opened with every path component resolved inside
 * rootfs (openat2 RESOLVE_IN_ROOT; no symlink leads out).  Unknown names
 * give Docker's "unable to find user x: no matching entries in passwd file". */
int spec_user_resolve(const char *rootfs, const char *user, const cJSON *group_add,
                      struct spec_user *ret, struct berth_err *err);

/* ---- capabilities ---- */
/* The 14 default capabilities, NULL-terminated, "CAP_" names. */
extern const char *const spec_default_caps[];
/* Capability number from a name with or without "CAP_", any case; -EINVAL. */
int spec_cap_from_name(const char *name);
const char *spec_cap_name(int cap);  /* "CAP_CHOWN"; NULL past the last known */
/* Effective set as a bit mask from defaults, CapAdd, CapDrop (arrays of
 * strings, "ALL" allowed) and privileged; caps missing from the caller's
 * bounding set are left out only for ALL/privileged. */
int spec_caps_compute(const cJSON *cap_add, const cJSON *cap_drop, bool privileged,
                      uint64_t *ret_mask, struct berth_err *err);

/* ---- seccomp ---- */
/* Docker's default profile in Docker's own JSON format (defaultAction,
 * archMap, syscalls with includes/excludes), built from our C table. */
cJSON *spec_seccomp_default_profile(void);
/* Turn a Docker-format profile (as the default, or the JSON the CLI sends
 * with --security-opt seccomp=FILE) into the OCI linux.seccomp object for
 * this architecture and the effective capability mask.  *ret new object. */
int spec_seccomp_resolve(const cJSON *profile, uint64_t caps, cJSON **ret,
                         struct berth_err *err);

/* ---- small parsers shared with the daemon ---- */
/* "SIGTERM", "TERM", "15", "SIGRTMIN+3" -> signal number; -EINVAL. */
int spec_parse_signal(const char *s);
/* Docker's RAMInBytes: "64m", "1g", "512k", "100" (binary units). */
int spec_parse_bytes(const char *s, int64_t *ret);
/* --ulimit "nofile=1024:2048" / "nproc=512" -> name, soft, hard. */
int spec_parse_ulimit(const char *s, char *name, size_t name_len, int64_t *soft,
                      int64_t *hard, struct berth_err *err);
/* --device "/dev/x[:/dev/y][:rwm]" -> a new {"PathOnHost","PathInContainer",
 * "CgroupPermissions"} object as the CLI sends it. */
int spec_parse_device(const char *s, cJSON **ret, struct berth_err *err);
/* true if sysctl key is namespaced (Docker/runc's list); *ns gets "ipc",
 * "net" or "uts". */
bool spec_sysctl_namespaced(const char *key, const char **ns);

#endif
