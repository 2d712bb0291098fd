/* <interface>: -netdev (user, or tap on an fd the caller opened) plus the NIC -device. */
#include "qemu-command-priv.h"

#include <string.h>

static const struct {
    const char *model;
    const char *driver;
} nic_models[] = {
    {"virtio", "virtio-net-pci"},
    {"virtio-transitional", "virtio-net-pci-transitional"},
    {"virtio-non-transitional", "virtio-net-pci-non-transitional"},
    {"e1000", "e1000"},
    {"e1000e", "e1000e"},
    {"rtl8139", "rtl8139"},
    {"ne2k_pci", "ne2k_pci"},
    {"pcnet", "pcnet"},
    {"vmxnet3", "vmxnet3"},
};

static gboolean net_uses_tap(const HearthDomainInterface *net)
{
    return net->type == HEARTH_NET_TYPE_NETWORK || net->type == HEARTH_NET_TYPE_BRIDGE ||
           net->type == HEARTH_NET_TYPE_ETHERNET;
}

static gboolean net_tap_fd(QemuCmd *cmd, const QemuDev *d, int *fd)
{
    gpointer value;

    if (!cmd->opts->net_fds ||
        !g_hash_table_lookup_extended(cmd->opts->net_fds, GINT_TO_POINTER((int)d->ordinal), NULL,
                                      &value))
        return FALSE;
    *fd = GPOINTER_TO_INT(value);
    return *fd >= 0;
}

gboolean qemu_net_check(QemuCmd *cmd, QemuDev *d, GError **error)
{
    const HearthDomainInterface *net = d->src;
    const char *model = net->model ? net->model : "rtl8139"; /* libvirt's x86 default */
    g_autofree char *who = NULL;
    guint i;
    int fd;

    qemu_dev_alias(d, "net%u", d->ordinal);
    who =
        g_strdup_printf("<interface type='%s'> '%s' (mac %s)", net->type_name, d->alias, net->mac);
    if (net->type == HEARTH_NET_TYPE_OTHER) {
        qemu_unsupported(error, _("interface type '%s' (%s)"), net->type_name, who);
        return FALSE;
    }
    for (i = 0; i < G_N_ELEMENTS(nic_models); i++) {
        if (strcmp(nic_models[i].model, model) == 0)
            break;
    }
    if (i == G_N_ELEMENTS(nic_models)) {
        qemu_unsupported(error, _("interface model '%s' of %s"), model, who);
        return FALSE;
    }
    d->driver = nic_models[i].driver;
    if (d->addr.type != QEMU_ADDR_NONE && d->addr.type != QEMU_ADDR_PCI) {
        qemu_unsupported(error, _("a non-PCI <address> on %s"), who);
        return FALSE;
    }
    if (!qemu_extra_check(&net->extra, "interface", who, NULL, NULL, error) ||
        !qemu_extra_check(&net->source_extra, "source", who, QEMU_LIST("portid", "bridge"), NULL,
                          error) ||
        !qemu_extra_check(&net->target_extra, "target", who, QEMU_LIST("managed"), NULL, error))
        return FALSE;
    if (net_uses_tap(net) && !net_tap_fd(cmd, d, &fd)) {
        qemu_internal(error, _("no tap file descriptor was opened for %s"), who);
        return FALSE;
    }
    return TRUE;
}

static gboolean net_emit(QemuCmd *cmd, const QemuDev *d, GError **error)
{
    const HearthDomainInterface *net = d->src;
    g_autofree char *netdev = g_strdup_printf("host%s", d->alias);
    GString *j = qemu_json_new();
    g_autoptr(GString) dev = NULL;
    int fd;

    if (net_uses_tap(net) && net_tap_fd(cmd, d, &fd)) {
        g_autofree char *fdstr = g_strdup_printf("%d", fd);

        qemu_json_str(j, "type", "tap");
        qemu_json_str(j, "fd", fdstr); /* a string in the JSON form, as libvirt writes it */
    } else {
        qemu_json_str(j, "type", "user");
    }
    qemu_json_str(j, "id", netdev);
    qemu_cmd_take_pair(cmd, "-netdev", qemu_json_finish(j));

    dev = qemu_json_new();
    qemu_json_str(dev, "driver", d->driver);
    qemu_json_str(dev, "netdev", netdev);
    qemu_json_str(dev, "id", d->alias);
    qemu_json_str(dev, "mac", net->mac);
    if (d->bootindex)
        qemu_json_int(dev, "bootindex", d->bootindex);
    if (!qemu_addr_json(cmd, dev, d, error))
        return FALSE;
    qemu_cmd_take_pair(cmd, "-device", qemu_json_finish(g_steal_pointer(&dev)));
    return TRUE;
}

gboolean qemu_build_nets(QemuCmd *cmd, GError **error)
{
    guint i;

    for (i = 0; i < cmd->devs->len; i++) {
        const QemuDev *d = g_ptr_array_index(cmd->devs, i);

        if (d->kind == QDEV_NET && !net_emit(cmd, d, error))
            return FALSE;
    }
    return TRUE;
}
