/* What the user sees and touches: <input>, <audio>, <graphics type='vnc'>, <video>, <sound>. */
#include "qemu-command-priv.h"

#include <string.h>

/* ---- checks ---- */

static gboolean input_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainInput *in = d->src;
    const char *bus = in->bus;
    g_autofree char *who = NULL;

    qemu_dev_alias(d, "input%u", d->ordinal);
    who = g_strdup_printf("<input type='%s'> '%s'", in->type, d->alias);
    if (strcmp(in->type, "mouse") != 0 && strcmp(in->type, "tablet") != 0 &&
        strcmp(in->type, "keyboard") != 0) {
        qemu_unsupported(error, _("input type '%s' (%s)"), in->type, who);
        return FALSE;
    }
    if (!bus)
        bus = strcmp(in->type, "tablet") == 0 ? "usb" : "ps2";
    if (!qemu_extra_check(&in->extra, "input", who, NULL, NULL, error))
        return FALSE;
    if (strcmp(bus, "ps2") == 0 && strcmp(in->type, "tablet") != 0) {
        d->skip = TRUE; /* the i8042 of pc and q35 */
        return TRUE;
    }
    if (strcmp(bus, "usb") == 0) {
        if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_USB) {
            qemu_unsupported(error, _("a non-USB <address> on %s"), who);
            return FALSE;
        }
        if (d->addr.usb_port && strchr(d->addr.usb_port, '.')) {
            qemu_unsupported(error, _("USB hub port '%s' of %s"), d->addr.usb_port, who);
            return FALSE;
        }
        d->addr.type = QEMU_ADDR_USB;
        d->model = g_strdup("usb");
        d->driver = strcmp(in->type, "mouse") == 0    ? "usb-mouse"
                    : strcmp(in->type, "tablet") == 0 ? "usb-tablet"
                                                      : "usb-kbd";
        return qemu_plan_need_controller(cmd, "usb", (int)d->addr.bus, error);
    }
    if (strcmp(bus, "virtio") == 0) {
        if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_PCI) {
            qemu_unsupported(error, _("a non-PCI <address> on %s"), who);
            return FALSE;
        }
        d->model = g_strdup("virtio");
        d->driver = strcmp(in->type, "mouse") == 0    ? "virtio-mouse-pci"
                    : strcmp(in->type, "tablet") == 0 ? "virtio-tablet-pci"
                                                      : "virtio-keyboard-pci";
        return TRUE;
    }
    qemu_unsupported(error, _("input bus '%s' of %s"), bus, who);
    return FALSE;
}

static gboolean audio_child_id(const HearthXmlExtra *extra, int *id, const char *who,
                               GError **error)
{
    guint i;

    for (i = 0; extra->children && i < extra->children->len; i++) {
        g_autofree char *name = NULL;
        g_autoptr(GHashTable) a =
            qemu_xml_attrs(g_ptr_array_index(extra->children, i), &name, error);
        guint64 v;

        if (!a)
            return FALSE;
        if (strcmp(name, "audio") != 0)
            continue;
        if (!qemu_parse_uint(g_hash_table_lookup(a, "id"), G_MAXINT, &v) || v == 0) {
            qemu_unsupported(error, _("<audio> reference of %s"), who);
            return FALSE;
        }
        *id = (int)v;
    }
    return TRUE;
}

