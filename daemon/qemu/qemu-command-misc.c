/* <memballoon>, <rng>, <watchdog>, <panic>, and the verdict on devices lib/conf keeps
 * verbatim (hostdev, tpm, filesystem, ...): refused by name, never dropped. */
#include "qemu-command-priv.h"

#include <libxml/tree.h>
#include <string.h>

/* "<hostdev mode='subsystem' type='pci'>" from a serialized element, for messages. */
static char *element_head(const char *xml)
{
    const char *end = strchr(xml, '>');
    gsize n = end ? (gsize)(end - xml) : strlen(xml);

    if (n > 0 && xml[n - 1] == '/')
        n--;
    if (n > 80)
        return g_strdup_printf("%.80s...>", xml);
    return g_strdup_printf("%.*s>", (int)n, xml);
}

gboolean qemu_other_device_kind(const char *xml, QemuDevKind *kind, GError **error)
{
    g_autofree char *head = element_head(xml);

    if (g_str_has_prefix(xml, "<audio ") || g_str_has_prefix(xml, "<audio/")) {
        *kind = QDEV_AUDIO;
        return TRUE;
    }
    if (g_str_has_prefix(xml, "<watchdog ") || g_str_has_prefix(xml, "<watchdog/")) {
        *kind = QDEV_WATCHDOG;
        return TRUE;
    }
    if (g_str_has_prefix(xml, "<panic ") || g_str_has_prefix(xml, "<panic/") ||
        g_str_has_prefix(xml, "<panic>")) {
        *kind = QDEV_PANIC;
        return TRUE;
    }
    qemu_unsupported(error, _("device %s is not supported by the QEMU driver"), head);
    return FALSE;
}

/* Attributes of a verbatim device and the <address> inside it; other children refused. */
static gboolean verbatim_device(QemuDev *d, GHashTable **attrs, GError **error)
{
    g_autofree char *head = element_head(d->src);
    xmlDocPtr doc = qemu_xml_parse(d->src, error);
    xmlNodePtr root, c;
    xmlAttrPtr a;
    gboolean ok = TRUE;

    if (!doc)
        return FALSE;
    root = xmlDocGetRootElement(doc);
    *attrs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    for (a = root->properties; a; a = a->next) {
        xmlChar *v = xmlNodeListGetString(doc, a->children, 1);

        g_hash_table_insert(*attrs, g_strdup((const char *)a->name),
                            g_strdup(v ? (const char *)v : ""));
        xmlFree(v);
    }
    for (c = root->children; ok && c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE)
            continue;
        if (strcmp((const char *)c->name, "address") == 0) {
            xmlBufferPtr buf = xmlBufferCreate();

            xmlNodeDump(buf, doc, c, 0, 0);
            ok = qemu_addr_parse(d, (const char *)xmlBufferContent(buf), head, error);
            xmlBufferFree(buf);
        } else if (strcmp((const char *)c->name, "alias") != 0) {
            qemu_unsupported(error, _("element <%s> in %s"), (const char *)c->name, head);
            ok = FALSE;
        }
    }
    xmlFreeDoc(doc);
    return ok;
}

static gboolean watchdog_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    static const char *const actions[] = {"reset", "shutdown", "poweroff",   "pause",
                                          "none",  "dump",     "inject-nmi", NULL};
    g_autoptr(GHashTable) attrs = NULL;
    const char *model, *action;
    guint i;

    d->alias = g_strdup_printf("watchdog%u", d->ordinal);
    if (!verbatim_device(d, &attrs, error))
        return FALSE;
    model = g_hash_table_lookup(attrs, "model");
    action = g_hash_table_lookup(attrs, "action");
    if (!model || (strcmp(model, "i6300esb") && strcmp(model, "ib700") &&
                   !(strcmp(model, "itco") == 0 && cmd->q35))) {
        qemu_unsupported(error, _("watchdog model '%s'"), model ? model : "");
        return FALSE;
    }
    for (i = 0; actions[i] && g_strcmp0(action ? action : "reset", actions[i]); i++)
        ;
    if (!actions[i] || g_hash_table_size(attrs) > (action ? 2u : 1u)) {
        qemu_unsupported(error, _("watchdog action '%s'"), action ? action : "");
        return FALSE;
    }
    /* QEMU has no 'dump': libvirt pauses and dumps itself */
    d->action = g_strdup(g_strcmp0(action, "dump") == 0 ? "pause" : action ? action : "reset");
    d->model = g_strdup(model);
    if (d->addr.type != QEMU_ADDR_NONE && strcmp(model, "i6300esb") != 0) {
        qemu_unsupported(error, _("an <address> on watchdog model '%s'"), model);
        return FALSE;
    }
    return TRUE;
}

