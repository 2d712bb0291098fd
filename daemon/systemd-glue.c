#include "systemd-glue.h"

#include <dlfcn.h>

typedef int (*NotifyFunc)(int unset_environment, const char *state);
typedef int (*ListenFdsFunc)(int unset_environment, char ***names);

static void *libsystemd(void)
{
    static void *handle;
    static gboolean tried;

    if (!tried) {
        tried = TRUE;
        handle = dlopen("libsystemd.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!handle)
            g_warning("started by systemd, but libsystemd.so.0 cannot be loaded: %s", dlerror());
    }
    return handle;
}

void systemd_notify(const char *state)
{
    NotifyFunc notify;

    if (!g_getenv("NOTIFY_SOCKET") || !libsystemd())
        return;
    notify = (NotifyFunc)dlsym(libsystemd(), "sd_notify");
    if (notify)
        notify(0, state);
}

int systemd_listen_fds_with_names(char ***names)
{
    ListenFdsFunc listen_fds;

    *names = NULL;
    if (!g_getenv("LISTEN_FDS") || !libsystemd())
        return 0;
    listen_fds = (ListenFdsFunc)dlsym(libsystemd(), "sd_listen_fds_with_names");
    return listen_fds ? listen_fds(1, names) : -1;
}