static gboolean graphics_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainGraphics *gr = d->src;
    g_autofree char *who = g_strdup_printf("<graphics type='%s'>", gr->type);
    const char *ws = qemu_extra_attr(&gr->extra, "websocket");
    const char *share = qemu_extra_attr(&gr->extra, "sharePolicy");
    const char *power = qemu_extra_attr(&gr->extra, "powerControl");
    guint i;

    d->alias = g_strdup_printf("graphics%u", d->ordinal);
    if (strcmp(gr->type, "vnc") != 0) {
        qemu_unsupported(error, _("graphics type '%s'%s"), gr->type,
                         strcmp(gr->type, "spice") == 0
                             ? _(" (spice is not supported by this daemon; use vnc)")
                             : "");
        return FALSE;
    }
    if (cmd->has_graphics) {
        qemu_unsupported(error, _("more than one <graphics type='vnc'>"));
        return FALSE;
    }
    cmd->has_graphics = TRUE;
    if (gr->tls_port != 0) {
        qemu_unsupported(error, _("tlsPort on %s"), who);
        return FALSE;
    }
    if (gr->autoport == HEARTH_TRISTATE_YES || gr->port == -1 || gr->port == 0) {
        if (cmd->opts->vnc_port < 5900 || cmd->opts->vnc_port > 65535) {
            qemu_internal(error, _("no VNC port was chosen for the autoport %s"), who);
            return FALSE;
        }
    } else if (gr->port < 5900 || gr->port > 65535) {
        qemu_unsupported(error, _("vnc port %d (must be in range [5900,65535])"), gr->port);
        return FALSE;
    }
    if (gr->listens->len > 1) {
        qemu_unsupported(error, _("more than one <listen> in %s"), who);
        return FALSE;
    }
    for (i = 0; i < gr->listens->len; i++) {
        const HearthGraphicsListen *l = g_ptr_array_index(gr->listens, i);

        if (strcmp(l->type, "network") == 0) {
            qemu_unsupported(error, _("<listen type='network'> of %s (give an address)"), who);
            return FALSE;
        }
        if (!qemu_extra_check(&l->extra, "listen", who, QEMU_LIST("fromConfig", "autoGenerated"),
                              NULL, error))
            return FALSE;
    }
    if (ws && !(strspn(ws, "0123456789") == strlen(ws) && *ws)) {
        qemu_unsupported(error, _("websocket='%s' of %s (give a port)"), ws, who);
        return FALSE;
    }
    if (share && strcmp(share, "allow-exclusive") && strcmp(share, "force-shared") &&
        strcmp(share, "ignore")) {
        qemu_unsupported(error, _("sharePolicy='%s' of %s"), share, who);
        return FALSE;
    }
    if (power && strcmp(power, "yes") && strcmp(power, "no")) {
        qemu_unsupported(error, _("powerControl='%s' of %s"), power, who);
        return FALSE;
    }
    if (gr->keymap && !qemu_name_is_safe(gr->keymap)) {
        qemu_unsupported(error, _("keymap '%s' of %s"), gr->keymap, who);
        return FALSE;
    }
    d->audio_id = 0;
    return audio_child_id(&gr->extra, &d->audio_id, who, error) &&
           qemu_extra_check(
               &gr->extra, "graphics", who,
               QEMU_LIST("websocket", "sharePolicy", "powerControl", "connected", "passwdValidTo"),
               QEMU_LIST("audio"), error);
}

static const struct {
    const char *type;
    const char *primary;
    const char *secondary;
} video_models[] = {
    {"vga", "VGA", NULL},
    {"cirrus", "cirrus-vga", NULL},
    {"vmvga", "vmware-svga", NULL},
    {"qxl", "qxl-vga", "qxl"},
    {"virtio", "virtio-vga", "virtio-gpu-pci"},
    {"bochs", "bochs-display", "bochs-display"},
};

static gboolean video_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainVideo *v = d->src;
    const char *type = v->model_type ? v->model_type : "vga";
    gboolean primary = d->ordinal == 0;
    g_autofree char *who = NULL;
    guint i;

    qemu_dev_alias(d, "video%u", d->ordinal);
    who = g_strdup_printf("<video> '%s' (model '%s')", d->alias, type);
    if (strcmp(type, "none") == 0) {
        d->skip = TRUE;
        return TRUE;
    }
    for (i = 0; i < G_N_ELEMENTS(video_models); i++) {
        if (strcmp(video_models[i].type, type) == 0)
            break;
    }
    if (i == G_N_ELEMENTS(video_models) || (!primary && !video_models[i].secondary)) {
        qemu_unsupported(error, _("video model '%s'%s"), type,
                         primary ? "" : _(" as a secondary video device"));
        return FALSE;
    }
    if (!primary && v->primary == HEARTH_TRISTATE_YES) {
        qemu_unsupported(error, _("primary='yes' on %s, which is not the first <video>"), who);
        return FALSE;
    }
    if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_PCI) {
        qemu_unsupported(error, _("a non-PCI <address> on %s"), who);
        return FALSE;
    }
    d->driver = primary ? video_models[i].primary : video_models[i].secondary;
    d->model = g_strdup(type);
    return qemu_extra_check(&v->model_extra, "model", who,
                            strcmp(type, "qxl") == 0 ? QEMU_LIST("ram", "vgamem", "vram64") : NULL,
                            NULL, error) &&
           qemu_extra_check(&v->extra, "video", who, NULL, NULL, error);
}

