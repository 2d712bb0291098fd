/* The <devices> list: dispatch by element name, shared alias/boot/address handling. */
#include "domain-internal.h"

int device_info_parse_child(HearthDeviceInfo *info, XNode *c, gboolean boot_ok, GError **error)
{
    if (xml_is(c, "alias")) {
        const char *name = xml_prop(c, "name");

        /* Anything beyond name='' would be lost, so such an alias stays verbatim. */
        if (!name || info->alias || c->properties->next || xml_first_element(c))
            return 0;
        info->alias = g_strdup(name);
        return 1;
    }
    if (boot_ok && xml_is(c, "boot")) {
        guint64 order = 0;

        if (info->boot_order || c->properties == NULL || c->properties->next ||
            xml_first_element(c) || !xml_prop(c, "order"))
            return 0;
        if (!conf_parse_uint(xml_prop(c, "order"), G_MAXINT, &order) || order == 0) {
            conf_error(error, HEARTH_ERR_XML_ERROR,
                       _("invalid boot order '%s' in <%s>: expected a positive integer"),
                       xml_prop(c, "order"), (const char *)c->parent->name);
            return -1;
        }
        info->boot_order = (guint)order;
        return 1;
    }
    if (xml_is(c, "address") && !info->address) {
        info->address = xml_node_serialize(c, FALSE);
        return 1;
    }
    return 0;
}

void device_info_format(GString *buf, int level, const HearthDeviceInfo *info, guint flags)
{
    if (info->boot_order) {
        xml_buf_indent(buf, level);
        g_string_append_printf(buf, "<boot order='%u'/>\n", info->boot_order);
    }
    /* Inactive XML keeps only user-chosen aliases, as libvirt does. */
    if (info->alias &&
        (!(flags & DOMAIN_DEF_FORMAT_INACTIVE) || g_str_has_prefix(info->alias, "ua-"))) {
        xml_buf_indent(buf, level);
        g_string_append(buf, "<alias");
        xml_buf_attr(buf, "name", info->alias);
        g_string_append(buf, "/>\n");
    }
    if (info->address)
        xml_buf_fragment(buf, level, info->address);
}

void device_tail_format(GString *buf, int level, const HearthDeviceInfo *info,
                        const HearthXmlExtra *extra, guint flags)
{
    HearthDeviceInfo no_address = *info;

    no_address.address = NULL;
    device_info_format(buf, level, &no_address, flags);
    xml_extra_format_children_named(buf, level, extra, "address", FALSE);
    if (info->address)
        xml_buf_fragment(buf, level, info->address);
    xml_extra_format_children_named(buf, level, extra, "address", TRUE);
}

void device_info_clear(HearthDeviceInfo *info)
{
    g_clear_pointer(&info->alias, g_free);
    g_clear_pointer(&info->address, g_free);
}

#define DEVICE_NEW(dev, field, type_, parse)                                                       \
    do {                                                                                           \
        (dev)->u.field = g_new0(type_, 1);                                                         \
        if (!parse(node, (dev)->u.field, error)) {                                                 \
            domain_device_free(dev);                                                               \
            return NULL;                                                                           \
        }                                                                                          \
    } while (0)

