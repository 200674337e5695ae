/* SPDX-License-Identifier: Apache-2.0
 * storage/storage-internal.h -- declarations shared by the storage sources only.
 * libarchive appears in archive.c alone; the rest sees the st_tar_* API. */
#ifndef BERTH_STORAGE_INTERNAL_H
#define BERTH_STORAGE_INTERNAL_H

#include <pthread.h>
#include <sys/types.h>

#include "storage/storage.h"

#define ST_HEX_LEN 64
#define ST_DIGEST_LEN (7 + ST_HEX_LEN) /* "sha256:" + hex */
#define ST_LINK_LEN 26
#define ST_MAX_JSON (16u << 20)

struct st_vref {
        char *name;
        int count;
};

struct storage {
        char *root;
        pthread_mutex_t lock;         /* metadata changes, GC, pins, vrefs */
        int min_free_pct;             /* 0..99, 0 = unset */
        uint64_t min_free_bytes;      /* 0 = unset */
        char **pins;                  /* digests kept alive while a load runs */
        size_t n_pins;
        struct st_vref *vrefs;
        size_t n_vrefs;
        /* trees moved to tmp/trash-* by storage_trash, removed by a thread
         * of their own (store.c) */
        pthread_mutex_t trash_mu;
        pthread_cond_t trash_cond;
        pthread_t trash_thread;
        bool trash_thread_on, trash_stop;
        char **trash;
        size_t n_trash;
};

static inline void st_lock(struct storage *s) { pthread_mutex_lock(&s->lock); }
static inline void st_unlock(struct storage *s) { pthread_mutex_unlock(&s->lock); }