static gboolean sound_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainSound *s = d->src;
    g_autofree char *who = NULL;
    guint i;

    qemu_dev_alias(d, "sound%u", d->ordinal);
    who = g_strdup_printf("<sound model='%s'> '%s'", s->model, d->alias);
    if (strcmp(s->model, "ich6") == 0)
        d->driver = "intel-hda";
    else if (strcmp(s->model, "ich9") == 0)
        d->driver = "ich9-intel-hda";
    else if (strcmp(s->model, "ac97") == 0)
        d->driver = "AC97";
    else if (strcmp(s->model, "es1370") == 0)
        d->driver = "ES1370";
    else {
        qemu_unsupported(error, _("sound model '%s'"), s->model);
        return FALSE;
    }
    d->model = g_strdup(s->model);
    if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_PCI) {
        qemu_unsupported(error, _("a non-PCI <address> on %s"), who);
        return FALSE;
    }
    for (i = 0; s->extra.children && i < s->extra.children->len; i++) {
        g_autofree char *name = NULL;
        g_autoptr(GHashTable) a =
            qemu_xml_attrs(g_ptr_array_index(s->extra.children, i), &name, error);
        const char *type;

        if (!a)
            return FALSE;
        if (strcmp(name, "codec") != 0)
            continue;
        type = g_hash_table_lookup(a, "type");
        if (!g_str_has_suffix(d->driver, "hda") || !type ||
            (strcmp(type, "duplex") && strcmp(type, "micro") && strcmp(type, "output"))) {
            qemu_unsupported(error, _("<codec type='%s'> of %s"), type ? type : "", who);
            return FALSE;
        }
    }
    return audio_child_id(&s->extra, &d->audio_id, who, error) &&
           qemu_extra_check(&s->extra, "sound", who, NULL, QEMU_LIST("codec", "audio"), error);
}

static gboolean audio_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    g_autofree char *name = NULL;
    g_autoptr(GHashTable) a = qemu_xml_attrs(d->src, &name, error);
    const char *type, *id;
    guint64 v;

    if (!a)
        return FALSE;
    type = g_hash_table_lookup(a, "type");
    id = g_hash_table_lookup(a, "id");
    if (g_strcmp0(type, "none") != 0) {
        qemu_unsupported(error, _("audio backend type '%s' (only 'none')"), type ? type : "");
        return FALSE;
    }
    if (!qemu_parse_uint(id, G_MAXINT, &v) || v == 0 || g_hash_table_size(a) != 2 ||
        strstr(d->src, "</audio>")) {
        qemu_unsupported(error, _("<audio id='%s' type='none'> options"), id ? id : "");
        return FALSE;
    }
    d->audio_id = (int)v;
    d->alias = g_strdup_printf("audio%d", d->audio_id);
    if (!cmd->first_audio_id)
        cmd->first_audio_id = d->audio_id;
    return TRUE;
}

gboolean qemu_graphics_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    switch (d->kind) {
    case QDEV_INPUT:
        return input_check(cmd, d, error);
    case QDEV_GRAPHICS:
        return graphics_check(cmd, d, error);
    case QDEV_VIDEO:
        return video_check(cmd, d, error);
    case QDEV_SOUND:
        return sound_check(cmd, d, error);
    case QDEV_AUDIO:
        return audio_check(cmd, d, error);
    default:
        return TRUE;
    }
}

/* ---- arguments ---- */

