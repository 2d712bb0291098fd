/* Buffers, errors as values, time, and unix sockets. */
#include "worker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>

/* A buffer holding nothing gives its memory back once it has grown past this. */
#define WK_BUF_KEEP (64 * 1024)

void *wk_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort(); /* a 2 MiB monitor without memory cannot do anything useful */
    return p;
}

char *wk_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(wk_xmalloc(n), s, n);
}

static void buf_reserve(struct wk_buf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 4096;
    char *p;

    if (b->len + more + 1 <= b->cap)
        return;
    while (cap < b->len + more + 1)
        cap *= 2;
    p = realloc(b->data, cap);
    if (!p)
        abort();
    b->data = p;
    b->cap = cap;
}

void wk_buf_append(struct wk_buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void wk_buf_consume(struct wk_buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
        if (b->cap > WK_BUF_KEEP)
            wk_buf_free(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

void wk_buf_free(struct wk_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int wk_buf_read(struct wk_buf *b, int fd)
{
    ssize_t n;

    /* Straight into the buffer: no stack copy, and an idle buffer stays small. */
    buf_reserve(b, 4095);
    do
        n = read(fd, b->data + b->len, b->cap - b->len - 1);
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return (errno == EAGAIN || errno == EWOULDBLOCK) ? -2 : -1;
    if (n == 0)
        return 0;
    b->len += (size_t)n;
    b->data[b->len] = '\0';
    return 1;
}

int wk_buf_flush(struct wk_buf *b, int fd)
{
    size_t done = 0;

    while (done < b->len) {
        ssize_t n = send(fd, b->data + done, b->len - done, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (n < 0)
            return -1;
        done += (size_t)n;
    }
    wk_buf_consume(b, done);
    return 0;
}

char *wk_buf_next_line(struct wk_buf *b, size_t *pos, size_t *len)
{
    char *start, *nl;

    if (*pos >= b->len)
        return NULL;
    start = b->data + *pos;
    nl = memchr(start, '\n', b->len - *pos);
    if (!nl)
        return NULL;
    *nl = '\0';
    *len = (size_t)(nl - start);
    *pos += *len + 1;
    return start;
}

uint64_t wk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void wk_err(char *err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, WK_ERRLEN, fmt, ap);
    va_end(ap);
}

void wk_err_errno(char *err, int errnum, const char *fmt, ...)
{
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(err, WK_ERRLEN, fmt, ap);
    va_end(ap);
    n = strlen(err);
    snprintf(err + n, WK_ERRLEN - n, ": %s", strerror(errnum));
}

int wk_read_file(const char *path, size_t max, char **out, size_t *len, char *err)
{
    _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct wk_buf b = {0};

    if (fd < 0) {
        wk_err_errno(err, errno, "cannot open '%s'", path);
        return -1;
    }
    for (;;) {
        char tmp[8192];
        ssize_t n = read(fd, tmp, sizeof(tmp));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            wk_err_errno(err, errno, "cannot read '%s'", path);
            wk_buf_free(&b);
            return -1;
        }
        if (n == 0)
            break;
        if (b.len + (size_t)n > max) {
            wk_err(err, "'%s' is larger than %zu bytes", path, max);
            wk_buf_free(&b);
            return -1;
        }
        wk_buf_append(&b, tmp, (size_t)n);
    }
    if (!b.data)
        wk_buf_append(&b, "", 0);
    *out = b.data;
    *len = b.len;
    return 0;
}

int wk_write_all(int fd, const void *data, size_t len)
{
    const char *p = data;

    while (len > 0) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

static int fill_addr(struct sockaddr_un *addr, const char *path, char *err)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    if (strlen(path) >= sizeof(addr->sun_path)) {
        wk_err(err, "socket path '%s' is too long", path);
        return -1;
    }
    strcpy(addr->sun_path, path);
    return 0;
}

int wk_connect_unix(const char *path, int *fd_out, char *err)
{
    struct sockaddr_un addr;
    int fd;

    if (fill_addr(&addr, path, err) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        wk_err_errno(err, errno, "cannot create a socket");
        return -1;
    }
    /* Connecting to a listening unix socket completes at once (the backlog holds it). */
    if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        wk_err_errno(err, errno, "cannot connect to '%s'", path);
        close(fd);
        return -1;
    }
    *fd_out = fd;
    return 0;
}

int wk_listen_unix(const char *path, int backlog, int *fd_out, char *err)
{
    struct sockaddr_un addr;
    _cleanup_close_ int fd = -1;

    if (fill_addr(&addr, path, err) < 0)
        return -1;
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        wk_err_errno(err, errno, "cannot create a socket");
        return -1;
    }
    for (int attempt = 0;; attempt++) {
        if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
            break;
        if (errno != EADDRINUSE || attempt > 0) {
            wk_err_errno(err, errno, "cannot bind '%s'", path);
            return -1;
        }
        /* Somebody answering there is alive: never take its socket over. */
        int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        int rc = probe < 0 ? -1 : connect(probe, (struct sockaddr *)&addr, sizeof(addr));
        int saved = errno;
        if (probe >= 0)
            close(probe);
        if (rc == 0) {
            wk_err(err, "'%s' is in use by another process", path);
            return -2;
        }
        if (saved != ECONNREFUSED && saved != ENOENT) {
            wk_err_errno(err, saved, "cannot probe '%s'", path);
            return -1;
        }
        if (unlink(path) < 0 && errno != ENOENT) {
            wk_err_errno(err, errno, "cannot remove stale socket '%s'", path);
            return -1;
        }
    }
    if (listen(fd, backlog) < 0) {
        wk_err_errno(err, errno, "cannot listen on '%s'", path);
        unlink(path);
        return -1;
    }
    *fd_out = fd;
    fd = -1;
    return 0;
}