static gboolean panic_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    g_autoptr(GHashTable) attrs = NULL;
    const char *model;

    d->alias = g_strdup_printf("panic%u", d->ordinal);
    if (!verbatim_device(d, &attrs, error))
        return FALSE;
    model = g_hash_table_lookup(attrs, "model");
    if (model && strcmp(model, "isa") != 0 && strcmp(model, "pvpanic") != 0) {
        qemu_unsupported(error, _("panic model '%s'"), model);
        return FALSE;
    }
    d->model = g_strdup(model ? model : "isa");
    d->driver = strcmp(d->model, "isa") == 0 ? "pvpanic" : "pvpanic-pci";
    if (d->addr.type != QEMU_ADDR_NONE &&
        d->addr.type != (strcmp(d->model, "isa") == 0 ? QEMU_ADDR_ISA : QEMU_ADDR_PCI)) {
        qemu_unsupported(error, _("this <address> type on panic model '%s'"), d->model);
        return FALSE;
    }
    return TRUE;
}

static char *virtio_model_driver(const char *model, const char *base)
{
    if (strcmp(model, "virtio") == 0)
        return g_strdup(base);
    return g_strdup_printf("%s-%s", base, model + strlen("virtio-"));
}

gboolean qemu_misc_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    if (d->kind == QDEV_WATCHDOG)
        return watchdog_check(cmd, d, error);
    if (d->kind == QDEV_PANIC)
        return panic_check(cmd, d, error);
    if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_PCI) {
        qemu_unsupported(error, _("a non-PCI <address> on <%s>"), d->what);
        return FALSE;
    }
    if (d->kind == QDEV_BALLOON) {
        const HearthDomainMemballoon *mb = d->src;
        const char *v;

        qemu_dev_alias(d, "balloon%u", d->ordinal);
        if (d->ordinal > 0) {
            qemu_unsupported(error, _("more than one <memballoon>"));
            return FALSE;
        }
        if (strcmp(mb->model, "none") == 0) {
            d->skip = TRUE;
            return TRUE;
        }
        if (!g_str_has_prefix(mb->model, "virtio")) {
            qemu_unsupported(error, _("memballoon model '%s'"), mb->model);
            return FALSE;
        }
        d->model = virtio_model_driver(mb->model, "virtio-balloon-pci");
        d->driver = d->model;
        v = qemu_extra_attr(&mb->extra, "autodeflate");
        if (v && strcmp(v, "on") && strcmp(v, "off")) {
            qemu_unsupported(error, _("autodeflate='%s' of <memballoon>"), v);
            return FALSE;
        }
        v = qemu_extra_attr(&mb->extra, "freePageReporting");
        if (v && strcmp(v, "on") && strcmp(v, "off")) {
            qemu_unsupported(error, _("freePageReporting='%s' of <memballoon>"), v);
            return FALSE;
        }
        return qemu_extra_check(&mb->extra, "memballoon", NULL,
                                QEMU_LIST("autodeflate", "freePageReporting"), NULL, error);
    }
    if (d->kind == QDEV_RNG) {
        const HearthDomainRng *rng = d->src;
        g_autofree char *who = NULL;

        qemu_dev_alias(d, "rng%u", d->ordinal);
        who = g_strdup_printf("<rng> '%s'", d->alias);
        d->model = virtio_model_driver(rng->model, "virtio-rng-pci");
        d->driver = d->model;
        if (strcmp(rng->backend_model, "random") != 0 &&
            strcmp(rng->backend_model, "builtin") != 0) {
            qemu_unsupported(error, _("rng backend model '%s' of %s"), rng->backend_model, who);
            return FALSE;
        }
        if (rng->backend_path && !g_path_is_absolute(rng->backend_path)) {
            qemu_unsupported(error, _("rng backend '%s' of %s"), rng->backend_path, who);
            return FALSE;
        }
        return qemu_extra_check(&rng->backend_extra, "backend", who, NULL, NULL, error) &&
               qemu_extra_check(&rng->extra, "rng", who, NULL, QEMU_LIST("rate"), error);
    }
    return TRUE;
}