gboolean qemu_build_inputs(QemuCmd *cmd, GError **error)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        g_autoptr(GString) j = NULL;

        if (d->kind != QDEV_INPUT || d->skip)
            continue;
        j = qemu_json_new();
        qemu_json_str(j, "driver", d->driver);
        qemu_json_str(j, "id", d->alias);
        if (!qemu_addr_json(cmd, j, d, error))
            return FALSE;
        qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
    }
    return TRUE;
}

/* libvirt always gives QEMU an audio backend, 'none' unless configured otherwise. */
gboolean qemu_build_audio(QemuCmd *cmd, GError **error)
{
    guint i;

    if (!cmd->first_audio_id) {
        cmd->first_audio_id = 1;
        qemu_cmd_add_pair(cmd, "-audiodev", "{\"id\":\"audio1\",\"driver\":\"none\"}");
        return TRUE;
    }
    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        GString *j;

        if (d->kind != QDEV_AUDIO)
            continue;
        j = qemu_json_new();
        qemu_json_str(j, "id", d->alias);
        qemu_json_str(j, "driver", "none");
        qemu_cmd_take_pair(cmd, "-audiodev", qemu_json_finish(j));
    }
    return TRUE;
}

static gboolean audio_exists(QemuCmd *cmd, int id)
{
    guint i;

    if (id == cmd->first_audio_id)
        return TRUE;
    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_AUDIO && d->audio_id == id)
            return TRUE;
    }
    return FALSE;
}

static gboolean audio_ref(QemuCmd *cmd, const QemuDev *d, char **out, GError **error)
{
    int id = d->audio_id ? d->audio_id : cmd->first_audio_id;

    if (!audio_exists(cmd, id)) {
        qemu_unsupported(error, _("<audio id='%d'> referenced by <%s> '%s' does not exist"), id,
                         d->what, d->alias);
        return FALSE;
    }
    *out = g_strdup_printf("audio%d", id);
    return TRUE;
}

gboolean qemu_build_graphics(QemuCmd *cmd, GError **error)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        const HearthDomainGraphics *gr = d->src;
        const HearthGraphicsListen *l;
        const char *share, *ws, *power;
        g_autofree char *audio = NULL;
        GString *s;
        int port;

        if (d->kind != QDEV_GRAPHICS)
            continue;
        if (!audio_ref(cmd, d, &audio, error))
            return FALSE;
        l = gr->listens->len ? g_ptr_array_index(gr->listens, 0) : NULL;
        port =
            (gr->autoport == HEARTH_TRISTATE_YES || gr->port <= 0) ? cmd->opts->vnc_port : gr->port;
        s = g_string_new(NULL);
        if (l && strcmp(l->type, "socket") == 0) {
            g_autofree char *path =
                l->socket ? g_strdup(l->socket)
                          : g_build_filename(cmd->opts->runtime_dir ? cmd->opts->runtime_dir : "/",
                                             "vnc.sock", NULL);

            g_string_append(s, "unix:");
            qemu_opt_escape(s, path);
        } else if (l && strcmp(l->type, "none") == 0) {
            g_string_append(s, "none");
        } else {
            /* libvirt's default vnc_listen is 127.0.0.1 */
            const char *addr = l && l->address ? l->address : "127.0.0.1";

            if (strchr(addr, ':'))
                g_string_append_printf(s, "[%s]", addr);
            else
                qemu_opt_escape(s, addr);
            g_string_append_printf(s, ":%d", port - 5900);
            ws = qemu_extra_attr(&gr->extra, "websocket");
            if (ws)
                g_string_append_printf(s, ",websocket=%s", ws);
        }
        share = qemu_extra_attr(&gr->extra, "sharePolicy");
        if (share)
            g_string_append_printf(s, ",share=%s", share);
        /* The password itself is set over QMP (set_password) before the guest runs. */
        if (gr->passwd)
            g_string_append(s, ",password=on");
        power = qemu_extra_attr(&gr->extra, "powerControl");
        if (power)
            g_string_append_printf(s, ",power-control=%s", strcmp(power, "yes") ? "off" : "on");
        g_string_append_printf(s, ",audiodev=%s", audio);
        qemu_cmd_take_pair(cmd, "-vnc", g_string_free(s, FALSE));
        if (gr->keymap)
            qemu_cmd_add_pair(cmd, "-k", gr->keymap);
    }
    return TRUE;
}