HearthDomainDevice *domain_device_parse(XNode *node, GError **error)
{
    HearthDomainDevice *dev = g_new0(HearthDomainDevice, 1);
    const char *name = (const char *)node->name;

    if (node->ns) {
        dev->kind = HEARTH_DEVICE_OTHER;
    } else if (strcmp(name, "disk") == 0) {
        dev->kind = HEARTH_DEVICE_DISK;
        DEVICE_NEW(dev, disk, HearthDomainDisk, disk_parse);
        return dev;
    } else if (strcmp(name, "controller") == 0) {
        dev->kind = HEARTH_DEVICE_CONTROLLER;
        DEVICE_NEW(dev, controller, HearthDomainController, controller_parse);
        return dev;
    } else if (strcmp(name, "interface") == 0) {
        dev->kind = HEARTH_DEVICE_INTERFACE;
        DEVICE_NEW(dev, net, HearthDomainInterface, net_parse);
        return dev;
    } else if (strcmp(name, "serial") == 0 || strcmp(name, "console") == 0 ||
               strcmp(name, "parallel") == 0 || strcmp(name, "channel") == 0) {
        dev->kind = HEARTH_DEVICE_CHR;
        DEVICE_NEW(dev, chr, HearthDomainChr, chr_parse);
        return dev;
    } else if (strcmp(name, "input") == 0) {
        dev->kind = HEARTH_DEVICE_INPUT;
        DEVICE_NEW(dev, input, HearthDomainInput, input_parse);
        return dev;
    } else if (strcmp(name, "graphics") == 0) {
        dev->kind = HEARTH_DEVICE_GRAPHICS;
        DEVICE_NEW(dev, graphics, HearthDomainGraphics, graphics_parse);
        return dev;
    } else if (strcmp(name, "video") == 0) {
        dev->kind = HEARTH_DEVICE_VIDEO;
        DEVICE_NEW(dev, video, HearthDomainVideo, video_parse);
        return dev;
    } else if (strcmp(name, "sound") == 0) {
        dev->kind = HEARTH_DEVICE_SOUND;
        DEVICE_NEW(dev, sound, HearthDomainSound, sound_parse);
        return dev;
    } else if (strcmp(name, "memballoon") == 0) {
        dev->kind = HEARTH_DEVICE_MEMBALLOON;
        DEVICE_NEW(dev, memballoon, HearthDomainMemballoon, memballoon_parse);
        return dev;
    } else if (strcmp(name, "rng") == 0) {
        dev->kind = HEARTH_DEVICE_RNG;
        DEVICE_NEW(dev, rng, HearthDomainRng, rng_parse);
        return dev;
    }
    dev->kind = HEARTH_DEVICE_OTHER;
    dev->u.other_xml = xml_node_serialize(node, FALSE);
    return dev;
}

void domain_device_format(GString *buf, int level, const HearthDomainDevice *dev, guint flags)
{
    switch (dev->kind) {
    case HEARTH_DEVICE_DISK:
        disk_format(buf, level, dev->u.disk, flags);
        break;
    case HEARTH_DEVICE_CONTROLLER:
        controller_format(buf, level, dev->u.controller, flags);
        break;
    case HEARTH_DEVICE_INTERFACE:
        net_format(buf, level, dev->u.net, flags);
        break;
    case HEARTH_DEVICE_CHR:
        chr_format(buf, level, dev->u.chr, flags);
        break;
    case HEARTH_DEVICE_INPUT:
        input_format(buf, level, dev->u.input, flags);
        break;
    case HEARTH_DEVICE_GRAPHICS:
        graphics_format(buf, level, dev->u.graphics, flags);
        break;
    case HEARTH_DEVICE_VIDEO:
        video_format(buf, level, dev->u.video, flags);
        break;
    case HEARTH_DEVICE_SOUND:
        sound_format(buf, level, dev->u.sound, flags);
        break;
    case HEARTH_DEVICE_MEMBALLOON:
        memballoon_format(buf, level, dev->u.memballoon, flags);
        break;
    case HEARTH_DEVICE_RNG:
        rng_format(buf, level, dev->u.rng, flags);
        break;
    case HEARTH_DEVICE_OTHER:
        xml_buf_fragment(buf, level, dev->u.other_xml);
        break;
    }
}

guint domain_device_boot_order(const HearthDomainDevice *dev)
{
    switch (dev->kind) {
    case HEARTH_DEVICE_DISK:
        return dev->u.disk->info.boot_order;
    case HEARTH_DEVICE_INTERFACE:
        return dev->u.net->info.boot_order;
    case HEARTH_DEVICE_OTHER:
        /* hostdev and redirdev may carry <boot order=''/> too */
        return strstr(dev->u.other_xml, "<boot ") ? 1 : 0;
    default:
        return 0;
    }
}

void domain_device_free(HearthDomainDevice *dev)
{
    if (!dev)
        return;
    switch (dev->kind) {
    case HEARTH_DEVICE_DISK:
        disk_free(dev->u.disk);
        break;
    case HEARTH_DEVICE_CONTROLLER:
        controller_free(dev->u.controller);
        break;
    case HEARTH_DEVICE_INTERFACE:
        net_free(dev->u.net);
        break;
    case HEARTH_DEVICE_CHR:
        chr_free(dev->u.chr);
        break;
    case HEARTH_DEVICE_INPUT:
        input_free(dev->u.input);
        break;
    case HEARTH_DEVICE_GRAPHICS:
        graphics_free(dev->u.graphics);
        break;
    case HEARTH_DEVICE_VIDEO:
        video_free(dev->u.video);
        break;
    case HEARTH_DEVICE_SOUND:
        sound_free(dev->u.sound);
        break;
    case HEARTH_DEVICE_MEMBALLOON:
        memballoon_free(dev->u.memballoon);
        break;
    case HEARTH_DEVICE_RNG:
        rng_free(dev->u.rng);
        break;
    case HEARTH_DEVICE_OTHER:
        g_free(dev->u.other_xml);
        break;
    }
    g_free(dev);
}

