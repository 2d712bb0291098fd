#include "blockjob-chain.h"

#include <stdlib.h>
#include <string.h>

/* Node numbers handed out per domain (uuid → last number + 1) while hearthd runs. */
static GHashTable *next_numbers;

static void attr_free(gpointer p)
{
    HearthXmlAttr *a = p;

    g_free(a->name);
    g_free(a->value);
    g_free(a);
}

/* The top image keeps its number as an index='' attribute of <source> (the definition models
 * it only for <backingStore>). */
static HearthXmlAttr *top_index_attr(const HearthDomainDisk *disk, guint *pos)
{
    GPtrArray *attrs = disk->src.source_extra.attrs;

    for (guint i = 0; attrs && i < attrs->len; i++) {
        HearthXmlAttr *a = attrs->pdata[i];

        if (g_str_equal(a->name, "index")) {
            if (pos)
                *pos = i;
            return a;
        }
    }
    return NULL;
}

int chain_layer_index(const HearthDomainDisk *disk, const HearthDiskSource *layer)
{
    if (layer == &disk->src) {
        HearthXmlAttr *a = top_index_attr(disk, NULL);
        char *end;
        long v;

        if (!a)
            return -1;
        v = strtol(a->value, &end, 10);
        return (*end || v < 0 || v > G_MAXINT) ? -1 : (int)v;
    }
    return layer->index;
}

void chain_layer_set_index(HearthDomainDisk *disk, HearthDiskSource *layer, int index)
{
    HearthXmlExtra *extra = &disk->src.source_extra;
    guint pos;
    HearthXmlAttr *a;

    if (layer != &disk->src) {
        layer->index = index;
        return;
    }
    a = top_index_attr(disk, &pos);
    if (index < 0) {
        if (a)
            g_ptr_array_remove_index(extra->attrs, pos);
        return;
    }
    if (!a) {
        if (!extra->attrs)
            extra->attrs = g_ptr_array_new_with_free_func(attr_free);
        a = g_new0(HearthXmlAttr, 1);
        a->name = g_strdup("index");
        g_ptr_array_add(extra->attrs, a);
    }
    g_free(a->value);
    a->value = g_strdup_printf("%d", index);
}

static HearthDomainDisk *nth_disk(const HearthDomainDef *def, guint *i)
{
    for (; def->devices && *i < def->devices->len; (*i)++) {
        HearthDomainDevice *dev = def->devices->pdata[*i];

        if (dev->kind == HEARTH_DEVICE_DISK)
            return dev->u.disk;
    }
    return NULL;
}

#define FOREACH_DISK(def, disk) for (guint _i = 0; ((disk) = nth_disk((def), &_i)) != NULL; _i++)

void blockjob_chain_number(HearthDomainDef *live)
{
    HearthDomainDisk *disk;
    int n = 1;

    FOREACH_DISK(live, disk)
    {
        if (!disk->src.path)
            continue;
        for (HearthDiskSource *l = &disk->src; l && l->path; l = l->backing)
            chain_layer_set_index(disk, l, n++);
    }
}

void chain_strip_indices(HearthDomainDef *def)
{
    HearthDomainDisk *disk;

    FOREACH_DISK(def, disk)
    {
        for (HearthDiskSource *l = &disk->src; l; l = l->backing)
            chain_layer_set_index(disk, l, -1);
    }
}

HearthDomainDisk *chain_find_disk(const HearthDomainDef *def, const char *name)
{
    HearthDomainDisk *disk;

    if (!name)
        return NULL;
    FOREACH_DISK(def, disk)
    {
        if (g_strcmp0(disk->target_dev, name) == 0)
            return disk;
    }
    FOREACH_DISK(def, disk)
    {
        if (disk->src.path && g_str_equal(disk->src.path, name))
            return disk;
    }
    return NULL;
}

HearthDiskSource *chain_layer_by_index(HearthDomainDisk *disk, int index, HearthDiskSource **above)
{
    HearthDiskSource *prev = NULL;

    for (HearthDiskSource *l = &disk->src; l && l->path; prev = l, l = l->backing) {
        if (chain_layer_index(disk, l) == index) {
            if (above)
                *above = prev;
            return l;
        }
    }
    return NULL;
}

HearthDiskSource *chain_find_layer(HearthDomainDisk *disk, const char *name,
                                   HearthDiskSource **above)
{
    const char *br = strchr(name, '[');
    HearthDiskSource *prev = NULL;

    if (g_strcmp0(name, disk->target_dev) == 0) {
        if (above)
            *above = NULL;
        return &disk->src;
    }
    /* vda[3] or [3]: by node number, as libvirt accepts. */
    if (br && g_str_has_suffix(name, "]") &&
        (br == name || strncmp(name, disk->target_dev, (gsize)(br - name)) == 0)) {
        char *end;
        long v = strtol(br + 1, &end, 10);

        if (end != br + 1 && *end == ']' && v >= 0 && v <= G_MAXINT)
            return chain_layer_by_index(disk, (int)v, above);
        return NULL;
    }
    for (HearthDiskSource *l = &disk->src; l && l->path; prev = l, l = l->backing) {
        if (g_str_equal(l->path, name)) {
            if (above)
                *above = prev;
            return l;
        }
    }
    return NULL;
}

