/* The daemon's domains: every persistent definition (one NAME.xml each in the config dir,
 * autostart as a symlink beside it, as libvirt keeps them) and, later, the running ones.
 * Lookups by name, uuid and id are hash lookups; nothing here blocks on a guest. */
#pragma once

#include "domain-def.h"

#include <glib.h>

G_BEGIN_DECLS

/* virDomainState and the shut-off reasons we report. */
enum {
    DOMAIN_STATE_NOSTATE = 0,
    DOMAIN_STATE_RUNNING = 1,
    DOMAIN_STATE_BLOCKED = 2,
    DOMAIN_STATE_PAUSED = 3,
    DOMAIN_STATE_SHUTDOWN = 4,
    DOMAIN_STATE_SHUTOFF = 5,
    DOMAIN_STATE_CRASHED = 6,
    DOMAIN_STATE_PMSUSPENDED = 7,
};

typedef struct DomainRuntime DomainRuntime;

typedef struct {
    HearthDomainDef *def;  /* the persistent (inactive) definition */
    HearthDomainDef *live; /* the running definition; NULL while shut off */
    gboolean persistent;
    gboolean autostart;
    gboolean updated; /* persistent definition changed while running */
    gint32 id;        /* -1 while inactive */
    int state;
    int reason;
    DomainRuntime *runtime; /* the worker while starting or running (domain-runner.c) */
} HearthDomain;

typedef struct DomainStore DomainStore;

DomainStore *domain_store_new(const char *domain_dir, const char *autostart_dir);
void domain_store_free(DomainStore *store);

/* Load every NAME.xml; a file that does not parse, or clashes with one already loaded, is
 * logged and renamed NAME.xml.corrupt-TIME so it can neither block start nor be lost. */
void domain_store_load(DomainStore *store);

guint domain_store_count(DomainStore *store);
HearthDomain *domain_store_lookup_by_name(DomainStore *store, const char *name);
HearthDomain *domain_store_lookup_by_uuid(DomainStore *store, const guint8 *uuid);
HearthDomain *domain_store_lookup_by_id(DomainStore *store, gint32 id);

/* All domains, active ones by id first, then inactive ones by name (virsh's order). */
GPtrArray *domain_store_list(DomainStore *store);

/* The definition a query should show: live when running, else the persistent one. */
const HearthDomainDef *hearth_domain_current_def(const HearthDomain *dom);
gboolean hearth_domain_is_active(const HearthDomain *dom);

/* Define or redefine (takes def). *is_new tells which for the DEFINED event detail. */
HearthDomain *domain_store_define(DomainStore *store, HearthDomainDef *def, gboolean *is_new,
                                  GError **error);
/* Replace the persistent definition with an edited copy (takes def), written to disk first so
 * memory and disk never disagree. Name and uuid must stay the same. */
gboolean domain_store_replace_def(DomainStore *store, HearthDomain *dom, HearthDomainDef *def,
                                  GError **error);
/* Remove the persistent definition; an inactive domain is freed and must not be used. */
gboolean domain_store_undefine(DomainStore *store, HearthDomain *dom, GError **error);
gboolean domain_store_set_autostart(DomainStore *store, HearthDomain *dom, gboolean autostart,
                                    GError **error);
/* A domain that exists only while running (CREATE_XML). Takes def; checks name/uuid clashes. */
HearthDomain *domain_store_add_transient(DomainStore *store, HearthDomainDef *def, GError **error);
/* Forget a transient domain that stopped (frees it). */
void domain_store_remove(DomainStore *store, HearthDomain *dom);
/* Mark running with an id (>= 1) or shut off (-1), keeping the id index true. */
void domain_store_set_id(DomainStore *store, HearthDomain *dom, gint32 id);

gboolean domain_store_rename(DomainStore *store, HearthDomain *dom, const char *new_name,
                             GError **error);

G_END_DECLS
