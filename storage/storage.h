/* SPDX-License-Identifier: Apache-2.0
 * storage/storage.h -- berth's image and volume store: content-addressed
 * blobs, image configs, the repositories index, overlay2-style layers,
 * docker-archive / OCI-layout load and save, container root filesystems and
 * local volumes.  This header is storage/'s whole public surface.
 *
 * Threads: every function without _async is BLOCKING (disk I/O, fsync,
 * hashing, tar streams): call it from the libuv thread pool, a helper
 * thread, or at startup -- never on berthd's loop.  A struct storage may be
 * used from several threads at once; metadata changes are serialised by an
 * internal lock, unpacking and hashing run outside it.  The _async wrappers
 * run the same work through uv_queue_work(): if they return < 0 the callback
 * is never called; otherwise it runs exactly once, on the loop thread, never
 * before the wrapper returns.
 *
 * Errors: 0 (or a count) on success, a negative errno on failure with *err
 * filled.  Public errors (err->public) carry the errno the API maps to a
 * status: ENOENT 404 (no such image/volume), EINVAL 400 (bad reference,
 * bad archive, hostile entry), EEXIST/EBUSY 409 (conflict, in use), ENOSPC
 * 500 ("no space left ... min_free_space").  Library code never logs.
 *
 * IDs: image IDs are "sha256:<64 hex>" = digest of the image config;
 * layers are identified by diff ID (sha256 of the uncompressed tar) and
 * chain ID; a layer shared by images is stored once.
 *
 * On disk under <data-root>:
 *   image/blobs/sha256/<hex>           uncompressed layer tars (by diff ID)
 *   image/imagedb/content/sha256/<hex> image configs (the ID is their digest)
 *   image/imagedb/metadata/sha256/<hex>/{parent,lastUpdated}
 *   image/repositories.json            "name:tag" / "name@digest" -> image ID
 *   image/layerdb/sha256/<chain>/{diff,parent,cache-id,size}
 *   image/layerdb/mounts/<container>/{mount-id,init-id,parent,volumes.json}
 *   overlay/<cache-id>/{diff,link,lower}   overlay/l/<short> -> ../<id>/diff
 *   overlay/<mount-id>/{diff,work,merged,link,lower}  container layers
 *   overlay/<mount-id>-init/{diff,link,lower}          their init layers
 *   volumes/<name>/{_data,meta.json}
 *   tmp/                               staging; emptied at open
 * Every metadata file is written atomically; the commit point of a layer is
 * its layerdb entry, of an image its imagedb config, of a tag the
 * repositories index.  storage_open() collects whatever a crash left.
 */
#ifndef BERTH_STORAGE_H
#define BERTH_STORAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <uv.h>

#include "lib/lib.h"

struct storage;

/* ------------------------------------------------------------------ */
/* Store                                                                */

struct storage_opts {
        /* "overlay2.min_free_space=10%" or "...=512M" style values, or NULL.
         * Accepts the bare value ("10%", "1G", "1048576") too. */
        const char *min_free_space;
};

/* Open (creating as needed) the store under data_root, clear tmp/ and
 * collect garbage left by a crash.  opts may be NULL. */
int storage_open(const char *data_root, const struct storage_opts *opts,
                 struct storage **ret, struct berth_err *err);
/* NULL-safe; returns NULL.  Does not unmount container rootfs. */
struct storage *storage_free(struct storage *s);
/* Parse and set a storage option ("overlay2.min_free_space=N%|SIZE"). */
int storage_set_option(struct storage *s, const char *kv, struct berth_err *err);
const char *storage_root(const struct storage *s);

/* Garbage collection: remove layers, blobs and overlay dirs no image or
 * container references, and stale links.  Returns bytes reclaimed (>= 0)
 * through *ret_reclaimed (may be NULL). */
int storage_gc(struct storage *s, uint64_t *ret_reclaimed, struct berth_err *err);
/* Consistency check for tests and startup: every tag names an image, every
 * image's layers exist with their diff dirs and blobs, every link resolves.
 * Returns the number of problems found (0 = consistent); their description
 * is appended to *report when report != NULL. */