gboolean chain_layer_is_below(const HearthDiskSource *upper, const HearthDiskSource *lower)
{
    for (const HearthDiskSource *l = upper->backing; l; l = l->backing) {
        if (l == lower)
            return TRUE;
    }
    return FALSE;
}

static int max_index(const HearthDomainDef *def)
{
    HearthDomainDisk *disk;
    int max = 0;

    FOREACH_DISK(def, disk)
    {
        for (HearthDiskSource *l = &disk->src; l; l = l->backing)
            max = MAX(max, chain_layer_index(disk, l));
    }
    return max;
}

static guint uuid_hash(gconstpointer key)
{
    guint h;

    memcpy(&h, key, sizeof(h));
    return h;
}

static gboolean uuid_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

int chain_next_index(const HearthDomain *dom)
{
    const HearthDomainDef *def = dom->live ? dom->live : dom->def;
    int next = max_index(def) + 1;
    gpointer stored;

    if (!next_numbers)
        next_numbers = g_hash_table_new_full(uuid_hash, uuid_equal, g_free, NULL);
    stored = g_hash_table_lookup(next_numbers, def->uuid);
    if (stored && GPOINTER_TO_INT(stored) > next)
        next = GPOINTER_TO_INT(stored);
    g_hash_table_insert(next_numbers, g_memdup2(def->uuid, 16), GINT_TO_POINTER(next + 1));
    return next;
}

/* One layer's own fields (not the layers below it). */
static void layer_clear(HearthDiskSource *l)
{
    g_clear_pointer(&l->format, g_free);
    g_clear_pointer(&l->path, g_free);
    g_clear_pointer(&l->startup_policy, g_free);
    g_clear_pointer(&l->source_xml, g_free);
    g_clear_pointer(&l->source_extra.attrs, g_ptr_array_unref);
    g_clear_pointer(&l->source_extra.children, g_ptr_array_unref);
    g_clear_pointer(&l->extra.attrs, g_ptr_array_unref);
    g_clear_pointer(&l->extra.children, g_ptr_array_unref);
}

static void layer_free(HearthDiskSource *l)
{
    layer_clear(l);
    g_free(l);
}

void chain_push_overlay(HearthDomainDisk *disk, const char *path, const char *format, int index)
{
    HearthDiskSource *old = g_new0(HearthDiskSource, 1);
    int old_index = chain_layer_index(disk, &disk->src);

    /* The old top moves down whole; its number moves from <source> to <backingStore>. */
    chain_layer_set_index(disk, &disk->src, -1);
    *old = disk->src;
    old->index = old_index;
    if (!old->format)
        old->format = g_strdup("raw");
    memset(&disk->src, 0, sizeof(disk->src));
    disk->src.type = HEARTH_DISK_TYPE_FILE;
    disk->src.path = g_strdup(path);
    disk->src.format = g_strdup(format);
    disk->src.has_source = TRUE;
    disk->src.index = -1;
    disk->src.backing = old;
    /* A repeated <source> and the like belong to the image they were written for. */
    disk->has_driver = TRUE;
    if (!disk->driver_name)
        disk->driver_name = g_strdup("qemu");
    if (index >= 0)
        chain_layer_set_index(disk, &disk->src, index);
}

void chain_drop_between(HearthDiskSource *upper, HearthDiskSource *lower)
{
    HearthDiskSource *l = upper->backing;

    while (l && l != lower) {
        HearthDiskSource *next = l->backing;

        layer_free(l);
        l = next;
    }
    upper->backing = lower;
    if (!lower)
        upper->backing_end = TRUE;
}

void chain_pivot(HearthDomainDisk *disk, HearthDiskSource *base)
{
    int base_index = base->index;
    HearthDiskSource moved = *base;

    if (base == &disk->src)
        return;
    /* Free everything from the top down to base, then make base the top. */
    chain_drop_between(&disk->src, base);
    layer_clear(&disk->src);
    disk->src = moved;
    disk->src.index = -1;
    g_free(base);
    chain_layer_set_index(disk, &disk->src, base_index);
}

void chain_forget_backing(HearthDomainDisk *disk)
{
    HearthDiskSource *l = disk->src.backing;

    while (l) {
        HearthDiskSource *next = l->backing;

        layer_free(l);
        l = next;
    }
    disk->src.backing = NULL;
    disk->src.backing_end = FALSE;
}

GPtrArray *chain_paths(const HearthDomainDisk *disk)
{
    GPtrArray *out = g_ptr_array_new();

    for (const HearthDiskSource *l = &disk->src; l && l->path; l = l->backing)
        g_ptr_array_add(out, l->path);
    return out;
}