static guint video_kib(const HearthDomainVideo *v, const char *attr, guint def)
{
    const char *s = qemu_extra_attr(&v->model_extra, attr);
    guint64 n;

    return s && qemu_parse_uint(s, G_MAXUINT, &n) ? (guint)n : def;
}

gboolean qemu_build_videos(QemuCmd *cmd, GError **error)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        const HearthDomainVideo *v = d->src;
        g_autoptr(GString) j = NULL;
        guint vram;

        if (d->kind != QDEV_VIDEO || d->skip)
            continue;
        /* libvirt's default sizes, in KiB */
        vram = v->vram ? v->vram : (strcmp(d->model, "qxl") == 0 ? 65536 : 16384);
        j = qemu_json_new();
        qemu_json_str(j, "driver", d->driver);
        qemu_json_str(j, "id", d->alias);
        if (strcmp(d->model, "qxl") == 0 || strcmp(d->model, "virtio") == 0)
            qemu_json_int(j, "max_outputs", v->heads ? v->heads : 1);
        if (strcmp(d->model, "qxl") == 0) {
            qemu_json_int(j, "ram_size", (gint64)video_kib(v, "ram", 65536) * 1024);
            qemu_json_int(j, "vram_size", (gint64)vram * 1024);
            qemu_json_int(j, "vram64_size_mb", video_kib(v, "vram64", 0) / 1024);
            qemu_json_int(j, "vgamem_mb", video_kib(v, "vgamem", 16384) / 1024);
        } else if (strcmp(d->model, "vga") == 0 || strcmp(d->model, "vmvga") == 0) {
            qemu_json_int(j, "vgamem_mb", vram / 1024);
        } else if (strcmp(d->model, "bochs") == 0) {
            qemu_json_int(j, "vgamem", (gint64)vram * 1024);
        }
        if (!qemu_addr_json(cmd, j, d, error))
            return FALSE;
        qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
    }
    return TRUE;
}

static void sound_codec(QemuCmd *cmd, const QemuDev *d, const char *type, int cad,
                        const char *audio)
{
    g_autofree char *id = g_strdup_printf("%s-codec%d", d->alias, cad);
    g_autofree char *bus = g_strdup_printf("%s.0", d->alias);
    g_autofree char *driver = g_strdup_printf("hda-%s", type);
    GString *j = qemu_json_new();

    qemu_json_str(j, "driver", driver);
    qemu_json_str(j, "id", id);
    qemu_json_str(j, "bus", bus);
    qemu_json_int(j, "cad", cad);
    qemu_json_str(j, "audiodev", audio);
    qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(j));
}

gboolean qemu_build_sounds(QemuCmd *cmd, GError **error)
{
    guint i, c;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);
        const HearthDomainSound *s = d->src;
        gboolean hda;
        g_autoptr(GString) j = NULL;
        g_autofree char *audio = NULL;
        int cad = 0;

        if (d->kind != QDEV_SOUND)
            continue;
        if (!audio_ref(cmd, d, &audio, error))
            return FALSE;
        hda = g_str_has_suffix(d->driver, "hda");
        j = qemu_json_new();
        qemu_json_str(j, "driver", d->driver);
        qemu_json_str(j, "id", d->alias);
        if (!hda)
            qemu_json_str(j, "audiodev", audio);
        if (!qemu_addr_json(cmd, j, d, error))
            return FALSE;
        qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&j)));
        if (!hda)
            continue;
        for (c = 0; s->extra.children && c < s->extra.children->len; c++) {
            g_autofree char *name = NULL;
            g_autoptr(GHashTable) a =
                qemu_xml_attrs(g_ptr_array_index(s->extra.children, c), &name, error);

            if (!a)
                return FALSE;
            if (strcmp(name, "codec") == 0)
                sound_codec(cmd, d, g_hash_table_lookup(a, "type"), cad++, audio);
        }
        if (cad == 0)
            sound_codec(cmd, d, "duplex", 0, audio);
    }
    return TRUE;
}