int storage_check(struct storage *s, struct buf *report, struct berth_err *err);

/* ------------------------------------------------------------------ */
/* References (Docker's normalisation)                                 */

struct storage_ref {
        char *domain;   /* "docker.io", "localhost:5000" */
        char *path;     /* "library/busybox" */
        char *tag;      /* "latest" (NULL when only a digest was given) */
        char *digest;   /* "sha256:<hex>" or NULL */
};

/* Parse s: "busybox" -> docker.io/library/busybox:latest; "name@sha256:...",
 * "host:port/repo:tag".  Lower-case repository names only, tags
 * [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}.  -EINVAL (public) with Docker's wording
 * on a bad reference.  A 64-hex string alone is refused (it is an ID). */
int storage_ref_parse(const char *s, struct storage_ref *ret, struct berth_err *err);
void storage_ref_release(struct storage_ref *r);
/* "docker.io/library/busybox:latest" (full; the repositories index key). */
char *storage_ref_full(const struct storage_ref *r);
/* Familiar form as Docker prints it: "busybox:latest", "localhost:5000/x:1",
 * "busybox@sha256:...". */
char *storage_ref_familiar(const struct storage_ref *r);
/* Familiar repository name only: "busybox". */
char *storage_ref_familiar_name(const struct storage_ref *r);

/* ------------------------------------------------------------------ */
/* Blobs                                                               */

/* Store data under image/blobs/sha256.  When expect is not NULL
 * ("sha256:<hex>") the computed digest must equal it, else -EINVAL and
 * nothing is stored.  *ret_digest (may be NULL) gets "sha256:<hex>". */
int storage_blob_put(struct storage *s, const void *data, size_t len, const char *expect,
                     char **ret_digest, struct berth_err *err);
/* Read a blob, checking its digest (corruption is -EIO). */
int storage_blob_get(struct storage *s, const char *digest, char **ret, size_t *ret_len,
                     struct berth_err *err);
