/* SPDX-License-Identifier: Apache-2.0
 * dns/table.c -- the record table: per network, lowercase names -> the
 * endpoints holding them (A/AAAA sets), addresses -> endpoint (PTR).
 * Lookups follow Docker's ResolveName split of "a.b.c" over network names. */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <string.h>

#include "dns/dns-internal.h"
#include "lib/lib.h"

/* ---- a small chained hash table with string keys ---- */
struct hent {
        struct hent *next;
        uint32_t hash;
        char *key;
        void *val;
};
struct htab {
        struct hent **b;
        size_t nb, n;
};

static uint32_t hash_str(const char *s)
{
        uint32_t h = 2166136261u;

        for (; *s; s++)
                h = (h ^ (uint8_t)*s) * 16777619u;
        return h;
}

static struct hent **htab_slot(const struct htab *h, const char *key, uint32_t hv)
{
        struct hent **p;

        if (!h->nb)
                return NULL;
        for (p = &h->b[hv & (h->nb - 1)]; *p; p = &(*p)->next)
                if ((*p)->hash == hv && !strcmp((*p)->key, key))
                        return p;
        return p;
}

static void *htab_get(const struct htab *h, const char *key)
{
        struct hent **p = htab_slot(h, key, hash_str(key));

        return p && *p ? (*p)->val : NULL;
}

static void htab_grow(struct htab *h)
{
        size_t nb = h->nb ? h->nb * 2 : 16;
        struct hent **b = xcalloc(nb, sizeof(*b));

        for (size_t i = 0; i < h->nb; i++) {
                struct hent *e = h->b[i], *next;

                for (; e; e = next) {
                        next = e->next;
                        e->next = b[e->hash & (nb - 1)];
                        b[e->hash & (nb - 1)] = e;
                }
        }
        free(h->b);
        h->b = b;
        h->nb = nb;
}

/* Set key to val (replacing). */
static void htab_put(struct htab *h, const char *key, void *val)
{
        uint32_t hv = hash_str(key);
        struct hent **p, *e;

        if (h->n + 1 > h->nb)
                htab_grow(h);
        p = htab_slot(h, key, hv);
        if (*p) {
                (*p)->val = val;
                return;
        }
        e = xcalloc(1, sizeof(*e));
        e->hash = hv;
        e->key = xstrdup(key);
        e->val = val;
        *p = e;
        h->n++;
}

static void *htab_del(struct htab *h, const char *key)
{
        struct hent **p = htab_slot(h, key, hash_str(key)), *e;
        void *val;

        if (!p || !*p)
                return NULL;
        e = *p;
        *p = e->next;
        val = e->val;
        free(e->key);
        free(e);
        h->n--;
        return val;
}

static void htab_release(struct htab *h, void (*free_val)(void *))
{
        for (size_t i = 0; i < h->nb; i++) {
                struct hent *e = h->b[i], *next;

                for (; e; e = next) {
                        next = e->next;
                        if (free_val)
                                free_val(e->val);
                        free(e->key);
                        free(e);
                }
        }
        free(h->b);
        memset(h, 0, sizeof(*h));
}

/* ---- the table ---- */
struct ep {
        char *id;
        char **names;           /* as given; names[0] is the PTR target */
        char **lnames;          /* lowercase, deduplicated */
        size_t n_names, n_lnames;
        bool has4, has6;
        struct in_addr v4;
        struct in6_addr v6;
};

struct name_ent {
        struct ep **eps;
        size_t n, cap;
};

struct net {
        char *name;
        bool internal;
        struct dns_subnet *subnets;
        size_t n_subnets;
        struct htab names;      /* lowercase name -> struct name_ent */
        struct htab eps;        /* id -> struct ep */
        struct htab ptr;        /* inet_ntop text -> struct ep */
};

struct dns_table {
        struct htab nets;       /* lowercase network name -> struct net */
};

static void lower_copy(char *out, size_t outlen, const char *s)
{
        size_t i;

        for (i = 0; s[i] && i < outlen - 1; i++)
                out[i] = (char)tolower((unsigned char)s[i]);
        out[i] = '\0';
}

