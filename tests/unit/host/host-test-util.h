/* Helpers shared by the host unit tests: fixtures, a fake QEMU, RelaxNG validation. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* tests/data/host/NAME in the source tree. */
char *host_test_fixture(const char *name);

/* Writes DIR/NAME, a script that appends a line to DIR/NAME.count and prints the captured
 * `-machine help` fixture, and returns its path. */
char *host_test_fake_qemu(const char *dir, const char *name);

/* How many times the fake QEMU at @path ran. */
guint host_test_fake_qemu_runs(const char *path);

/* Whether @xml validates against /usr/share/libvirt/schemas/SCHEMA; @errors gets the
 * validator's messages. A missing schema aborts the test program, naming package libvirt0. */
gboolean host_test_xml_valid(const char *xml, const char *schema, char **errors);

/* Validates @xml against /usr/share/libvirt/schemas/SCHEMA, failing the test (with the
 * validator's messages) when it does not. A missing schema fails loudly. */
void host_test_validate(const char *xml, const char *schema);

G_END_DECLS
