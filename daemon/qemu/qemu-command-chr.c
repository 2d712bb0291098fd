/* Character devices: the -chardev backend, then isa-serial, isa-parallel, virtconsole or
 * virtserialport. A <console type='pty'> that mirrors serial0 adds nothing (libvirt's rule). */
#include "qemu-command-priv.h"

#include <string.h>

#define UNIX_PATH_MAX 108

static const char *chr_who(const QemuDev *d, const HearthDomainChr *chr, char **buf)
{
    *buf = g_strdup_printf("<%s type='%s'> '%s'", d->what, chr->type, d->alias);
    return *buf;
}

static gboolean chr_source_check(QemuCmd *cmd, QemuDev *d, const HearthDomainChr *chr,
                                 const char *who, GError **error)
{
    const char *t = chr->type;
    const char *tls = qemu_extra_attr(&chr->source_extra, "tls");

    if (strcmp(t, "spicevmc") == 0 || strcmp(t, "spiceport") == 0) {
        qemu_unsupported(error, _("%s needs spice, which is not supported"), who);
        return FALSE;
    }
    if (strcmp(t, "null") && strcmp(t, "vc") && strcmp(t, "pty") && strcmp(t, "dev") &&
        strcmp(t, "file") && strcmp(t, "pipe") && strcmp(t, "tcp") && strcmp(t, "unix")) {
        qemu_unsupported(error, _("character device type '%s' (%s)"), t, who);
        return FALSE;
    }
    if (tls && strcmp(tls, "no") != 0) {
        qemu_unsupported(error, _("tls='%s' on %s"), tls, who);
        return FALSE;
    }
    if (!qemu_extra_check(&chr->source_extra, "source", who, QEMU_LIST("append", "tls"),
                          QEMU_LIST("reconnect", "seclabel"), error) ||
        !qemu_extra_check(&chr->extra, d->what, who, NULL, QEMU_LIST("protocol"), error) ||
        !qemu_extra_check(&chr->target_extra, "target", who, QEMU_LIST("state"), QEMU_LIST("model"),
                          error))
        return FALSE;
    if (strcmp(t, "unix") == 0 && !chr->source_path) {
        if (d->kind != QDEV_CHANNEL || !cmd->opts->runtime_dir) {
            qemu_unsupported(error, _("%s without <source path=''>"), who);
            return FALSE;
        }
        /* libvirt names the socket of a channel after its target */
        d->chr_path = g_build_filename(cmd->opts->runtime_dir,
                                       chr->target_name ? chr->target_name : d->alias, NULL);
    } else if (strcmp(t, "dev") == 0 || strcmp(t, "file") == 0 || strcmp(t, "pipe") == 0 ||
               strcmp(t, "unix") == 0) {
        if (!chr->source_path || !g_path_is_absolute(chr->source_path)) {
            qemu_unsupported(error, _("%s without an absolute <source path=''>"), who);
            return FALSE;
        }
        d->chr_path = g_strdup(chr->source_path);
    } else if (strcmp(t, "tcp") == 0 && (!chr->source_host || !chr->source_service)) {
        qemu_unsupported(error, _("%s without <source host='' service=''>"), who);
        return FALSE;
    }
    if (strcmp(t, "unix") == 0 && strlen(d->chr_path) >= UNIX_PATH_MAX) {
        qemu_unsupported(error, _("UNIX socket path '%s' of %s is too long"), d->chr_path, who);
        return FALSE;
    }
    if (chr->log_file && !g_path_is_absolute(chr->log_file)) {
        qemu_unsupported(error, _("relative <log file='%s'> of %s"), chr->log_file, who);
        return FALSE;
    }
    return TRUE;
}

static gboolean serial_target_check(const HearthDomainChr *chr, const char *who, GError **error)
{
    guint i;

    if (chr->target_type && strcmp(chr->target_type, "isa-serial") != 0) {
        qemu_unsupported(error, _("serial target type '%s' of %s (only isa-serial)"),
                         chr->target_type, who);
        return FALSE;
    }
    for (i = 0; chr->target_extra.children && i < chr->target_extra.children->len; i++) {
        g_autoptr(GHashTable) attrs =
            qemu_xml_attrs(g_ptr_array_index(chr->target_extra.children, i), NULL, error);
        const char *name;

        if (!attrs)
            return FALSE;
        name = g_hash_table_lookup(attrs, "name");
        if (g_strcmp0(name, "isa-serial") != 0) {
            qemu_unsupported(error, _("serial target model '%s' of %s"), name ? name : "", who);
            return FALSE;
        }
    }
    return TRUE;
}

static gboolean has_serial(QemuCmd *cmd)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_SERIAL)
            return TRUE;
    }
    return FALSE;
}