static void ep_free(void *p)
{
        struct ep *e = p;

        if (!e)
                return;
        for (size_t i = 0; i < e->n_names; i++)
                free(e->names[i]);
        for (size_t i = 0; i < e->n_lnames; i++)
                free(e->lnames[i]);
        free(e->names);
        free(e->lnames);
        free(e->id);
        free(e);
}

static void name_ent_free(void *p)
{
        struct name_ent *n = p;

        if (n)
                free(n->eps);
        free(n);
}

static void net_free(void *p)
{
        struct net *n = p;

        if (!n)
                return;
        htab_release(&n->names, name_ent_free);
        htab_release(&n->ptr, NULL);
        htab_release(&n->eps, ep_free);
        free(n->subnets);
        free(n->name);
        free(n);
}

struct dns_table *dns_table_new(void)
{
        return xcalloc(1, sizeof(struct dns_table));
}

void dns_table_free(struct dns_table *t)
{
        if (!t)
                return;
        htab_release(&t->nets, net_free);
        free(t);
}

static struct net *net_get(struct dns_table *t, const char *name)
{
        char l[DNS_MAX_NAME + 1];

        lower_copy(l, sizeof(l), name);
        return htab_get(&t->nets, l);
}

static bool valid_name(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 250)
                return false;
        for (; *s; s++)
                if ((unsigned char)*s <= ' ' || (unsigned char)*s > '~')
                        return false;
        return true;
}

int dns_table_network_add(struct dns_table *t, const struct dns_network_config *cfg,
                          struct berth_err *err)
{
        char l[DNS_MAX_NAME + 1];
        struct net *n;

        if (!cfg->name || !valid_name(cfg->name))
                return berth_err_set(err, EINVAL, "invalid network name for dns");
        for (size_t i = 0; i < cfg->n_subnets; i++) {
                const struct dns_subnet *sn = &cfg->subnets[i];

                if ((sn->family != AF_INET && sn->family != AF_INET6) ||
                    sn->prefixlen > (sn->family == AF_INET ? 32u : 128u))
                        return berth_err_set(err, EINVAL, "network '%s': bad subnet", cfg->name);
        }
        lower_copy(l, sizeof(l), cfg->name);
        if (htab_get(&t->nets, l))
                return berth_err_set(err, EEXIST, "network '%s' already has dns records", cfg->name);
        n = xcalloc(1, sizeof(*n));
        n->name = xstrdup(cfg->name);
        n->internal = cfg->internal;
        if (cfg->n_subnets) {
                n->subnets = xcalloc(cfg->n_subnets, sizeof(*n->subnets));
                memcpy(n->subnets, cfg->subnets, cfg->n_subnets * sizeof(*n->subnets));
                n->n_subnets = cfg->n_subnets;
        }
        htab_put(&t->nets, l, n);
        return 0;
}

int dns_table_network_remove(struct dns_table *t, const char *network, struct berth_err *err)
{
        char l[DNS_MAX_NAME + 1];
        struct net *n;

        lower_copy(l, sizeof(l), network);
        n = htab_del(&t->nets, l);
        if (!n)
                return berth_err_set(err, ENOENT, "network '%s' has no dns records", network);
        net_free(n);
        return 0;
}

int dns_table_network_rename(struct dns_table *t, const char *network, const char *new_name,
                             struct berth_err *err)
{
        char l[DNS_MAX_NAME + 1];
        struct net *n;

        if (!valid_name(new_name))
                return berth_err_set(err, EINVAL, "invalid network name for dns");
        if (net_get(t, new_name))
                return berth_err_set(err, EEXIST, "network '%s' already has dns records", new_name);
        lower_copy(l, sizeof(l), network);
        n = htab_del(&t->nets, l);
        if (!n)
                return berth_err_set(err, ENOENT, "network '%s' has no dns records", network);
        free(n->name);
        n->name = xstrdup(new_name);
        lower_copy(l, sizeof(l), new_name);
        htab_put(&t->nets, l, n);
        return 0;
}

bool dns_table_network_exists(struct dns_table *t, const char *network)
{
        return net_get(t, network) != NULL;
}

bool dns_table_network_internal(struct dns_table *t, const char *network)
{
        struct net *n = net_get(t, network);

        return n && n->internal;
}

static void addr_key(int family, const void *addr, char *out, size_t outlen)
{
        if (!inet_ntop(family, addr, out, (socklen_t)outlen))
                out[0] = '\0';
}

