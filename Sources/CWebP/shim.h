// libwebp (Debian libwebp-dev) for EmbedMedia, the only importer: the simple decoding API
// (decode.h) for still images, the demux API (demux.h: WebPDemux, WebPAnimDecoder) for the
// container's chunks (EXIF, XMP) and the first frame of animations. Errors by return value.
#include <webp/decode.h>
#include <webp/demux.h>
