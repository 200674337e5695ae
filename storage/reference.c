/* SPDX-License-Identifier: Apache-2.0
 * storage/reference.c -- Docker image references: parsing, normalisation
 * (busybox = docker.io/library/busybox:latest), familiar forms; chain IDs. */
#include "config.h"

#include <ctype.h>
#include <string.h>

#include "storage/storage-internal.h"

#define DEFAULT_DOMAIN "docker.io"

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* path-component := [a-z0-9]+ ((\.|_|__|-+) [a-z0-9]+)* */
static bool valid_component(const char *s, size_t n)
{
        size_t i = 0;

        if (n == 0 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
                return false;
        while (i < n) {
                if (is_lower_alnum(s[i])) {
                        i++;
                        continue;
                }
                if (s[i] == '.') {
                        i++;
                } else if (s[i] == '_') {
                        i++;
                        if (i < n && s[i] == '_')
                                i++;
                } else if (s[i] == '-') {
                        while (i < n && s[i] == '-')
                                i++;
                } else {
                        return false;
                }
                if (i >= n || !is_lower_alnum(s[i]))
                        return false;
        }
        return true;
}

static bool valid_domain(const char *s, size_t n)
{
        size_t i;
        bool port = false;

        if (n == 0)
                return false;
        for (i = 0; i < n; i++) {
                char c = s[i];

                if (c == ':') {
                        if (port || i + 1 >= n)
                                return false;
                        port = true;
                        continue;
                }
                if (port) {
                        if (!isdigit((unsigned char)c))
                                return false;
                        continue;
                }
                if (!(isalnum((unsigned char)c) || c == '-' || c == '.'))
                        return false;
        }
        return true;
}

static bool valid_tag(const char *t)
{
        size_t i, n = strlen(t);

        if (n == 0 || n > 128)
                return false;
        if (!(isalnum((unsigned char)t[0]) || t[0] == '_'))
                return false;
        for (i = 1; i < n; i++)
                if (!(isalnum((unsigned char)t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
                        return false;
        return true;
}

void storage_ref_release(struct storage_ref *r)
{
        if (!r)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        memset(r, 0, sizeof(*r));
}

int storage_ref_parse(const char *in, struct storage_ref *ret, struct berth_err *err)
{
        _cleanup_free_ char *s = NULL;
        char *at, *name, *slash, *colon, *p;
        struct storage_ref r = { 0 };
        size_t i;

        if (!in || !*in)
                return berth_err_pub(err, EINVAL, "invalid reference format");
        s = xstrdup(in);
        at = strchr(s, '@');
        if (at) {
                *at++ = '\0';
                if (!st_digest_hex(at)) {
                        if (!berth_str_has_prefix(at, "sha256:"))
                                return berth_err_pub(err, EINVAL, "invalid reference format");
                        return berth_err_pub(err, EINVAL,
                                             "invalid reference format: invalid checksum digest "
                                             "format");
                }
                r.digest = xstrdup(at);
        }
        name = s;
        /* the tag is after the last ':' that follows the last '/' */
        slash = strrchr(name, '/');
        colon = strrchr(slash ? slash : name, ':');
        if (colon) {
                *colon++ = '\0';
                if (!valid_tag(colon)) {
                        storage_ref_release(&r);
                        return berth_err_pub(err, EINVAL, "invalid reference format");
                }
                r.tag = xstrdup(colon);
        }
        if (strlen(name) > 255) {
                storage_ref_release(&r);
                return berth_err_pub(err, EINVAL,
                                     "invalid reference format: repository name must not be more "
                                     "than 255 characters");
        }
        if (st_is_hex(name, ST_HEX_LEN)) {
                storage_ref_release(&r);
                return berth_err_pub(err, EINVAL,
                                     "invalid repository name (%s), cannot specify 64-byte "
                                     "hexadecimal strings", name);
        }
        /* domain: first component when it looks like a host */
        slash = strchr(name, '/');
        if (slash && (memchr(name, '.', (size_t)(slash - name)) ||
                      memchr(name, ':', (size_t)(slash - name)) ||
                      ((size_t)(slash - name) == 9 && !strncmp(name, "localhost", 9)) ||
                      ({
                              bool up = false;

                              for (p = name; p < slash; p++)
                                      if (isupper((unsigned char)*p))
                                              up = true;
                              up;
                      }))) {
                if (!valid_domain(name, (size_t)(slash - name))) {
                        storage_ref_release(&r);
                        return berth_err_pub(err, EINVAL, "invalid reference format");
                }
                r.domain = xstrndup(name, (size_t)(slash - name));
                name = slash + 1;
        } else {
                r.domain = xstrdup(DEFAULT_DOMAIN);
        }
        if (!strcmp(r.domain, "index.docker.io")) {
                free(r.domain);
                r.domain = xstrdup(DEFAULT_DOMAIN);
        }
        /* path components */
        p = name;
        for (;;) {
                char *e = strchr(p, '/');
                size_t n = e ? (size_t)(e - p) : strlen(p);

                for (i = 0; i < n; i++)
                        if (isupper((unsigned char)p[i])) {
                                storage_ref_release(&r);
                                return berth_err_pub(err, EINVAL,
                                                     "invalid reference format: repository name "
                                                     "must be lowercase");
                        }
                if (!valid_component(p, n)) {
                        storage_ref_release(&r);
                        return berth_err_pub(err, EINVAL, "invalid reference format");
                }
                if (!e)
                        break;
                p = e + 1;
        }
        if (!strcmp(r.domain, DEFAULT_DOMAIN) && !strchr(name, '/'))
                r.path = xasprintf("library/%s", name);
        else
                r.path = xstrdup(name);
        if (!r.tag && !r.digest)
                r.tag = xstrdup("latest");
        *ret = r;
        return 0;
}

char *storage_ref_full(const struct storage_ref *r)
{
        if (r->digest)
                return xasprintf("%s/%s@%s", r->domain, r->path, r->digest);
        return xasprintf("%s/%s:%s", r->domain, r->path, r->tag ? r->tag : "latest");
}

char *storage_ref_familiar_name(const struct storage_ref *r)
{
        if (!strcmp(r->domain, DEFAULT_DOMAIN)) {
                if (berth_str_has_prefix(r->path, "library/") && !strchr(r->path + 8, '/'))
                        return xstrdup(r->path + 8);
                return xstrdup(r->path);
        }
        return xasprintf("%s/%s", r->domain, r->path);
}

char *storage_ref_familiar(const struct storage_ref *r)
{
        _cleanup_free_ char *n = storage_ref_familiar_name(r);

        if (r->digest)
                return xasprintf("%s@%s", n, r->digest);
        return xasprintf("%s:%s", n, r->tag ? r->tag : "latest");
}

char *st_chain_id(const char *parent_chain, const char *diff_id)
{
        _cleanup_free_ char *s = NULL;

        if (!parent_chain || !*parent_chain)
                return xstrdup(diff_id);
        s = xasprintf("%s %s", parent_chain, diff_id);
        return storage_sha256_digest(s, strlen(s));
}