static void ep_unlink(struct net *n, struct ep *e)
{
        char key[INET6_ADDRSTRLEN];

        for (size_t i = 0; i < e->n_lnames; i++) {
                struct name_ent *ne = htab_get(&n->names, e->lnames[i]);

                if (!ne)
                        continue;
                for (size_t k = 0; k < ne->n; k++) {
                        if (ne->eps[k] == e) {
                                /* keep the order of the others: it does not
                                 * matter for answers (shuffled), but is stable */
                                memmove(ne->eps + k, ne->eps + k + 1, (ne->n - k - 1) * sizeof(*ne->eps));
                                ne->n--;
                                break;
                        }
                }
                if (!ne->n)
                        name_ent_free(htab_del(&n->names, e->lnames[i]));
        }
        if (e->has4) {
                addr_key(AF_INET, &e->v4, key, sizeof(key));
                if (htab_get(&n->ptr, key) == e)
                        htab_del(&n->ptr, key);
        }
        if (e->has6) {
                addr_key(AF_INET6, &e->v6, key, sizeof(key));
                if (htab_get(&n->ptr, key) == e)
                        htab_del(&n->ptr, key);
        }
}

int dns_table_endpoint_add(struct dns_table *t, const char *network,
                           const struct dns_endpoint_config *cfg, struct berth_err *err)
{
        struct net *n = net_get(t, network);
        char key[INET6_ADDRSTRLEN];
        struct ep *e, *old;

        if (!n)
                return berth_err_set(err, ENOENT, "network '%s' has no dns records", network);
        if (!cfg->id || !*cfg->id || !cfg->n_names)
                return berth_err_set(err, EINVAL, "dns endpoint needs an id and a name");
        for (size_t i = 0; i < cfg->n_names; i++)
                if (!cfg->names[i] || !valid_name(cfg->names[i]))
                        return berth_err_set(err, EINVAL, "invalid dns name for endpoint '%s'", cfg->id);
        e = xcalloc(1, sizeof(*e));
        e->id = xstrdup(cfg->id);
        e->names = xcalloc(cfg->n_names, sizeof(char *));
        e->lnames = xcalloc(cfg->n_names, sizeof(char *));
        for (size_t i = 0; i < cfg->n_names; i++) {
                char l[DNS_MAX_NAME + 1];
                bool dup = false;

                e->names[e->n_names++] = xstrdup(cfg->names[i]);
                lower_copy(l, sizeof(l), cfg->names[i]);
                for (size_t k = 0; k < e->n_lnames; k++)
                        dup = dup || !strcmp(e->lnames[k], l);
                if (!dup)
                        e->lnames[e->n_lnames++] = xstrdup(l);
        }
        if (cfg->v4) {
                e->has4 = true;
                e->v4 = *cfg->v4;
        }
        if (cfg->v6) {
                e->has6 = true;
                e->v6 = *cfg->v6;
        }
        old = htab_get(&n->eps, cfg->id);
        if (old) {
                ep_unlink(n, old);
                ep_free(old);
        }
        htab_put(&n->eps, e->id, e);
        for (size_t i = 0; i < e->n_lnames; i++) {
                struct name_ent *ne = htab_get(&n->names, e->lnames[i]);

                if (!ne) {
                        ne = xcalloc(1, sizeof(*ne));
                        htab_put(&n->names, e->lnames[i], ne);
                }
                if (ne->n == ne->cap) {
                        ne->cap = ne->cap ? ne->cap * 2 : 2;
                        ne->eps = xrealloc(ne->eps, ne->cap * sizeof(*ne->eps));
                }
                ne->eps[ne->n++] = e;
        }
        if (e->has4) {
                addr_key(AF_INET, &e->v4, key, sizeof(key));
                htab_put(&n->ptr, key, e);
        }
        if (e->has6) {
                addr_key(AF_INET6, &e->v6, key, sizeof(key));
                htab_put(&n->ptr, key, e);
        }
        return 0;
}

int dns_table_endpoint_remove(struct dns_table *t, const char *network, const char *id,
                              struct berth_err *err)
{
        struct net *n = net_get(t, network);
        struct ep *e;

