/* lib/util/child-process: helpers run, their output read, their exit reaped, nothing leaked. */
#include "child-process.h"

#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static ChildProcess *spawn_sh(const char *script, ChildFlags flags)
{
    g_autoptr(GError) error = NULL;
    ChildProcess *c =
        child_process_spawn((const char *const[]){"sh", "-c", script, NULL}, NULL, flags, &error);

    g_assert_no_error(error);
    g_assert_nonnull(c);
    return c;
}

static void test_communicate(void)
{
    g_autoptr(ChildProcess) c =
        spawn_sh("echo out; echo err >&2; exit 0", CHILD_STDOUT_PIPE | CHILD_STDERR_PIPE);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_true(child_process_communicate(c, &out, &err, NULL));
    g_assert_cmpstr(out, ==, "out\n");
    g_assert_cmpstr(err, ==, "err\n");
    g_assert_true(child_process_succeeded(c));
}

static void test_failure_status(void)
{
    g_autoptr(ChildProcess) c = spawn_sh("echo no >&2; exit 3", CHILD_STDERR_PIPE);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_true(child_process_communicate(c, &out, &err, NULL));
    g_assert_cmpstr(out, ==, ""); /* stdout not piped */
    g_assert_cmpstr(err, ==, "no\n");
    g_assert_false(child_process_succeeded(c));
}

static void test_missing_program(void)
{
    g_autoptr(GError) error = NULL;
    ChildProcess *c = child_process_spawn(
        (const char *const[]){"/nonexistent/hearth-no-such-tool", NULL}, NULL, 0, &error);

    g_assert_null(c);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "hearth-no-such-tool"));
}

/* Big output on both pipes at once must not deadlock (each pipe holds only 64 KiB); stderr is
 * kept to its first 64 KiB. */
static void test_large_output(void)
{
    g_autoptr(ChildProcess) c = spawn_sh("yes o | head -c 300000; yes e | head -c 200000 >&2; "
                                         "yes o | head -c 300000",
                                         CHILD_STDOUT_PIPE | CHILD_STDERR_PIPE);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_true(child_process_communicate(c, &out, &err, NULL));
    g_assert_true(child_process_succeeded(c));
    g_assert_cmpuint(strlen(out), ==, 600000);
    g_assert_cmpuint(strlen(err), ==, 64 * 1024);
    g_assert_true(g_str_has_prefix(err, "e\ne\n"));
}

static void test_environment_and_descriptors(void)
{
    g_auto(GStrv) env = g_environ_setenv(g_get_environ(), "HEARTH_CHILD_TEST", "v1", TRUE);
    g_autoptr(GError) error = NULL;
    g_autofree char *out = NULL;
    int keep = dup(1); /* not close-on-exec: the child must still not see it */
    g_autoptr(ChildProcess) c = child_process_spawn(
        (const char *const[]){"sh", "-c",
                              "echo $HEARTH_CHILD_TEST; ls /proc/self/fd | wc -l; "
                              "read x && echo stdin-not-empty",
                              NULL},
        (const char *const *)env, CHILD_STDOUT_PIPE, &error);

    g_assert_no_error(error);
    g_assert_true(child_process_communicate(c, &out, NULL, NULL));
    close(keep);
    /* 0, 1, 2 and the descriptor ls opens for the directory; stdin is /dev/null (read fails). */
    g_assert_cmpstr(out, ==, "v1\n4\n");
}

static void test_merge(void)
{
    g_autoptr(ChildProcess) c =
        spawn_sh("echo a; echo b >&2; echo c", CHILD_STDOUT_PIPE | CHILD_STDERR_MERGE);
    g_autofree char *out = NULL, *err = NULL;

    g_assert_true(child_process_communicate(c, &out, &err, NULL));
    g_assert_cmpstr(out, ==, "a\nb\nc\n");
    g_assert_cmpstr(err, ==, "");
}