/* store.c */
char *st_path(const struct storage *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
bool st_is_hex(const char *s, size_t n);
/* "sha256:<hex>" -> pointer to hex, or NULL if malformed. */
const char *st_digest_hex(const char *digest);
struct st_hash;
struct st_hash *st_hash_new(void);
void st_hash_update(struct st_hash *h, const void *p, size_t n);
/* Writes 64 hex + NUL into out and frees h. */
void st_hash_final(struct st_hash *h, char out[ST_HEX_LEN + 1]);
void st_hash_free(struct st_hash *h);
int st_hash_fd(int fd, char out[ST_HEX_LEN + 1], uint64_t *ret_size);
/* rm -rf that never follows symlinks; ENOENT is success. */
int st_rm_rf(const char *path);
int st_rm_rf_at(int dfd, const char *name);
/* Create a unique temp dir under <root>/tmp; *ret owned by caller. */
int st_mkdtemp(struct storage *s, const char *prefix, char **ret, struct berth_err *err);
/* Fail with ENOSPC "no space left ... min_free_space" if writing need bytes
 * would take free space on data-root below the bound. */
int st_space_check(struct storage *s, uint64_t need, struct berth_err *err);
/* Test hook: BERTH_STORAGE_CRASH_AT=<point> makes the process _exit(99). */
void st_crash_point(const char *point);
/* Move a file (same filesystem) into the blob store as <hex>, fsyncing it. */
int st_blob_adopt(struct storage *s, const char *tmp_path, const char *hex, struct berth_err *err);
void st_pin(struct storage *s, const char *digest);     /* locked by caller */
void st_unpin(struct storage *s, const char *digest);   /* locked by caller */
bool st_pinned(struct storage *s, const char *digest);
int st_write_str(const char *path, const char *str, struct berth_err *err);
/* A new file in a private staging dir: written and fsynced in place (no
 * temp file, no fsync of the dir: the dir is fsynced once before it is
 * renamed into place). */
int st_write_staged(const char *path, const char *str, struct berth_err *err);
char *st_read_str(const char *path);            /* trimmed, NULL on error */
uint64_t st_du(const char *path);               /* bytes used under path */
int st_gc_locked(struct storage *s, cJSON *deleted, uint64_t *reclaimed, struct berth_err *err);
int st_fsync_path(const char *path);

/* reference.c */
char *st_chain_id(const char *parent_chain, const char *diff_id);

/* layer.c */
/* Register a layer: diff (uncompressed tar blob, already in the store) on
 * top of parent chain.  Unpacks into overlay/ unless the chain exists.
 * *ret_chain owned by caller.  Caller pins diff_id. */
int st_layer_create(struct storage *s, const char *parent_chain, const char *diff_id,
                    char **ret_chain, struct berth_err *err);
/* Same, with the diff already unpacked into pre_diff (a dir on the same
 * filesystem, moved into place) holding pre_size bytes; NULL = unpack. */
int st_layer_create_from(struct storage *s, const char *parent_chain, const char *diff_id,
                         const char *pre_diff, uint64_t pre_size, char **ret_chain,
                         struct berth_err *err);
bool st_layer_exists(struct storage *s, const char *chain);
/* cache id of a chain's overlay dir (caller frees) or NULL. */
char *st_layer_cache_id(struct storage *s, const char *chain);
uint64_t st_layer_size(struct storage *s, const char *chain);
/* Chain IDs of an image config's rootfs (NULL-terminated, caller frees all). */
char **st_config_chains(const cJSON *config, size_t *ret_n);
void st_strv_free(char **v);
size_t st_strv_len(char *const *v);

/* Container upper dir and the chain it sits on ("" for none). */
/* Forget which volumes the container uses (volume.c); remove_anonymous 1:
 * remove its anonymous volumes nobody else uses, 0: keep them, -1: as the
 * create said (AutoRemove).  Returns the number removed; their names are
 * appended to *ret_removed (an array made on first use) when not NULL. */
int st_container_volumes_release(struct storage *s, const char *container_id,
                                 int remove_anonymous, cJSON **ret_removed, struct berth_err *err);
int st_rootfs_upper(struct storage *s, const char *container_id, char **ret_upper,
                    char **ret_parent, struct berth_err *err);

/* image.c */
int st_image_write_config(struct storage *s, const char *data, size_t len, const char *parent,
                          char **ret_id, struct berth_err *err);
int st_repo_set(struct storage *s, const char *full_ref, const char *id, struct berth_err *err);
cJSON *st_config_load(struct storage *s, const char *id_hex);
char **st_image_ids(struct storage *s);       /* hex ids, caller frees */

/* archive.c */
/* Unpack a tar stream (any compression) read from fd into dest (an
 * existing empty directory).  Hostile entries fail with -EINVAL naming the
 * entry.  *ret_size gets the bytes of file content written. */
int st_tar_unpack(int fd, const char *dest, uint64_t *ret_size, struct berth_err *err);
enum { ST_UNPACK_LAYER = 1, ST_UNPACK_NO_DIR_NON_DIR = 2 };
/* Unpack into an open directory; without ST_UNPACK_LAYER ".wh." entries
 * are plain files (docker cp). */
int st_tar_unpack_at(int fd, int dirfd, int flags, uint64_t *ret_size, struct berth_err *err);
/* Decompress (gzip/zstd/xz/bzip2 or none) in_fd into out_fd, hashing the
 * output; out_hex gets its sha256. */
int st_tar_decompress(int in_fd, int out_fd, char out_hex[ST_HEX_LEN + 1], uint64_t *ret_size,
                      struct berth_err *err);
struct st_staged {
        char *name;                   /* entry path, cleaned */
        char *path;                   /* staged file */
        char hex[ST_HEX_LEN + 1];
        uint64_t size;
};
/* Read an outer archive from fd, writing each regular file into dir (as
 * numbered files) and hashing it.  Symlinks to files are recorded as
 * entries with the target's staged file (OCI layouts and Docker's legacy
 * layer dirs use them). */
typedef void (*st_staged_fn)(const struct st_staged *e, void *data);
int st_tar_stage(struct storage *s, int fd, const char *dir, st_staged_fn on_file, void *data,
                 struct st_staged **ret, size_t *ret_n, struct berth_err *err);
void st_staged_free(struct st_staged *v, size_t n);

struct st_tar_out;
int st_tar_out_new(int fd, struct st_tar_out **ret, struct berth_err *err);
int st_tar_out_bytes(struct st_tar_out *o, const char *name, const void *data, size_t len,
                     struct berth_err *err);
int st_tar_out_file(struct st_tar_out *o, const char *name, const char *path,
                    struct berth_err *err);
int st_tar_out_dir(struct st_tar_out *o, const char *name, struct berth_err *err);
enum { ST_TREE_PLAIN = 0, ST_TREE_UPPER = 1 };
/* Add the tree under dir (entries named relative to it, "./" omitted);
 * ST_TREE_UPPER turns overlay whiteouts into OCI ".wh." entries. */
int st_tar_out_tree(struct st_tar_out *o, const char *dir, int mode, struct berth_err *err);
/* Add path (and what is below it) under the entry name. */
int st_tar_out_path(struct st_tar_out *o, const char *path, const char *name,
                    struct berth_err *err);
int st_tar_out_finish(struct st_tar_out *o, struct berth_err *err);
void st_tar_out_free(struct st_tar_out *o);

#endif
