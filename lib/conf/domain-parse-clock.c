/* <clock> and its timers. */
#include "domain-internal.h"

static void timer_free(gpointer p)
{
    HearthClockTimer *t = p;

    g_free(t->name);
    g_free(t->tickpolicy);
    xml_extra_clear(&t->extra);
    g_free(t);
}

static gboolean timer_parse(XNode *c, HearthDomainClock *clock, GError **error)
{
    HearthClockTimer *t = g_new0(HearthClockTimer, 1);
    XNode *x;

    g_ptr_array_add(clock->timers, t);
    if (!conf_prop_enum(c, "name",
                        CONF_ATTRS("platform", "pit", "rtc", "hpet", "tsc", "kvmclock",
                                   "hypervclock", "armvtimer"),
                        TRUE, &t->name, error) ||
        !conf_prop_enum(c, "tickpolicy", CONF_ATTRS("delay", "catchup", "merge", "discard"), FALSE,
                        &t->tickpolicy, error) ||
        !conf_prop_tristate(c, "present", FALSE, &t->present, error))
        return FALSE;
    xml_extra_collect_attrs(&t->extra, c, CONF_ATTRS("name", "tickpolicy", "present"));
    XML_FOREACH_CHILD(c, x)
    xml_extra_add_child(&t->extra, x);
    return TRUE;
}

gboolean domain_clock_parse(XNode *node, HearthDomainClock *clock, GError **error)
{
    XNode *c;

    clock->present = TRUE;
    clock->timers = g_ptr_array_new_with_free_func(timer_free);
    if (!conf_prop_enum(node, "offset",
                        CONF_ATTRS("utc", "localtime", "timezone", "variable", "absolute"), FALSE,
                        &clock->offset, error))
        return FALSE;
    xml_extra_collect_attrs(&clock->extra, node, CONF_ATTRS("offset"));
    XML_FOREACH_CHILD(node, c)
    {
        if (xml_is(c, "timer")) {
            if (!timer_parse(c, clock, error))
                return FALSE;
        } else {
            xml_extra_add_child(&clock->extra, c);
        }
    }
    return TRUE;
}

void domain_clock_format(GString *buf, int level, const HearthDomainClock *clock)
{
    guint i;

    if (!clock->present)
        return;
    xml_buf_indent(buf, level);
    g_string_append(buf, "<clock");
    xml_buf_attr(buf, "offset", clock->offset ? clock->offset : "utc");
    xml_extra_format_attrs(buf, &clock->extra);
    if ((!clock->timers || clock->timers->len == 0) && !clock->extra.children) {
        g_string_append(buf, "/>\n");
        return;
    }
    g_string_append(buf, ">\n");
    for (i = 0; clock->timers && i < clock->timers->len; i++) {
        const HearthClockTimer *t = g_ptr_array_index(clock->timers, i);

        xml_buf_indent(buf, level + 1);
        g_string_append(buf, "<timer");
        xml_buf_attr(buf, "name", t->name);
        xml_buf_attr(buf, "tickpolicy", t->tickpolicy);
        xml_buf_attr(buf, "present", conf_tristate_str(t->present, FALSE));
        xml_extra_format_attrs(buf, &t->extra);
        if (t->extra.children) {
            g_string_append(buf, ">\n");
            xml_extra_format_children(buf, level + 2, &t->extra);
            xml_buf_indent(buf, level + 1);
            g_string_append(buf, "</timer>\n");
        } else {
            g_string_append(buf, "/>\n");
        }
    }
    xml_extra_format_children(buf, level + 1, &clock->extra);
    xml_buf_indent(buf, level);
    g_string_append(buf, "</clock>\n");
}

void domain_clock_clear(HearthDomainClock *clock)
{
    g_free(clock->offset);
    if (clock->timers)
        g_ptr_array_unref(clock->timers);
    xml_extra_clear(&clock->extra);
    memset(clock, 0, sizeof(*clock));
}