bool storage_blob_exists(struct storage *s, const char *digest);
/* "sha256:<hex>" of data. */
char *storage_sha256_digest(const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* Images                                                              */

/* Resolve a name as the API receives it: full ID, "sha256:<id>", unique ID
 * prefix (>= 1 hex char, Docker's rules), or a reference ("busybox",
 * "busybox:1", "x@sha256:...").  *ret_id = "sha256:<hex>".  -ENOENT
 * (public) "No such image: busybox:latest". */
int storage_image_resolve(struct storage *s, const char *name, char **ret_id,
                          struct berth_err *err);
/* The stored config (JSON object) of an image; caller owns it. */
int storage_image_config(struct storage *s, const char *name, cJSON **ret,
                         struct berth_err *err);
/* GET /images/{name}/json body. */
int storage_image_inspect(struct storage *s, const char *name, cJSON **ret,
                          struct berth_err *err);
/* GET /images/{name}/history body (array, newest first). */
int storage_image_history(struct storage *s, const char *name, cJSON **ret,
                          struct berth_err *err);

struct storage_image_filter {
        bool all;                 /* include intermediate (parent) images */
        const cJSON *filters;     /* parsed `filters` query: dangling, label,
                                   * reference, before, since (both
                                   * {"k":{"v":true}} and {"k":["v"]} forms) */
};
/* GET /images/json body (array of summaries; Containers/SharedSize -1). */
int storage_image_list(struct storage *s, const struct storage_image_filter *f, cJSON **ret,
                       struct berth_err *err);

/* POST /images/{name}/tag: repo is a normalised or familiar name, tag may be
 * NULL ("latest"). */
int storage_image_tag(struct storage *s, const char *name, const char *repo, const char *tag,
                      struct berth_err *err);

/* Callback telling whether an image is used by a container (rmi conflict).
 * Returns true if in use; may set *running when a running container uses it.
 * It runs on the calling (worker) thread with the storage lock held: it must
 * not call back into storage, and must read the daemon's container table in
 * a thread-safe way (e.g. a snapshot of image IDs in use taken on the loop
 * before queueing the work). */
typedef bool (*storage_image_in_use_fn)(const char *image_id, bool *running, void *data);

struct storage_rmi_opts {
        bool force;
        bool noprune;
        storage_image_in_use_fn in_use;  /* may be NULL */
        void *in_use_data;
};
/* DELETE /images/{name}: *ret = [{"Untagged":..},{"Deleted":..}] as Docker
 * answers (untagged names, then deleted image IDs and layer chain IDs, the
 * untagged parent chain too unless noprune).  -EBUSY/-EEXIST (public, 409)
 * when a container uses it or several tags name it without force. */
int storage_image_remove(struct storage *s, const char *name, const struct storage_rmi_opts *o,
                         cJSON **ret, struct berth_err *err);
/* POST /images/prune: dangling only unless all; filters like list (label,
 * until).  *ret = {"ImagesDeleted":[...]|null,"SpaceReclaimed":N}. */
int storage_image_prune(struct storage *s, bool all, const cJSON *filters,
                        storage_image_in_use_fn in_use, void *in_use_data, cJSON **ret,
                        struct berth_err *err);

/* Loading docker-archive (manifest.json) and OCI-layout (index.json)
 * tarballs (plain, gzip or zstd) read from fd until EOF.  Layers are
 * verified against the config's diff IDs.  ret (may be NULL) gets the
 * loaded names: tags in familiar form ("busybox:latest"), or image IDs for
 * untagged images; the API prints "Loaded image: X" / "Loaded image ID: X". */
struct storage_load_result {
        char **tags;      /* NULL-terminated, familiar refs */
        char **ids;       /* NULL-terminated, image IDs without a tag */
};
void storage_load_result_release(struct storage_load_result *r);
int storage_image_load(struct storage *s, int fd, struct storage_load_result *ret,
                       struct berth_err *err);
/* docker save of names (references or IDs) as a tar written to fd: OCI
 * layout + manifest.json + repositories, readable by docker load. */
int storage_image_save(struct storage *s, const char *const *names, int fd,
                       struct berth_err *err);

/* docker import: a rootfs tar (plain/gzip/zstd) read from fd becomes a
 * one-layer image.  changes: Dockerfile lines (CMD, ENTRYPOINT, ENV, EXPOSE,
 * LABEL, USER, VOLUME, WORKDIR, ONBUILD, STOPSIGNAL), may be NULL.  repo/tag
 * may be NULL (untagged).  *ret_id = "sha256:..". */
struct storage_import_opts {
        const char *repo;
        const char *tag;
        const char *message;
        const char *const *changes;    /* NULL-terminated */
        const char *platform_os;       /* default "linux" */
        const char *platform_arch;     /* default "amd64" */
};
int storage_image_import(struct storage *s, int fd, const struct storage_import_opts *o,
                         char **ret_id, struct berth_err *err);

/* Apply Dockerfile-style change lines to an image config's "config" object
 * (shared by import and commit).  -EINVAL (public) on a bad line. */
int storage_apply_changes(cJSON *config, const char *const *changes, struct berth_err *err);

/* ------------------------------------------------------------------ */
/* Container root filesystems (overlay)                                */

/* Create the container's layer (upper/work dirs) on top of image_id, with
 * Docker's init layer between them (overlay/<mount-id>-init: the stubs the
 * runtime mounts over -- /etc/hosts, /etc/hostname, /etc/resolv.conf,
 * /dev/pts, /dev/shm, /proc, /sys, /dev/console, /etc/mtab, /.dockerenv --
 * where the image lacks them), so docker diff and commit never see them.
 * Checks min_free_space.  -EEXIST if it exists. */
int storage_rootfs_create(struct storage *s, const char *container_id, const char *image_id,
                          struct berth_err *err);
/* Mount the overlay (lowerdir from short links; long lists handled) at
 * overlay/<mount-id>/merged, or return the path if mounted.  Root only.
 * STORAGE_MOUNT_RO mounts it MS_RDONLY; STORAGE_MOUNT_VOLATILE with overlay's
 * volatile option (no syncs of the upper layer, none at unmount either; for
 * a layer that is thrown away after one run, as podman does for --rm),
 * plain where the kernel lacks it. */
enum {
        STORAGE_MOUNT_RO = 1 << 0,
        STORAGE_MOUNT_VOLATILE = 1 << 1,
};
int storage_rootfs_mount(struct storage *s, const char *container_id, unsigned flags,
                         char **ret_path, struct berth_err *err);
int storage_rootfs_unmount(struct storage *s, const char *container_id, struct berth_err *err);
/* Unmount if needed and delete the container layer (moved out of the way at
 * once, its files removed in the background: see storage_trash). */
int storage_rootfs_remove(struct storage *s, const char *container_id, struct berth_err *err);
/* Make path (a tree on the data root's filesystem) vanish at once: it is
 * renamed into <root>/tmp and removed by a storage thread; what is left at
 * exit goes at the next storage_open.  Falls back to removing it here.
 * Blocking. */
int storage_trash(struct storage *s, const char *path);
/* The paths for inspect's GraphDriver.Data (LowerDir, UpperDir, WorkDir,
 * MergedDir); caller owns the object. */
int storage_rootfs_graphdriver(struct storage *s, const char *container_id, cJSON **ret,
                               struct berth_err *err);
/* GET /containers/{id}/changes body: [{"Path":"/tmp","Kind":0}] with
 * 0 = modified, 1 = added, 2 = deleted, sorted by path. */
int storage_rootfs_changes(struct storage *s, const char *container_id, cJSON **ret,
                           struct berth_err *err);
/* GET /containers/{id}/export: tar of the merged view written to fd (mounts
 * temporarily when not mounted). */
int storage_rootfs_export(struct storage *s, const char *container_id, int fd,
                          struct berth_err *err);
/* Size of the container's upper dir (SizeRw). */
int storage_rootfs_size(struct storage *s, const char *container_id, uint64_t *ret,
                        struct berth_err *err);

/* docker cp (HEAD/GET/PUT /containers/{id}/archive).  Paths resolve
 * inside the container root as if chrooted (openat2 RESOLVE_IN_ROOT):
 * symlinks never lead out of it.  The rootfs is mounted temporarily when
 * it is not mounted; volumes mounted in the container's own namespace are
 * not seen.  For a running container the daemon should pause it around
 * GET (as Docker does since CVE-2018-15664): the walk below the resolved
 * path is by name.
 * *ret: {"name","size","mode" (Go os.FileMode bits),"mtime","linkTarget"},
 * base64 of its JSON is X-Docker-Container-Path-Stat.  -ENOENT (public)
 * "Could not find the file P in container ID". */
int storage_rootfs_path_stat(struct storage *s, const char *container_id, const char *path,
                             cJSON **ret, struct berth_err *err);
/* GET: tar of path (entry named by its basename) written to fd; *ret_stat
 * (may be NULL) as path_stat. */
int storage_rootfs_archive_get(struct storage *s, const char *container_id, const char *path,
                               int fd, cJSON **ret_stat, struct berth_err *err);
/* PUT: extract the tar read from fd into directory path (plain/gzip/zstd;
 * ".wh." names are plain files here).  Hostile entries (.., absolute,
 * through symlinks) fail with -EINVAL naming the entry.
 * no_overwrite_dir_non_dir: refuse to replace a dir by a non-dir or the
 * reverse (-EINVAL). */
int storage_rootfs_archive_put(struct storage *s, const char *container_id, const char *path,
                               int fd, bool no_overwrite_dir_non_dir, struct berth_err *err);

/* POST /commit: a new image from the container's upper dir. */
struct storage_commit_opts {
        const char *repo;          /* may be NULL */
        const char *tag;           /* may be NULL */
        const char *author;
        const char *comment;
        const char *const *changes;
        const cJSON *config;       /* container config to record (may be NULL) */
};
int storage_commit(struct storage *s, const char *container_id,
                   const struct storage_commit_opts *o, char **ret_id, struct berth_err *err);

/* ------------------------------------------------------------------ */
/* Volumes (local driver)                                              */

struct storage_volume_opts {
        const char *name;          /* NULL or "": generated 64-hex name */
        const char *driver;        /* NULL or "local" */
        const cJSON *labels;       /* object of strings, may be NULL */
        const cJSON *driver_opts;  /* type/device/o, may be NULL */
};
/* POST /volumes/create.  Existing name: returns it (Docker does) unless
 * options conflict.  *ret = inspect object. */
int storage_volume_create(struct storage *s, const struct storage_volume_opts *o, cJSON **ret,
                          struct berth_err *err);
/* GET /volumes/{name}; -ENOENT (public) "get NAME: no such volume". */
int storage_volume_inspect(struct storage *s, const char *name, cJSON **ret,
                           struct berth_err *err);
/* GET /volumes: {"Volumes":[...],"Warnings":null}; filters name, label,
 * dangling (true: no container uses it), driver. */
int storage_volume_list(struct storage *s, const cJSON *filters, cJSON **ret,
                        struct berth_err *err);
/* In-process refs, counted as "in use" (409) and not dangling along with
 * the containers' recorded use (storage_container_volumes_setup). */
int storage_volume_ref(struct storage *s, const char *name, struct berth_err *err);
int storage_volume_unref(struct storage *s, const char *name);
/* Host path to bind-mount for a volume; mounts tmpfs/bind driver opts on
 * first use (root).  Caller owns *ret. */
int storage_volume_path(struct storage *s, const char *name, char **ret, struct berth_err *err);
/* Docker's copy-up on first use: when the volume is empty, copy what the
 * container's image has at path (resolved inside its root) into it, with
 * owners, modes and times.  Does nothing if the volume is not empty or the
 * path does not exist in the image.  Call before the container starts
 * (storage_container_volumes_setup does, at create).  Anonymous volumes
 * carry the label "com.docker.volume.anonymous" = "" (prune without all
 * removes only those, as API >= 1.42 does). */
int storage_volume_copy_up(struct storage *s, const char *name, const char *container_id,
                           const char *path, struct berth_err *err);
/* DELETE /volumes/{name}: -EBUSY (public, 409) "remove NAME: volume is in
 * use - [container IDs]" while a container uses it (or a ref is held),
 * force or not, as Docker answers; force only makes a missing volume a
 * success. */
int storage_volume_remove(struct storage *s, const char *name, bool force, struct berth_err *err);
/* POST /volumes/prune: unused volumes (anonymous only unless all, as
 * API >= 1.42); a volume any container uses is never pruned.  *ret = {"VolumesDeleted":[..],"SpaceReclaimed":N}. */
int storage_volume_prune(struct storage *s, bool all, const cJSON *filters, cJSON **ret,
                         struct berth_err *err);

/* Volumes of a container.  Which volumes a container uses is recorded with
 * its rootfs (image/layerdb/mounts/<id>/volumes.json): a volume that a
 * container of any state uses is in use (remove answers 409 even with
 * force, prune skips it, the dangling filter says so) until the container
 * is removed.
 *
 * At container create, after storage_rootfs_create: Docker's MountPoints
 * from HostConfig.Binds, HostConfig.Mounts and the merged Config.Volumes.
 * Each volume is made if missing -- for "-v /path", an image VOLUME or a
 * --mount without source, a new anonymous one (64-hex name, label
 * com.docker.volume.anonymous) -- and, unless nocopy, the image's content
 * at its destination is copied into it when it is empty (copy-up; mounts
 * the rootfs for a moment: root).  *ret_mounts is an array of MountPoint
 * objects as inspect shows them ({"Type","Name","Source","Destination",
 * "Driver","Mode","RW","Propagation"}) plus some of ours that inspect
 * leaves out: "Anonymous", "CopyData", and "Created" on the volumes made
 * here (the caller publishes their events, then may drop the key).  Malformed binds are skipped (spec
 * validation words them).  On failure the anonymous volumes made here are
 * removed again.  HostConfig.AutoRemove: storage_rootfs_remove() removes
 * the anonymous volumes too (docker run --rm). */
int storage_container_volumes_setup(struct storage *s, const char *container_id,
                                    const cJSON *config, const cJSON *host_config,
                                    cJSON **ret_mounts, struct berth_err *err);
/* At container removal, before storage_rootfs_remove: forget the
 * container's use of its volumes; remove_anonymous (docker rm -v) removes
 * its anonymous volumes that no other container uses.  Returns the number
 * of volumes removed; *ret_removed (may be NULL) gets an array of their
 * names, or NULL when none was.  (storage_rootfs_remove does the same, removing the
 * anonymous volumes only when the container was made with AutoRemove.) */
int storage_container_volumes_release(struct storage *s, const char *container_id,
                                      bool remove_anonymous, cJSON **ret_removed,
                                      struct berth_err *err);

/* ------------------------------------------------------------------ */
/* /system/df                                                          */

/* {"LayersSize":N,"Images":[summaries with SharedSize/Containers],
 *  "Volumes":[inspect with UsageData]} -- containers are the daemon's. */
int storage_df(struct storage *s, cJSON **ret, struct berth_err *err);

/* ------------------------------------------------------------------ */
/* Async wrappers (loop thread)                                        */

/* Completion: status 0 or -errno; err holds the message; result is the
 * call's output (cJSON *, char *, struct storage_load_result *) that the
 * callback owns, or NULL. */
typedef void (*storage_done_cb)(int status, void *result, const struct berth_err *err,
                                void *data);

/* Load from fd (closed by storage when done); result is a
 * struct storage_load_result * (release it, then free()). */
int storage_image_load_async(uv_loop_t *loop, struct storage *s, int fd, storage_done_cb cb,
                             void *data, struct berth_err *err);
/* Save names (copied) to fd (closed when done); result NULL. */
int storage_image_save_async(uv_loop_t *loop, struct storage *s, const char *const *names,
                             int fd, storage_done_cb cb, void *data, struct berth_err *err);
/* Import from fd (closed when done); o is copied; result is the char * ID. */
int storage_image_import_async(uv_loop_t *loop, struct storage *s, int fd,
                               const struct storage_import_opts *o, storage_done_cb cb,
                               void *data, struct berth_err *err);
/* Export to fd (closed when done); result NULL. */
int storage_rootfs_export_async(uv_loop_t *loop, struct storage *s, const char *container_id,
                                int fd, storage_done_cb cb, void *data, struct berth_err *err);
/* Commit; o is copied; result is the char * image ID. */
int storage_commit_async(uv_loop_t *loop, struct storage *s, const char *container_id,
                         const struct storage_commit_opts *o, storage_done_cb cb, void *data,
                         struct berth_err *err);
/* Remove an image; o is copied; result is the cJSON * answer. */
int storage_image_remove_async(uv_loop_t *loop, struct storage *s, const char *name,
                               const struct storage_rmi_opts *o, storage_done_cb cb, void *data,
                               struct berth_err *err);
/* Any blocking call on the thread pool: fn(s, arg, &result, err) runs on
 * a worker (arg must stay valid until cb); cb gets its status and result.
 * E.g. a small struct holding a container id, path and fd for
 * storage_rootfs_archive_put, or a name for storage_image_inspect. */
typedef int (*storage_work_fn)(struct storage *s, void *arg, void **result,
                               struct berth_err *err);
int storage_call_async(uv_loop_t *loop, struct storage *s, storage_work_fn fn, void *arg,
                       storage_done_cb cb, void *data, struct berth_err *err);
/* Garbage collection; result NULL. */
int storage_gc_async(uv_loop_t *loop, struct storage *s, storage_done_cb cb, void *data,
                     struct berth_err *err);

#endif
