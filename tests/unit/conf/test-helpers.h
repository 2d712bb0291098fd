/* Shared by the conf unit tests: source paths, file reading, RelaxNG checks. */
#pragma once

#include <glib.h>

char *test_data_path(const char *name);
char *test_read_data(const char *name, gsize *len);
/* NULL when @xml validates against @rng_path, else the collected errors. */
char *test_rng_validate(const char *rng_path, const char *xml);
