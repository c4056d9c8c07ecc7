/* Constants of the embedd C test-fixture plugin that tests and clients may need. */
#ifndef EMBEDD_FIXTURE_H
#define EMBEDD_FIXTURE_H

/* The one encoded-media type the fixture accepts: "FXTR" + u32 LE length + UTF-8 payload. */
#define EMBEDD_FIXTURE_MIME "application/x-embedd-fixture"

#endif