gboolean qemu_chr_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainChr *chr = d->src;
    g_autofree char *whobuf = NULL;
    const char *who;
    const char *tt = chr->target_type;

    switch (d->kind) {
    case QDEV_SERIAL:
        qemu_dev_alias(d, "serial%u", d->ordinal);
        who = chr_who(d, chr, &whobuf);
        if (!serial_target_check(chr, who, error))
            return FALSE;
        break;
    case QDEV_PARALLEL:
        qemu_dev_alias(d, "parallel%u", d->ordinal);
        who = chr_who(d, chr, &whobuf);
        if (tt && strcmp(tt, "parallel") != 0) {
            qemu_unsupported(error, _("parallel target type '%s' of %s"), tt, who);
            return FALSE;
        }
        break;
    case QDEV_CONSOLE:
        if (!tt || strcmp(tt, "serial") == 0) {
            if (d->ordinal != 0) {
                qemu_dev_alias(d, "console%u", d->ordinal);
                qemu_unsupported(error,
                                 _("a second serial console ('%s'): only the first "
                                   "<console> can be a serial port"),
                                 d->alias);
                return FALSE;
            }
            if (has_serial(cmd)) {
                d->skip = TRUE; /* the same port as serial0: no second chardev */
                qemu_dev_alias(d, "serial0");
                return TRUE;
            }
            d->model = g_strdup("serial"); /* libvirt turns it into serial0 */
            qemu_dev_alias(d, "serial0");
            who = chr_who(d, chr, &whobuf);
            break;
        }
        qemu_dev_alias(d, "console%u", d->ordinal);
        who = chr_who(d, chr, &whobuf);
        if (strcmp(tt, "virtio") != 0) {
            qemu_unsupported(error, _("console target type '%s' of %s"), tt, who);
            return FALSE;
        }
        d->target_type = "virtio";
        break;
    case QDEV_CHANNEL:
        qemu_dev_alias(d, "channel%u", d->ordinal);
        who = chr_who(d, chr, &whobuf);
        if (g_strcmp0(tt, "virtio") != 0) {
            qemu_unsupported(error, _("channel target type '%s' of %s"), tt ? tt : "", who);
            return FALSE;
        }
        if (chr->target_name && !qemu_name_is_safe(chr->target_name)) {
            qemu_unsupported(error, _("channel target name '%s' of %s"), chr->target_name, who);
            return FALSE;
        }
        d->target_type = "virtio";
        break;
    default:
        return TRUE;
    }
    if (!chr_source_check(cmd, d, chr, who, error))
        return FALSE;
    if (d->target_type) {
        if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_VSERIAL) {
            qemu_unsupported(error, _("a non-virtio-serial <address> on %s"), who);
            return FALSE;
        }
        return qemu_plan_need_controller(cmd, "virtio-serial", (int)d->addr.controller, error);
    }
    if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_ISA) {
        qemu_unsupported(error, _("a non-ISA <address> on %s"), who);
        return FALSE;
    }
    return TRUE;
}

static gboolean chr_listens(const HearthDomainChr *chr)
{
    return g_strcmp0(chr->source_mode, "bind") == 0;
}

static char *chardev_str(const QemuDev *d, const HearthDomainChr *chr, GError **error)
{
    GString *s = g_string_new(NULL);
    const char *t = chr->type;
    const char *append = qemu_extra_attr(&chr->source_extra, "append");
    g_autofree char *id = g_strdup_printf("char%s", d->alias);
    guint i;

    if (strcmp(t, "unix") == 0 || strcmp(t, "tcp") == 0)
        g_string_append(s, "socket");
    else if (strcmp(t, "dev") == 0)
        g_string_append(s, d->kind == QDEV_PARALLEL ? "parallel" : "serial");
    else
        g_string_append(s, t);
    g_string_append(s, ",id=");
    g_string_append(s, id);
    if (strcmp(t, "tcp") == 0) {
        g_string_append(s, ",host=");
        qemu_opt_escape(s, chr->source_host);
        g_string_append(s, ",port=");
        qemu_opt_escape(s, chr->source_service);
        for (i = 0; chr->extra.children && i < chr->extra.children->len; i++) {
            g_autoptr(GHashTable) a =
                qemu_xml_attrs(g_ptr_array_index(chr->extra.children, i), NULL, error);
            const char *p;

            if (!a) {
                g_string_free(s, TRUE);
                return NULL;
            }
            p = g_hash_table_lookup(a, "type");
            if (g_strcmp0(p, "telnet") == 0)
                g_string_append(s, ",telnet=on");
            else if (g_strcmp0(p, "raw") != 0) {
                qemu_unsupported(error, _("<protocol type='%s'> of <%s> '%s'"), p ? p : "", d->what,
                                 d->alias);
                g_string_free(s, TRUE);
                return NULL;
            }
        }
    } else if (d->chr_path) {
        g_string_append(s, ",path=");
        qemu_opt_escape(s, d->chr_path);
    }
    if (strcmp(t, "file") == 0)
        g_string_append_printf(s, ",append=%s", g_strcmp0(append, "off") == 0 ? "off" : "on");
    if ((strcmp(t, "unix") == 0 || strcmp(t, "tcp") == 0) &&
        (chr_listens(chr) || (strcmp(t, "unix") == 0 && !chr->source_path)))
        g_string_append(s, ",server=on,wait=off");
    for (i = 0; chr->source_extra.children && i < chr->source_extra.children->len; i++) {
        g_autofree char *name = NULL;
        g_autoptr(GHashTable) a =
            qemu_xml_attrs(g_ptr_array_index(chr->source_extra.children, i), &name, error);
        const char *en, *to;

        if (!a) {
            g_string_free(s, TRUE);
            return NULL;
        }
        if (strcmp(name, "reconnect") != 0)
            continue;
        en = g_hash_table_lookup(a, "enabled");
        to = g_hash_table_lookup(a, "timeout");
        if (g_strcmp0(en, "yes") == 0 && to && strspn(to, "0123456789") == strlen(to))
            g_string_append_printf(s, ",reconnect=%s", to);
        else if (g_strcmp0(en, "no") == 0)
            g_string_append(s, ",reconnect=0");
        else {
            qemu_unsupported(error, _("<reconnect> of <%s> '%s'"), d->what, d->alias);
            g_string_free(s, TRUE);
            return NULL;
        }
    }
    if (chr->log_file) {
        g_string_append(s, ",logfile=");
        qemu_opt_escape(s, chr->log_file);
        if (chr->log_append != HEARTH_TRISTATE_ABSENT)
            g_string_append_printf(s, ",logappend=%s",
                                   chr->log_append == HEARTH_TRISTATE_YES ? "on" : "off");
    }
    return g_string_free(s, FALSE);
}