typedef struct {
    GMainLoop *loop;
    GString *seen;
    guint chunks;
    gboolean exited;
    gboolean success;
    char *err;
} WatchState;

static void on_output(ChildProcess *c, const char *data, gsize len, gpointer user_data)
{
    WatchState *w = user_data;

    (void)c;
    g_string_append_len(w->seen, data, (gssize)len);
    w->chunks++;
}

static void on_exit_free(ChildProcess *c, gpointer user_data)
{
    WatchState *w = user_data;

    w->exited = TRUE;
    w->success = child_process_succeeded(c);
    w->err = g_strdup(child_process_stderr(c));
    child_process_free(c); /* allowed from the exit callback */
    g_main_loop_quit(w->loop);
}

static void test_watch(void)
{
    WatchState w = {.loop = g_main_loop_new(NULL, FALSE), .seen = g_string_new(NULL)};
    ChildProcess *c = spawn_sh("echo one; sleep 0.2; echo two; echo bad >&2; exit 1",
                               CHILD_STDOUT_PIPE | CHILD_STDERR_PIPE);

    child_process_watch(c, on_output, on_exit_free, &w);
    g_main_loop_run(w.loop);
    g_assert_true(w.exited);
    g_assert_false(w.success);
    g_assert_cmpstr(w.seen->str, ==, "one\ntwo\n");
    g_assert_cmpuint(w.chunks, >=, 2); /* delivered as it came, not at the end */
    g_assert_cmpstr(w.err, ==, "bad\n");
    g_free(w.err);
    g_string_free(w.seen, TRUE);
    g_main_loop_unref(w.loop);
}

static gboolean kill_later(gpointer data)
{
    child_process_kill(data);
    return G_SOURCE_REMOVE;
}

static void test_kill(void)
{
    WatchState w = {.loop = g_main_loop_new(NULL, FALSE), .seen = g_string_new(NULL)};
    ChildProcess *c = spawn_sh("exec sleep 30", CHILD_STDOUT_PIPE);
    gint64 t0 = g_get_monotonic_time();

    child_process_watch(c, on_output, on_exit_free, &w);
    g_timeout_add(100, kill_later, c);
    g_main_loop_run(w.loop);
    g_assert_true(w.exited);
    g_assert_false(w.success);
    g_assert_cmpint(g_get_monotonic_time() - t0, <, 10 * G_USEC_PER_SEC);
    g_free(w.err);
    g_string_free(w.seen, TRUE);
    g_main_loop_unref(w.loop);
}

static gboolean quit_loop(gpointer loop)
{
    g_main_loop_quit(loop);
    return G_SOURCE_REMOVE;
}

/* Freeing a running child kills it and reaps it: no zombie stays behind. */
static void test_free_running(void)
{
    ChildProcess *c = spawn_sh("exec sleep 30", CHILD_STDOUT_PIPE);
    GPid pid = child_process_pid(c);
    g_autoptr(GMainLoop) loop = g_main_loop_new(NULL, FALSE);
    g_autofree char *stat_path = g_strdup_printf("/proc/%d/stat", (int)pid);

    child_process_free(c);
    for (int i = 0; i < 100 && g_file_test(stat_path, G_FILE_TEST_EXISTS); i++) {
        g_timeout_add(20, quit_loop, loop);
        g_main_loop_run(loop);
    }
    g_assert_false(g_file_test(stat_path, G_FILE_TEST_EXISTS));
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/child-process/communicate", test_communicate);
    g_test_add_func("/child-process/failure-status", test_failure_status);
    g_test_add_func("/child-process/missing-program", test_missing_program);
    g_test_add_func("/child-process/large-output", test_large_output);
    g_test_add_func("/child-process/environment-and-descriptors", test_environment_and_descriptors);
    g_test_add_func("/child-process/merge", test_merge);
    g_test_add_func("/child-process/watch", test_watch);
    g_test_add_func("/child-process/kill", test_kill);
    g_test_add_func("/child-process/free-running", test_free_running);
    return g_test_run();
}
