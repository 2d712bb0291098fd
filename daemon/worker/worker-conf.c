/* worker.conf and qemu.argv, as hearthd writes them. */
#include "worker.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#define WK_CONF_MAX (64 * 1024)
#define WK_ARGV_MAX_BYTES (1024 * 1024)
#define WK_ARGV_MAX_ARGS 8192

static const char *const action_names[] = {
    [WK_ACT_DESTROY] = "destroy",
    [WK_ACT_RESTART] = "restart",
    [WK_ACT_PRESERVE] = "preserve",
    [WK_ACT_RENAME_RESTART] = "rename-restart",
    [WK_ACT_COREDUMP_DESTROY] = "coredump-destroy",
    [WK_ACT_COREDUMP_RESTART] = "coredump-restart",
};

static char *trim(char *s)
{
    char *end;

    while (isspace((unsigned char)*s))
        s++;
    end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

int wk_kv_parse(char *text, wk_kv_fn fn, void *opaque, char *err)
{
    char *save = NULL;
    unsigned lineno = 0;

    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *eq, *key;
        lineno++;
        key = trim(line);
        if (*key == '\0' || *key == '#')
            continue;
        eq = strchr(key, '=');
        if (!eq) {
            wk_err(err, "line %u: expected key=value", lineno);
            return -1;
        }
        *eq = '\0';
        if (fn(opaque, trim(key), trim(eq + 1), err) < 0)
            return -1;
    }
    return 0;
}

static int parse_action(const char *key, const char *value, bool crash, enum wk_action *out,
                        char *err)
{
    for (size_t i = 0; i < sizeof(action_names) / sizeof(action_names[0]); i++) {
        if (strcmp(value, action_names[i]) != 0)
            continue;
        if (!crash && (i == WK_ACT_COREDUMP_DESTROY || i == WK_ACT_COREDUMP_RESTART))
            break;
        *out = (enum wk_action)i;
        return 0;
    }
    wk_err(err, "invalid %s '%s'", key, value);
    return -1;
}

static int conf_set(void *opaque, const char *key, const char *value, char *err)
{
    struct wk_conf *conf = opaque;
    char **str = NULL;

    if (strcmp(key, "name") == 0)
        str = &conf->name;
    else if (strcmp(key, "uuid") == 0)
        str = &conf->uuid;
    else if (strcmp(key, "qemu_log") == 0)
        str = &conf->qemu_log;
    else if (strcmp(key, "qemu_ids") == 0)
        str = &conf->qemu_ids;
    else if (strcmp(key, "on_poweroff") == 0)
        return parse_action(key, value, false, &conf->on_poweroff, err);
    else if (strcmp(key, "on_reboot") == 0)
        return parse_action(key, value, false, &conf->on_reboot, err);
    else if (strcmp(key, "on_crash") == 0)
        return parse_action(key, value, true, &conf->on_crash, err);
    else if (strcmp(key, "start_paused") == 0) {
        if (strcmp(value, "0") != 0 && strcmp(value, "1") != 0) {
            wk_err(err, "invalid start_paused '%s' (0 or 1)", value);
            return -1;
        }
        conf->start_paused = value[0] == '1';
        return 0;
    } else if (strcmp(key, "start_timeout_ms") == 0) {
        char *end;
        unsigned long v;
        errno = 0;
        v = strtoul(value, &end, 10);
        if (errno || *end || end == value || v < 100 || v > 3600000) {
            wk_err(err, "invalid start_timeout_ms '%s' (100..3600000)", value);
            return -1;
        }
        conf->start_timeout_ms = (unsigned)v;
        return 0;
    } else {
        return 0; /* a newer hearthd may know more keys */
    }
    free(*str);
    *str = *value ? wk_xstrdup(value) : NULL;
    return 0;
}

int wk_conf_load(const char *path, struct wk_conf *conf, char *err)
{
    _cleanup_free_ char *text = NULL;
    char sub[WK_ERRLEN];
    size_t len;

    *conf = (struct wk_conf){
        .on_poweroff = WK_ACT_DESTROY,
        .on_reboot = WK_ACT_RESTART,
        .on_crash = WK_ACT_DESTROY,
        .start_timeout_ms = 25000,
    };
    if (wk_read_file(path, WK_CONF_MAX, &text, &len, err) < 0)
        return -1;
    if (memchr(text, '\0', len)) {
        wk_err(err, "'%s' contains a NUL byte", path);
        return -1;
    }
    if (wk_kv_parse(text, conf_set, conf, sub) < 0) {
        wk_err(err, "%s: %s", path, sub);
        wk_conf_free(conf);
        return -1;
    }
    if (!conf->qemu_log)
        conf->qemu_log = wk_xstrdup("qemu.log");
    return 0;
}

void wk_conf_free(struct wk_conf *conf)
{
    free(conf->name);
    free(conf->uuid);
    free(conf->qemu_log);
    free(conf->qemu_ids);
    memset(conf, 0, sizeof(*conf));
}

static bool has_arg(char **args, size_t n, const char *a, const char *b)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(args[i], a) == 0 || strcmp(args[i], b) == 0)
            return true;
    return false;
}

int wk_argv_load(const char *path, int qmp_fd, char ***argv_out, char *err)
{
    _cleanup_free_ char *text = NULL;
    _cleanup_free_ char **in = NULL;
    char **argv;
    size_t len, n = 0, out = 0;
    char chardev[128];

    if (wk_read_file(path, WK_ARGV_MAX_BYTES, &text, &len, err) < 0)
        return -1;
    if (len > 0 && text[len - 1] == '\0')
        len--; /* a trailing NUL terminates the last argument, it does not add one */
    in = wk_xmalloc(sizeof(char *) * (WK_ARGV_MAX_ARGS + 1));
    for (size_t pos = 0; len > 0 && pos <= len; n++) {
        if (n == WK_ARGV_MAX_ARGS) {
            wk_err(err, "'%s' has more than %d arguments", path, WK_ARGV_MAX_ARGS);
            return -1;
        }
        in[n] = text + pos;
        pos += strlen(text + pos) + 1;
    }
    if (n == 0 || in[0][0] != '/') {
        wk_err(err, "'%s' must start with the emulator's absolute path", path);
        return -1;
    }
    snprintf(chardev, sizeof(chardev), "socket,id=charmonitor,fd=%d,server=on,wait=off", qmp_fd);

    argv = wk_xmalloc(sizeof(char *) * (n + 8));
    argv[out++] = wk_xstrdup(in[0]);
    /* The worker's lifecycle handling depends on both: start stopped, never exit on poweroff. */
    if (!has_arg(in, n, "-S", "--S"))
        argv[out++] = wk_xstrdup("-S");
    if (!has_arg(in, n, "-no-shutdown", "--no-shutdown"))
        argv[out++] = wk_xstrdup("-no-shutdown");
    argv[out++] = wk_xstrdup("-chardev");
    argv[out++] = wk_xstrdup(chardev);
    argv[out++] = wk_xstrdup("-mon");
    argv[out++] = wk_xstrdup("chardev=charmonitor,id=monitor,mode=control");
    for (size_t i = 1; i < n; i++)
        argv[out++] = wk_xstrdup(in[i]);
    argv[out] = NULL;
    *argv_out = argv;
    return 0;
}

void wk_argv_free(char **argv)
{
    if (!argv)
        return;
    for (char **a = argv; *a; a++)
        free(*a);
    free(argv);
}