static gboolean chr_emit(QemuCmd *cmd, const QemuDev *d, guint serial_index, GError **error)
{
    const HearthDomainChr *chr = d->src;
    char *backend = chardev_str(d, chr, error);
    g_autofree char *id = g_strdup_printf("char%s", d->alias);
    g_autoptr(GString) j = qemu_json_new();

    if (!backend)
        return FALSE;
    qemu_cmd_take_pair(cmd, "-chardev", backend);
    if (d->kind == QDEV_SERIAL || (d->kind == QDEV_CONSOLE && !d->target_type)) {
        qemu_json_str(j, "driver", "isa-serial");
        qemu_json_str(j, "chardev", id);
        qemu_json_str(j, "id", d->alias);
        qemu_json_int(j, "index", serial_index);
    } else if (d->kind == QDEV_PARALLEL) {
        qemu_json_str(j, "driver", "isa-parallel");
        qemu_json_str(j, "chardev", id);
        qemu_json_str(j, "id", d->alias);
    } else {
        qemu_json_str(j, "driver", d->kind == QDEV_CONSOLE ? "virtconsole" : "virtserialport");
        if (!qemu_addr_json(cmd, j, d, error))
            return FALSE;
        qemu_json_str(j, "chardev", id);
        qemu_json_str(j, "id", d->alias);
        if (d->kind == QDEV_CHANNEL)
            qemu_json_str(j, "name", chr->target_name);
    }
    if ((d->kind == QDEV_SERIAL || d->kind == QDEV_CONSOLE) && !d->target_type &&
        !qemu_addr_json(cmd, j, d, error))
        return FALSE;
    qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
    return TRUE;
}

static gboolean emit_kind(QemuCmd *cmd, QemuDevKind kind, gboolean serials, GError **error)
{
    guint8 used[256] = {0};
    guint i, next = 0;

    /* Serial port numbers: the ones written first, then the lowest free, as libvirt. */
    for (i = 0; serials && i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        const HearthDomainChr *chr = d->src;

        if ((d->kind == QDEV_SERIAL ||
             (d->kind == QDEV_CONSOLE && g_strcmp0(d->model, "serial") == 0)) &&
            chr->target_port >= 0 && chr->target_port < 256)
            used[chr->target_port] = 1;
    }
    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        const HearthDomainChr *chr = d->src;
        gboolean as_serial = d->kind == QDEV_CONSOLE && g_strcmp0(d->model, "serial") == 0;
        guint index = 0;

        if (d->skip ||
            (serials ? !(d->kind == QDEV_SERIAL || as_serial) : (d->kind != kind || as_serial)))
            continue;
        if (serials) {
            if (chr->target_port >= 0) {
                index = (guint)chr->target_port;
            } else {
                while (next < 255 && used[next])
                    next++;
                index = next;
                used[next] = 1;
            }
        }
        if (!chr_emit(cmd, d, index, error))
            return FALSE;
    }
    return TRUE;
}

gboolean qemu_build_chrs(QemuCmd *cmd, GError **error)
{
    return emit_kind(cmd, QDEV_SERIAL, TRUE, error) &&
           emit_kind(cmd, QDEV_PARALLEL, FALSE, error) &&
           emit_kind(cmd, QDEV_CHANNEL, FALSE, error) && emit_kind(cmd, QDEV_CONSOLE, FALSE, error);
}
