// libpng 1.6 (Debian libpng-dev) for EmbedMedia, the only importer. Only the simplified
// `png_image` API is used: it catches libpng's longjmp inside libpng (png_safe_execute) and
// reports failure by return value with a message in png_image.message. The classic
// png_struct API longjmps out of its error handler, which must never cross Swift frames.
#include <png.h>
