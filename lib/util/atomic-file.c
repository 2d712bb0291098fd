#include "atomic-file.h"
#include "hearth-error.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean fsync_dir_of(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot open directory '%s'", dir);
        return FALSE;
    }
    if (fsync(fd) < 0) {
        int saved = errno;
        close(fd);
        hearth_error_set_errno(error, saved, "cannot sync directory '%s'", dir);
        return FALSE;
    }
    close(fd);
    return TRUE;
}

gboolean atomic_file_write(const char *path, const char *data, gsize len, int mode, GError **error)
{
    g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, mode);
    gsize done = 0;

    if (fd < 0) {
        hearth_error_set_errno(error, errno, "cannot create temporary file for '%s'", path);
        return FALSE;
    }
    while (done < len) {
        ssize_t n = write(fd, data + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            goto fail;
        done += (gsize)n;
    }
    if (fchmod(fd, (mode_t)mode) < 0 || fsync(fd) < 0)
        goto fail;
    if (close(fd) < 0) {
        fd = -1;
        goto fail;
    }
    fd = -1;
    if (rename(tmp, path) < 0)
        goto fail;
    return fsync_dir_of(path, error);

fail : {
    int saved = errno;
    if (fd >= 0)
        close(fd);
    unlink(tmp);
    hearth_error_set_errno(error, saved, "cannot write '%s'", path);
    return FALSE;
}
}

gboolean atomic_file_remove(const char *path, GError **error)
{
    if (unlink(path) < 0) {
        if (errno == ENOENT)
            return TRUE;
        hearth_error_set_errno(error, errno, "cannot remove '%s'", path);
        return FALSE;
    }
    return fsync_dir_of(path, error);
}

gboolean hearth_mkdir_p(const char *path, int mode, GError **error)
{
    if (g_mkdir_with_parents(path, mode) < 0) {
        hearth_error_set_errno(error, errno, "cannot create directory '%s'", path);
        return FALSE;
    }
    return TRUE;
}
