/* DOMAIN_OPEN_CONSOLE: relays a running guest's pty serial console over an RPC stream, which is
 * what `virsh console` uses. */
#include "domain-runner.h"
#include "domain-store.h"
#include "hearth-daemon.h"
#include "hearth-error.h"
#include "rpc-server.h"
#include "uuid-util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#define CONSOLE_BACKLOG_MAX (1024 * 1024)

enum { CONSOLE_FORCE = 1, CONSOLE_SAFE = 2 };

typedef struct {
    RpcStream *stream;
    int fd;
    guint watch;
    guint resume_timer;
} Console;

static void console_free(Console *c)
{
    if (c->watch)
        g_source_remove(c->watch);
    if (c->resume_timer)
        g_source_remove(c->resume_timer);
    if (c->fd >= 0)
        close(c->fd);
    g_free(c);
}

static gboolean on_pty_readable(gint fd, GIOCondition cond, gpointer data);

static gboolean resume_reading(gpointer data)
{
    Console *c = data;

    if (rpc_stream_backlog(c->stream) > CONSOLE_BACKLOG_MAX)
        return G_SOURCE_CONTINUE;
    c->resume_timer = 0;
    c->watch = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_pty_readable, c);
    return G_SOURCE_REMOVE;
}

static gboolean on_pty_readable(gint fd, GIOCondition cond, gpointer data)
{
    Console *c = data;
    guint8 buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf));

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        /* The guest's side went away (QEMU exited): end the stream. */
        c->watch = 0;
        rpc_stream_close(c->stream);
        console_free(c);
        return G_SOURCE_REMOVE;
    }
    rpc_stream_send(c->stream, buf, (gsize)n);
    if (rpc_stream_backlog(c->stream) > CONSOLE_BACKLOG_MAX) {
        /* A client that does not read its console must not make us buffer without bound. */
        c->watch = 0;
        c->resume_timer = g_timeout_add(50, resume_reading, c);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

static void on_client_data(RpcStream *stream, const guint8 *buf, gsize len, gpointer data)
{
    Console *c = data;

    while (len > 0) {
        ssize_t n = write(c->fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return; /* the guest is not reading: drop keystrokes rather than block */
        buf += n;
        len -= (gsize)n;
    }
}

static void on_client_closed(RpcStream *stream, gboolean finish, gpointer data)
{
    console_free(data);
}

static const RpcStreamFuncs console_stream_funcs = {
    .data = on_client_data,
    .closed = on_client_closed,
};

DispatchResult dispatch_domain_open_console(HearthCall *call,
                                            const RemoteDomainOpenConsoleArgs *args, void *ret,
                                            GError **error)
{
    HearthDaemon *daemon = rpc_client_get_daemon(call->client);
    HearthDomain *dom = domain_store_lookup_by_uuid(daemon->domains, args->dom.uuid);
    const char *dev = args->dev_name ? args->dev_name : "serial0";
    g_autofree char *chardev = NULL;
    const char *pty;
    struct termios tio;
    Console *c;
    int fd;

    if (args->flags & ~(guint)(CONSOLE_FORCE | CONSOLE_SAFE)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_INVALID_ARG,
                    _("unsupported flags (0x%x) in function virDomainOpenConsole"), args->flags);
        return DISPATCH_FAILED;
    }
    if (!dom) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_NO_DOMAIN,
                    _("no domain with matching name '%s'"), args->dom.name);
        return DISPATCH_FAILED;
    }
    if (!hearth_domain_is_active(dom)) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_INVALID, _("domain is not running"));
        return DISPATCH_FAILED;
    }
    /* virsh names consoles by alias ("serial0", "console0"); console0 mirrors serial0. */
    if (g_str_equal(dev, "console0"))
        dev = "serial0";
    chardev = g_strconcat("char", dev, NULL);
    pty = domain_runner_pty(dom, chardev);
    if (!pty) {
        g_set_error(error, HEARTH_ERROR, HEARTH_ERR_OPERATION_FAILED,
                    _("cannot find character device %s"), dev);
        return DISPATCH_FAILED;
    }
    fd = open(pty, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot open console '%s'", pty);
        return DISPATCH_FAILED;
    }
    /* Raw mode: the guest's bytes pass through untouched, as with libvirt. */
    if (tcgetattr(fd, &tio) == 0) {
        cfmakeraw(&tio);
        tcsetattr(fd, TCSADRAIN, &tio);
    }
    c = g_new0(Console, 1);
    c->fd = fd;
    c->stream = rpc_stream_open(call, &console_stream_funcs, c);
    c->watch = g_unix_fd_add(fd, G_IO_IN | G_IO_HUP | G_IO_ERR, on_pty_readable, c);
    return DISPATCH_DONE;
}
