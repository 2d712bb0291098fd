/* Small devices: controller, input, video, sound, memballoon, rng. */
#include "domain-internal.h"

/* Unknown children go to @extra, alias/address (and boot) to @info. */
static gboolean misc_child(HearthDeviceInfo *info, HearthXmlExtra *extra, XNode *c, GError **error)
{
    int r = device_info_parse_child(info, c, FALSE, error);

    if (r < 0)
        return FALSE;
    if (r == 0)
        xml_extra_add_child(extra, c);
    return TRUE;
}

/* Opening tag already written without '>': close it and write the body. */
static void misc_body(GString *buf, int level, const char *name, const HearthXmlExtra *extra,
                      const HearthDeviceInfo *info, guint flags)
{
    gboolean alias = info->alias && (!(flags & DOMAIN_DEF_FORMAT_INACTIVE) ||
                                     g_str_has_prefix(info->alias, "ua-"));

    if (!extra->children && !alias && !info->address && !info->boot_order) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    device_tail_format(buf, level + 1, info, extra, flags);
    xml_buf_indent(buf, level);
    g_string_append_printf(buf, "</%s>\n", name);
}

/* ---- controller ---- */

gboolean controller_parse(XNode *node, HearthDomainController *ctl, GError **error)
{
    XNode *c;
    guint64 index = 0;

    ctl->index = -1;
    if (!conf_prop_enum(node, "type",
                        CONF_ATTRS("ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb",
                                   "pci", "xenbus", "isa"),
                        TRUE, &ctl->type, error))
        return FALSE;
    xml_extra_collect_attrs(&ctl->extra, node, CONF_ATTRS("type", "index", "model"));
    if (xml_prop(node, "index")) {
        if (!conf_prop_uint(node, "index", G_MAXINT, &index, error))
            return FALSE;
        ctl->index = (int)index;
    }
    ctl->model = xml_prop_dup(node, "model");
    XML_FOREACH_CHILD(node, c)
    {
        if (!misc_child(&ctl->info, &ctl->extra, c, error))
            return FALSE;
    }
    return TRUE;
}

void controller_format(GString *buf, int level, const HearthDomainController *ctl, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<controller");
    xml_buf_attr(buf, "type", ctl->type);
    g_string_append_printf(buf, " index='%d'", ctl->index);
    xml_buf_attr(buf, "model", ctl->model);
    xml_extra_format_attrs(buf, &ctl->extra);
    misc_body(buf, level, "controller", &ctl->extra, &ctl->info, flags);
}

void controller_free(HearthDomainController *ctl)
{
    if (!ctl)
        return;
    g_free(ctl->type);
    g_free(ctl->model);
    device_info_clear(&ctl->info);
    xml_extra_clear(&ctl->extra);
    g_free(ctl);
}

/* ---- input ---- */

gboolean input_parse(XNode *node, HearthDomainInput *in, GError **error)
{
    XNode *c;

    if (!conf_prop_enum(node, "type",
                        CONF_ATTRS("mouse", "tablet", "keyboard", "passthrough", "evdev"), TRUE,
                        &in->type, error) ||
        !conf_prop_enum(node, "bus", CONF_ATTRS("ps2", "usb", "xen", "virtio", "none"), FALSE,
                        &in->bus, error))
        return FALSE;
    xml_extra_collect_attrs(&in->extra, node, CONF_ATTRS("type", "bus"));
    XML_FOREACH_CHILD(node, c)
    {
        if (!misc_child(&in->info, &in->extra, c, error))
            return FALSE;
    }
    return TRUE;
}

void input_format(GString *buf, int level, const HearthDomainInput *in, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<input");
    xml_buf_attr(buf, "type", in->type);
    xml_buf_attr(buf, "bus", in->bus);
    xml_extra_format_attrs(buf, &in->extra);
    misc_body(buf, level, "input", &in->extra, &in->info, flags);
}

void input_free(HearthDomainInput *in)
{
    if (!in)
        return;
    g_free(in->type);
    g_free(in->bus);
    device_info_clear(&in->info);
    xml_extra_clear(&in->extra);
    g_free(in);
}

/* ---- video ---- */