HearthDomainDevice *domain_device_parse_xml(const char *xml, GError **error)
{
    g_autoptr(XDoc) doc = xml_safe_parse(xml, strlen(xml), error);

    if (!doc)
        return NULL;
    return domain_device_parse(doc->root, error);
}

/* Where libvirt's formatter puts each kind of device inside <devices>. */
static int device_rank(const HearthDomainDevice *dev)
{
    static const char *const others[] = {
        "lease",    "filesystem",  "smartcard", "tpm",      "audio", "hostdev",
        "redirdev", "redirfilter", "hub",       "watchdog", "panic", "shmem",
        "memory",   "iommu",       "vsock",     "crypto",   NULL,
    };
    static const int other_rank[] = {3, 4, 6, 12, 15, 17, 18, 19, 20, 21, 24, 25, 26, 27, 28, 29};

    switch (dev->kind) {
    case HEARTH_DEVICE_DISK:
        return 1;
    case HEARTH_DEVICE_CONTROLLER:
        return 2;
    case HEARTH_DEVICE_INTERFACE:
        return 5;
    case HEARTH_DEVICE_CHR:
        return 7 + (int)dev->u.chr->kind; /* serial, console, parallel, channel */
    case HEARTH_DEVICE_INPUT:
        return 11;
    case HEARTH_DEVICE_GRAPHICS:
        return 13;
    case HEARTH_DEVICE_SOUND:
        return 14;
    case HEARTH_DEVICE_VIDEO:
        return 16;
    case HEARTH_DEVICE_MEMBALLOON:
        return 22;
    case HEARTH_DEVICE_RNG:
        return 23;
    case HEARTH_DEVICE_OTHER:
    default:
        for (guint i = 0; others[i]; i++) {
            gsize n = strlen(others[i]);
            const char *x = dev->u.other_xml ? dev->u.other_xml : "";

            if (x[0] == '<' && strncmp(x + 1, others[i], n) == 0 &&
                (x[n + 1] == ' ' || x[n + 1] == '>' || x[n + 1] == '/'))
                return other_rank[i];
        }
        return 30;
    }
}

void domain_def_insert_device(HearthDomainDef *def, HearthDomainDevice *dev)
{
    int rank = device_rank(dev);
    guint at;

    if (!def->devices)
        def->devices = g_ptr_array_new_with_free_func((GDestroyNotify)domain_device_free);
    for (at = 0; at < def->devices->len; at++)
        if (device_rank(def->devices->pdata[at]) > rank)
            break;
    g_ptr_array_insert(def->devices, (gint)at, dev);
}

int domain_def_find_device(const HearthDomainDef *def, const HearthDomainDevice *dev)
{
    g_autoptr(GString) want = g_string_new(NULL);

    if (dev->kind != HEARTH_DEVICE_DISK && dev->kind != HEARTH_DEVICE_INTERFACE &&
        dev->kind != HEARTH_DEVICE_CONTROLLER)
        domain_device_format(want, 0, dev, DOMAIN_DEF_FORMAT_SECURE);
    for (guint i = 0; def->devices && i < def->devices->len; i++) {
        const HearthDomainDevice *d = def->devices->pdata[i];
        g_autoptr(GString) have = NULL;

        if (d->kind != dev->kind)
            continue;
        switch (d->kind) {
        case HEARTH_DEVICE_DISK:
            if (g_strcmp0(d->u.disk->target_dev, dev->u.disk->target_dev) == 0)
                return (int)i;
            break;
        case HEARTH_DEVICE_INTERFACE:
            if (d->u.net->mac && dev->u.net->mac &&
                g_ascii_strcasecmp(d->u.net->mac, dev->u.net->mac) == 0)
                return (int)i;
            break;
        case HEARTH_DEVICE_CONTROLLER:
            if (g_strcmp0(d->u.controller->type, dev->u.controller->type) == 0 &&
                d->u.controller->index == dev->u.controller->index)
                return (int)i;
            break;
        default:
            have = g_string_new(NULL);
            domain_device_format(have, 0, d, DOMAIN_DEF_FORMAT_SECURE);
            if (g_string_equal(have, want))
                return (int)i;
        }
    }
    return -1;
}
