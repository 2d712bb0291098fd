#include "systemd-glue.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_FDS_START 3

void systemd_notify(const char *state)
{
    const char *path = g_getenv("NOTIFY_SOCKET");
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    socklen_t len;
    gsize plen;
    int fd;

    if (!path || !*path || (path[0] != '/' && path[0] != '@'))
        return;
    plen = strlen(path);
    if (plen >= sizeof(addr.sun_path))
        return;
    memcpy(addr.sun_path, path, plen);
    if (path[0] == '@')
        addr.sun_path[0] = '\0'; /* abstract namespace */
    len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen);
    fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    if (sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&addr, len) < 0)
        g_debug("cannot notify systemd: %s", g_strerror(errno));
    close(fd);
}

int systemd_listen_fds_with_names(char ***names)
{
    const char *pid = g_getenv("LISTEN_PID");
    const char *fds = g_getenv("LISTEN_FDS");
    const char *fdnames = g_getenv("LISTEN_FDNAMES");
    gint64 n;

    *names = NULL;
    if (!pid || !fds)
        return 0;
    if (g_ascii_strtoll(pid, NULL, 10) != getpid())
        return 0; /* meant for another process */
    n = g_ascii_strtoll(fds, NULL, 10);
    if (n <= 0 || n > 64)
        return n == 0 ? 0 : -EINVAL;
    for (int fd = LISTEN_FDS_START; fd < LISTEN_FDS_START + n; fd++)
        fcntl(fd, F_SETFD, FD_CLOEXEC);
    if (fdnames) {
        *names = g_strsplit(fdnames, ":", -1);
        if (g_strv_length(*names) != (guint)n)
            g_clear_pointer(names, g_strfreev);
    }
    g_unsetenv("LISTEN_PID");
    g_unsetenv("LISTEN_FDS");
    g_unsetenv("LISTEN_FDNAMES");
    return (int)n;
}
