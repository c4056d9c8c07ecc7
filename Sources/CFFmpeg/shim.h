// FFmpeg 5.1 (Debian libavformat-dev, libavcodec-dev, libswresample-dev, libswscale-dev) for
// EmbedAV, the only importer: libavformat demuxes through a custom AVIOContext (memory or a
// descriptor), libavcodec decodes, libswresample resamples with its soxr engine, libswscale
// converts video frames to RGB. Every call reports errors by return value.
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavcodec/avcodec.h>
#include <libavutil/avutil.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/error.h>
#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/opt.h>
#include <libavutil/pixdesc.h>
#include <libavutil/samplefmt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

// Function-like macros Swift cannot import, as inline functions.

/// AVERROR_EOF: the end of the stream (FFERRTAG('E','O','F',' ')).
static inline int embedd_averror_eof(void) { return AVERROR_EOF; }
/// AVERROR(EAGAIN): "send input first" / "receive output first".
static inline int embedd_averror_eagain(void) { return AVERROR(EAGAIN); }
/// AVERROR_INVALIDDATA.
static inline int embedd_averror_invaliddata(void) { return AVERROR_INVALIDDATA; }
/// AVERROR(ENOMEM).
static inline int embedd_averror_enomem(void) { return AVERROR(ENOMEM); }
/// AVERROR(EPERM), what EmbedAV's io_open callback answers to every nested open.
static inline int embedd_averror_eperm(void) { return AVERROR(EPERM); }
/// AVERROR(EIO), what EmbedAV's read callback answers when reading a descriptor fails.
static inline int embedd_averror_eio(void) { return AVERROR(EIO); }
/// AV_NOPTS_VALUE: "no timestamp / no duration".
static inline int64_t embedd_av_nopts_value(void) { return AV_NOPTS_VALUE; }
