/* tests/public/version.c: the version has one source, meson.build.
 *
 * Meson passes its project version as TC_MESON_VERSION; the header's
 * macros, TRICOLOR_VERSION_STRING and gc_version() (the library's own
 * copy, compiled in) must all say the same, so a release changes one
 * line. */
#include <stdio.h>
#include <string.h>
#include <tricolor.h>

#include "harness.h"

TEST(gc_version_is_mesons) { EXPECT_STREQ(gc_version(), TC_MESON_VERSION); }

TEST(header_string_is_mesons) { EXPECT_STREQ(TRICOLOR_VERSION_STRING, TC_MESON_VERSION); }

TEST(header_numbers_are_mesons) {
    char buf[64];
    snprintf(buf, sizeof buf, "%d.%d.%d", TRICOLOR_VERSION_MAJOR, TRICOLOR_VERSION_MINOR,
             TRICOLOR_VERSION_PATCH);
    EXPECT_STREQ(buf, TC_MESON_VERSION);
}

TC_TEST_MAIN()