        if (!n)
                return berth_err_set(err, ENOENT, "network '%s' has no dns records", network);
        e = htab_del(&n->eps, id);
        if (!e)
                return berth_err_set(err, ENOENT, "no dns endpoint '%s' on network '%s'", id, network);
        ep_unlink(n, e);
        ep_free(e);
        return 0;
}

static bool lookup_in(struct net *n, const char *name, size_t len, struct dns_lookup *ret)
{
        char key[DNS_MAX_NAME + 1];
        struct name_ent *ne;

        if (len > DNS_MAX_NAME)
                return false;
        memcpy(key, name, len);
        key[len] = '\0';
        ne = htab_get(&n->names, key);
        if (!ne)
                return false;
        ret->found = true;
        for (size_t i = 0; i < ne->n; i++) {
                const struct ep *e = ne->eps[i];
                bool dup = false;

                if (e->has4 && ret->n4 < DNS_MAX_ADDRS) {
                        for (size_t k = 0; k < ret->n4 && !dup; k++)
                                dup = ret->v4[k].s_addr == e->v4.s_addr;
                        if (!dup)
                                ret->v4[ret->n4++] = e->v4;
                }
                dup = false;
                if (e->has6 && ret->n6 < DNS_MAX_ADDRS) {
                        for (size_t k = 0; k < ret->n6 && !dup; k++)
                                dup = !memcmp(&ret->v6[k], &e->v6, sizeof(e->v6));
                        if (!dup)
                                ret->v6[ret->n6++] = e->v6;
                }
        }
        return true;
}

void dns_table_resolve(struct dns_table *t, const char *const *nets, size_t n_nets,
                       const char *name, struct dns_lookup *ret)
{
        size_t len = strlen(name);

        ret->found = false;
        ret->n4 = ret->n6 = 0;
        if (!len)
                return;
        /* 1. the whole name on every network of the scope, first match wins */
        for (size_t i = 0; i < n_nets; i++) {
                struct net *n = net_get(t, nets[i]);

                if (n && lookup_in(n, name, len, ret))
                        return;
        }
        /* 2. "prefix" on the scope network named "suffix", at every dot */
        for (size_t d = 0; d < len; d++) {
                if (name[d] != '.' || d == 0 || d + 1 >= len)
                        continue;
                for (size_t i = 0; i < n_nets; i++) {
                        char l[DNS_MAX_NAME + 1];
                        struct net *n;

                        lower_copy(l, sizeof(l), nets[i]);
                        if (strcmp(l, name + d + 1))
                                continue;
                        n = htab_get(&t->nets, l);
                        if (n && lookup_in(n, name, d, ret))
                                return;
                }
        }
}

static bool in_subnet(const struct dns_subnet *sn, int family, const uint8_t *addr)
{
        const uint8_t *net = sn->family == AF_INET ? (const uint8_t *)&sn->addr.v4
                                                   : (const uint8_t *)&sn->addr.v6;
        unsigned bits = sn->prefixlen;

        if (sn->family != family)
                return false;
        for (unsigned i = 0; bits; i++) {
                unsigned b = bits >= 8 ? 8 : bits;
                uint8_t mask = (uint8_t)(0xff << (8 - b));

                if ((net[i] & mask) != (addr[i] & mask))
                        return false;
                bits -= b;
        }
        return true;
}

int dns_table_reverse(struct dns_table *t, const char *const *nets, size_t n_nets, int family,
                      const uint8_t *addr, char *out, size_t outlen)
{
        char key[INET6_ADDRSTRLEN];

        addr_key(family, addr, key, sizeof(key));
        for (size_t i = 0; i < n_nets; i++) {
                struct net *n = net_get(t, nets[i]);
                struct ep *e;

                if (!n)
                        continue;
                e = htab_get(&n->ptr, key);
                if (e) {
                        snprintf(out, outlen, "%s.%s", e->names[0], n->name);
                        return 1;
                }
        }
        for (size_t b = 0; b < t->nets.nb; b++)
                for (struct hent *h = t->nets.b[b]; h; h = h->next) {
                        const struct net *n = h->val;

                        for (size_t i = 0; i < n->n_subnets; i++)
                                if (in_subnet(&n->subnets[i], family, addr))
                                        return 0;
                }
        return -ENOENT;
}