gboolean qemu_build_watchdogs(QemuCmd *cmd, GError **error)
{
    const char *action = NULL;
    gboolean itco = FALSE;
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        g_autoptr(GString) j = NULL;

        if (d->kind != QDEV_WATCHDOG)
            continue;
        if (action && strcmp(action, d->action) != 0) {
            qemu_unsupported(error, _("watchdogs with different actions"));
            return FALSE;
        }
        action = d->action;
        if (strcmp(d->model, "itco") == 0) {
            itco = TRUE; /* part of q35's ICH9 */
            continue;
        }
        j = qemu_json_new();
        qemu_json_str(j, "driver", d->model);
        qemu_json_str(j, "id", d->alias);
        if (!qemu_addr_json(cmd, j, d, error))
            return FALSE;
        qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
    }
    if (itco)
        qemu_cmd_add_pair(cmd, "-global", "ICH9-LPC.noreboot=off");
    if (action)
        qemu_cmd_add_pair(cmd, "-watchdog-action", action);
    return TRUE;
}

static gboolean rng_rate(const HearthDomainRng *rng, GString *j, GError **error)
{
    guint i;

    for (i = 0; rng->extra.children && i < rng->extra.children->len; i++) {
        g_autoptr(GHashTable) a =
            qemu_xml_attrs(g_ptr_array_index(rng->extra.children, i), NULL, error);
        guint64 bytes = 0, period = 1000;

        if (!a)
            return FALSE;
        if (!qemu_parse_uint(g_hash_table_lookup(a, "bytes"), G_MAXUINT, &bytes) ||
            (g_hash_table_lookup(a, "period") &&
             !qemu_parse_uint(g_hash_table_lookup(a, "period"), G_MAXUINT, &period))) {
            qemu_unsupported(error, _("<rate> of <rng>"));
            return FALSE;
        }
        qemu_json_int(j, "max-bytes", (gint64)bytes);
        qemu_json_int(j, "period", (gint64)period);
    }
    return TRUE;
}

gboolean qemu_build_balloon_rng(QemuCmd *cmd, GError **error)
{
    guint i, pass;

    /* libvirt's order: the balloon, then every rng (object first, then device) */
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < cmd->devs->len; i++) {
            const QemuDev *d = g_ptr_array_index(cmd->devs, i);
            g_autoptr(GString) j = NULL;
            g_autofree char *obj = NULL;

            if (d->skip || d->kind != (pass == 0 ? QDEV_BALLOON : QDEV_RNG))
                continue;
            j = qemu_json_new();
            if (d->kind == QDEV_BALLOON) {
                const HearthDomainMemballoon *mb = d->src;
                const char *ad = qemu_extra_attr(&mb->extra, "autodeflate");
                const char *fpr = qemu_extra_attr(&mb->extra, "freePageReporting");

                qemu_json_str(j, "driver", d->driver);
                qemu_json_str(j, "id", d->alias);
                if (ad)
                    qemu_json_bool(j, "deflate-on-oom", strcmp(ad, "on") == 0);
                if (fpr)
                    qemu_json_bool(j, "free-page-reporting", strcmp(fpr, "on") == 0);
            } else {
                const HearthDomainRng *rng = d->src;
                GString *o = qemu_json_new();

                obj = g_strdup_printf("obj%s", d->alias);
                qemu_json_str(o, "qom-type",
                              strcmp(rng->backend_model, "builtin") == 0 ? "rng-builtin"
                                                                         : "rng-random");
                qemu_json_str(o, "id", obj);
                if (strcmp(rng->backend_model, "random") == 0)
                    qemu_json_str(o, "filename",
                                  rng->backend_path ? rng->backend_path : "/dev/urandom");
                qemu_cmd_take_pair(cmd, "-object", qemu_json_finish(o));
                qemu_json_str(j, "driver", d->driver);
                qemu_json_str(j, "rng", obj);
                qemu_json_str(j, "id", d->alias);
                if (!rng_rate(rng, j, error))
                    return FALSE;
            }
            if (!qemu_addr_json(cmd, j, d, error))
                return FALSE;
            qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
        }
    }
    return TRUE;
}

gboolean qemu_build_panics(QemuCmd *cmd, GError **error)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        g_autoptr(GString) j = NULL;

        if (d->kind != QDEV_PANIC)
            continue;
        j = qemu_json_new();
        qemu_json_str(j, "driver", d->driver);
        if (d->addr.type == QEMU_ADDR_ISA)
            qemu_json_int(j, "ioport", d->addr.iobase); /* pvpanic's name for it */
        else if (!qemu_addr_json(cmd, j, d, error))
            return FALSE;
        qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
    }
    return TRUE;
}