static gboolean video_model_parse(XNode *node, HearthDomainVideo *video, GError **error)
{
    guint64 v;
    XNode *c;

    video->has_model = TRUE;
    if (!conf_prop_enum(node, "type",
                        CONF_ATTRS("vga", "cirrus", "vmvga", "xen", "vbox", "qxl", "parallels",
                                   "virtio", "gop", "none", "bochs", "ramfb"),
                        FALSE, &video->model_type, error))
        return FALSE;
    xml_extra_collect_attrs(&video->model_extra, node,
                            CONF_ATTRS("type", "vram", "heads", "primary"));
    v = 0;
    if (!conf_prop_uint(node, "vram", G_MAXUINT, &v, error))
        return FALSE;
    video->vram = (guint)v;
    v = 0;
    if (!conf_prop_uint(node, "heads", G_MAXUINT, &v, error))
        return FALSE;
    video->heads = (guint)v;
    if (!conf_prop_tristate(node, "primary", FALSE, &video->primary, error))
        return FALSE;
    XML_FOREACH_CHILD(node, c)
    xml_extra_add_child(&video->model_extra, c);
    return TRUE;
}

gboolean video_parse(XNode *node, HearthDomainVideo *video, GError **error)
{
    XNode *c;

    xml_extra_collect_attrs(&video->extra, node, NULL);
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "model") && !video->has_model) {
            if (!video_model_parse(c, video, error))
                return FALSE;
        } else if (!misc_child(&video->info, &video->extra, c, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

void video_format(GString *buf, int level, const HearthDomainVideo *video, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<video");
    xml_extra_format_attrs(buf, &video->extra);
    g_string_append(buf, ">\n");
    if (video->has_model) {
        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<model");
        xml_buf_attr(buf, "type", video->model_type);
        if (video->vram)
            xml_buf_attr_uint(buf, "vram", video->vram);
        if (video->heads)
            xml_buf_attr_uint(buf, "heads", video->heads);
        xml_buf_attr(buf, "primary", conf_tristate_str(video->primary, FALSE));
        xml_extra_format_attrs(buf, &video->model_extra);
        if (video->model_extra.children) {
            g_string_append(buf, ">\n");
            xml_extra_format_children(buf, level + 2, &video->model_extra);
            xml_buf_indent(buf, level + 1);
            g_string_append(buf, "</model>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    device_tail_format(buf, level + 1, &video->info, &video->extra, flags);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</video>\n");
}

void video_free(HearthDomainVideo *video)
{
    if (!video)
        return;
    g_free(video->model_type);
    xml_extra_clear(&video->model_extra);
    device_info_clear(&video->info);
    xml_extra_clear(&video->extra);
    g_free(video);
}

/* ---- sound ---- */

gboolean sound_parse(XNode *node, HearthDomainSound *sound, GError **error)
{
    XNode *c;

    if (!conf_prop_enum(node, "model", NULL, TRUE, &sound->model, error))
        return FALSE;
    xml_extra_collect_attrs(&sound->extra, node, CONF_ATTRS("model"));
    XML_FOREACH_CHILD(node, c)
    {
        if (!misc_child(&sound->info, &sound->extra, c, error))
            return FALSE;
    }
    return TRUE;
}

void sound_format(GString *buf, int level, const HearthDomainSound *sound, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<sound");
    xml_buf_attr(buf, "model", sound->model);
    xml_extra_format_attrs(buf, &sound->extra);
    misc_body(buf, level, "sound", &sound->extra, &sound->info, flags);
}

void sound_free(HearthDomainSound *sound)
{
    if (!sound)
        return;
    g_free(sound->model);
    device_info_clear(&sound->info);
    xml_extra_clear(&sound->extra);
    g_free(sound);
}

/* ---- memballoon ---- */

gboolean memballoon_parse(XNode *node, HearthDomainMemballoon *mb, GError **error)
{
    XNode *c;

    mb->stats_period = -1;
    if (!conf_prop_enum(
            node, "model",
            CONF_ATTRS("virtio", "xen", "none", "virtio-transitional", "virtio-non-transitional"),
            TRUE, &mb->model, error))
        return FALSE;
    xml_extra_collect_attrs(&mb->extra, node, CONF_ATTRS("model"));
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "stats") && mb->stats_period < 0 && xml_prop(c, "period") &&
            xml_is_simple(c, CONF_ATTRS("period"))) {
            guint64 period = 0;

            if (!conf_prop_uint(c, "period", G_MAXINT, &period, error))
                return FALSE;
            mb->stats_period = (int)period;
        } else if (!misc_child(&mb->info, &mb->extra, c, error)) {
            return FALSE;
        }
    }
    return TRUE;
}

void memballoon_format(GString *buf, int level, const HearthDomainMemballoon *mb, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<memballoon");
    xml_buf_attr(buf, "model", mb->model);
    xml_extra_format_attrs(buf, &mb->extra);
    if (mb->stats_period < 0) {
        misc_body(buf, level, "memballoon", &mb->extra, &mb->info, flags);
        return;
    }
    g_string_append(buf, ">\n");
    xml_buf_indent(buf, level + 1);
    g_string_append_printf(buf, "<stats period='%d'/>\n", mb->stats_period);
    device_tail_format(buf, level + 1, &mb->info, &mb->extra, flags);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</memballoon>\n");
}

void memballoon_free(HearthDomainMemballoon *mb)
{
    if (!mb)
        return;
    g_free(mb->model);
    device_info_clear(&mb->info);
    xml_extra_clear(&mb->extra);
    g_free(mb);
}

/* ---- rng ---- */

gboolean rng_parse(XNode *node, HearthDomainRng *rng, GError **error)
{
    XNode *c;
    gboolean have_backend = FALSE;

    if (!conf_prop_enum(node, "model",
                        CONF_ATTRS("virtio", "virtio-transitional", "virtio-non-transitional"),
                        TRUE, &rng->model, error))
        return FALSE;
    xml_extra_collect_attrs(&rng->extra, node, CONF_ATTRS("model"));
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "backend") && !have_backend) {
            XNode *t;

            have_backend = TRUE;
            if (!conf_prop_enum(c, "model", CONF_ATTRS("random", "egd", "builtin"), TRUE,
                                &rng->backend_model, error))
                return FALSE;
            xml_extra_collect_attrs(&rng->backend_extra, c, CONF_ATTRS("model"));
            if (xml_first_element(c)) {
                XML_FOREACH_CHILD(c, t)
                xml_extra_add_child(&rng->backend_extra, t);
            } else {
                g_autofree char *path = xml_text_dup(c);

                if (*g_strstrip(path))
                    rng->backend_path = g_steal_pointer(&path);
            }
        } else if (!misc_child(&rng->info, &rng->extra, c, error)) {
            return FALSE;
        }
    }
    if (!have_backend) {
        conf_error(error, HEARTH_ERR_XML_ERROR, _("missing <backend> in <rng> (line %d)"),
                   xml_line(node));
        return FALSE;
    }
    return TRUE;
}

