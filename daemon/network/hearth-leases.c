/* hearth-leases: dnsmasq's --dhcp-script for Hearth networks. dnsmasq runs it (as root) with
 *   init                         print the known leases (dnsmasq keeps none: --leasefile-ro)
 *   add|old|del MAC IP [NAME]    a lease was granted, renewed or released
 * and the DNSMASQ_* environment. It keeps $HEARTH_LEASES_FILE (set by hearthd), the JSON
 * list that `virsh net-dhcp-leases` shows. */
#include "network-leases.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

static const char *env_or_null(const char *name)
{
    const char *v = getenv(name);

    return v && *v ? v : NULL;
}

static gint64 lease_expiry(gint64 now)
{
    const char *expires = env_or_null("DNSMASQ_LEASE_EXPIRES");
    const char *remaining = env_or_null("DNSMASQ_TIME_REMAINING");

    if (expires)
        return g_ascii_strtoll(expires, NULL, 10);
    if (remaining)
        return now + g_ascii_strtoll(remaining, NULL, 10);
    return 0;
}

static void print_leases(GPtrArray *leases)
{
    /* dnsmasq's lease file format: EXPIRY MAC IP HOSTNAME CLIENT-ID, '*' for none. */
    for (guint i = 0; i < leases->len; i++) {
        const NetworkLease *l = g_ptr_array_index(leases, i);

        printf("%" G_GINT64_FORMAT " %s %s %s %s\n", l->expiry, l->mac, l->ip,
               l->hostname ? l->hostname : "*", l->client_id ? l->client_id : "*");
    }
}

/* Remove every lease for @ip; returns the hostname of the last one removed (to keep on "old"). */
static char *remove_ip(GPtrArray *leases, const char *ip)
{
    char *hostname = NULL;

    for (guint i = leases->len; i-- > 0;) {
        NetworkLease *l = g_ptr_array_index(leases, i);

        if (g_ascii_strcasecmp(l->ip, ip) == 0) {
            if (!hostname)
                hostname = g_strdup(l->hostname);
            g_ptr_array_remove_index(leases, i);
        }
    }
    return hostname;
}

int main(int argc, char **argv)
{
    const char *path = env_or_null("HEARTH_LEASES_FILE");
    const char *action = argc > 1 ? argv[1] : "";
    g_autoptr(GPtrArray) leases = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *lock_path = NULL;
    gint64 now = g_get_real_time() / G_USEC_PER_SEC;
    gboolean changed;
    int lock_fd;

    if (!path) {
        fprintf(stderr, "hearth-leases: HEARTH_LEASES_FILE is not set\n");
        return 1;
    }
    if (strcmp(action, "init") != 0 &&
        !((strcmp(action, "add") == 0 || strcmp(action, "old") == 0 ||
           strcmp(action, "del") == 0) &&
          argc >= 4)) {
        fprintf(stderr, "usage: hearth-leases init | add|old|del MAC IP [HOSTNAME]\n");
        return 1;
    }
    /* dnsmasq runs one script at a time, but a second dnsmasq on the same bridge after a
     * restart could overlap with the first one's last call. */
    lock_path = g_strconcat(path, ".lock", NULL);
    lock_fd = open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lock_fd < 0 || flock(lock_fd, LOCK_EX) < 0) {
        fprintf(stderr, "hearth-leases: cannot lock %s: %s\n", lock_path, g_strerror(errno));
        return 1;
    }
    leases = network_leases_load(path, &error);
    if (!leases) {
        /* A damaged file must not stop DHCP: start over. */
        fprintf(stderr, "hearth-leases: %s; starting with no leases\n", error->message);
        leases = g_ptr_array_new_with_free_func((GDestroyNotify)network_lease_free);
    }
    changed = network_leases_expire(leases, now);

    if (strcmp(action, "init") == 0) {
        print_leases(leases);
    } else {
        const char *mac = argv[2], *ip = argv[3];
        g_autofree char *old_name = remove_ip(leases, ip);

        if (strcmp(action, "del") != 0) {
            NetworkLease *l = g_new0(NetworkLease, 1);
            const char *name = argc > 4 && *argv[4] ? argv[4] : NULL;

            l->ip = g_strdup(ip);
            l->mac = g_ascii_strdown(mac, -1);
            l->client_id = g_strdup(env_or_null("DNSMASQ_CLIENT_ID"));
            l->hostname = g_strdup(name ? name : env_or_null("DNSMASQ_SUPPLIED_HOSTNAME"));
            if (!l->hostname && strcmp(action, "old") == 0)
                l->hostname = g_steal_pointer(&old_name);
            l->expiry = lease_expiry(now);
            g_ptr_array_add(leases, l);
        }
        changed = TRUE;
    }
    if (changed && !network_leases_save(path, leases, &error)) {
        fprintf(stderr, "hearth-leases: %s\n", error->message);
        return 1;
    }
    close(lock_fd);
    return 0;
}
