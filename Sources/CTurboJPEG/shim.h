// libjpeg-turbo's TurboJPEG API (Debian libturbojpeg0-dev) for EmbedMedia, the only importer.
// TurboJPEG reports errors by return value (tjGetErrorStr2/tjGetErrorCode); libjpeg's own API
// reports them by longjmp, which must never cross Swift frames, so it is not used.
#include <turbojpeg.h>