void rng_format(GString *buf, int level, const HearthDomainRng *rng, guint flags)
{
    xml_buf_indent(buf, level);
    g_string_append(buf, "<rng");
    xml_buf_attr(buf, "model", rng->model);
    xml_extra_format_attrs(buf, &rng->extra);
    g_string_append(buf, ">\n");
    xml_buf_indent(buf, level + 1);
    g_string_append(buf, "<backend");
    xml_buf_attr(buf, "model", rng->backend_model);
    xml_extra_format_attrs(buf, &rng->backend_extra);
    if (rng->backend_extra.children) {
        g_string_append(buf, ">\n");
        xml_extra_format_children(buf, level + 2, &rng->backend_extra);
        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "</backend>\n");
    } else if (rng->backend_path) {
        g_string_append_c(buf, '>');
        xml_buf_escape_text(buf, rng->backend_path);
        g_string_append(buf, "</backend>\n");
    } else {
        g_string_append(buf, "/>\n");
    }
    device_tail_format(buf, level + 1, &rng->info, &rng->extra, flags);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</rng>\n");
}

void rng_free(HearthDomainRng *rng)
{
    if (!rng)
        return;
    g_free(rng->model);
    g_free(rng->backend_model);
    g_free(rng->backend_path);
    xml_extra_clear(&rng->backend_extra);
    device_info_clear(&rng->info);
    xml_extra_clear(&rng->extra);
    g_free(rng);
}
