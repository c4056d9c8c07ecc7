// The decoding a video embedding needs, alone (bench/video's decode-only pass, a proxy for the
// share of the video plugin's time that is decoding): per file, the 16 frames of the uniform
// sampling as rgb24 and the sound track as 16-kHz mono float, with Debian's FFmpeg libraries, the
// way tools/make-golden-video.py defines them:
//   t_i = floor(duration_us * (2i + 1) / 32), duration = AVFormatContext.duration; the frame is the
//   first one with best_effort_timestamp >= R = av_rescale_q(start_time + t_i, AV_TIME_BASE_Q, tb),
//   else the last frame; autorotation is NOT applied here (a transpose costs little next to
//   decoding); rgb24 by swscale (SWS_BICUBIC, unscaled, the frame's colour matrix and range as
//   the CLI's scale filter sets them). Sound: the first audio stream, the
//   channel mean, swresample's soxr engine (precision 20) to 16 kHz.
// Seeking: the first video packet is decoded before any seek (libavcodec then knows an x264
// version SEI, which only the first frame carries); a timestamp whose keyframe (the index's entry
// at or before R) lies at or before the last decoded frame is reached by decoding forward, others
// by avformat_seek_file to the keyframe + avcodec_flush_buffers; AVI is never seeked (below).
// On tools/make-golden-video.py's files this gives the golden's pixels for every frame (rotation
// aside).
//
//   cc -O2 bench/video-decode-probe.c -o video-decode-probe $(pkg-config --cflags --libs
//      libavformat libavcodec libavutil libswscale libswresample)
//   video-decode-probe [--threads N] [--dump DIR] FILE...
// One JSON line per file: {"file", "seconds", "frames_s", "audio_s", "decoded" (video frames
// decoded for the 16), "seeks", "samples" (16 kHz)}. --dump writes DIR/<n>-<i>.rgb (n = the
// file's position in the arguments) to compare with the golden's sha256_rgb24.
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *file, const char *what, int err) {
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    if (err < 0) av_strerror(err, buf, sizeof buf);
    fprintf(stderr, "%s: %s %s\n", file, what, buf);
    exit(1);
}

static AVCodecContext *open_decoder(const char *file, AVStream *st, int threads) {
    const AVCodec *codec = avcodec_find_decoder(st->codecpar->codec_id);
    if (!codec) die(file, "no decoder", 0);
    AVCodecContext *cc = avcodec_alloc_context3(codec);
    avcodec_parameters_to_context(cc, st->codecpar);
    cc->thread_count = threads;
    cc->pkt_timebase = st->time_base;
    int r = avcodec_open2(cc, codec, NULL);
    if (r < 0) die(file, "avcodec_open2", r);
    return cc;
}

typedef struct {
    AVFormatContext *fc;
    AVCodecContext *cc;
    int stream;
    AVPacket *pkt;
    AVFrame *frame, *last;  // last: the newest decoded frame (a reference)
    int64_t last_pts;
    int eof, decoded;
} Video;

// The next decoded frame into v->frame; 0 at the end of the stream.
static int next_frame(Video *v, const char *file) {
    for (;;) {
        int r = avcodec_receive_frame(v->cc, v->frame);
        if (r == 0) {
            v->decoded++;
            v->last_pts = v->frame->best_effort_timestamp;
            av_frame_unref(v->last);
            av_frame_ref(v->last, v->frame);
            return 1;
        }
        if (r == AVERROR_EOF) return 0;
        if (r != AVERROR(EAGAIN)) die(file, "avcodec_receive_frame", r);
        if (v->eof) return 0;
        for (;;) {
            r = av_read_frame(v->fc, v->pkt);
            if (r < 0) {
                v->eof = 1;
                avcodec_send_packet(v->cc, NULL);
                break;
            }
            if (v->pkt->stream_index == v->stream) {
                r = avcodec_send_packet(v->cc, v->pkt);
                av_packet_unref(v->pkt);
                if (r < 0 && r != AVERROR_INVALIDDATA) die(file, "avcodec_send_packet", r);
                break;
            }
            av_packet_unref(v->pkt);
        }
    }
}

static void frames(const char *file, int threads, const char *dump, int n, double *seconds_out, int *decoded, int *seeks) {
    Video v = {0};
    int r = avformat_open_input(&v.fc, file, NULL, NULL);
    if (r < 0) die(file, "avformat_open_input", r);
    if ((r = avformat_find_stream_info(v.fc, NULL)) < 0) die(file, "avformat_find_stream_info", r);
    v.stream = av_find_best_stream(v.fc, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    if (v.stream < 0) die(file, "no video stream", v.stream);
    AVStream *st = v.fc->streams[v.stream];
    v.cc = open_decoder(file, st, threads);
    v.pkt = av_packet_alloc();
    v.frame = av_frame_alloc();
    v.last = av_frame_alloc();
    v.last_pts = INT64_MIN;
    int64_t duration = v.fc->duration, start = v.fc->start_time == AV_NOPTS_VALUE ? 0 : v.fc->start_time;
    *seconds_out = duration / 1e6;
    struct SwsContext *sws = NULL;
    uint8_t *rgb = NULL;
    // AVI keeps no pts: after a seek libavcodec's best-effort timestamps differ from a decode from
    // the start (tests: mpeg4.avi with B-frames), so AVI is decoded forward only.
    int no_seek = !strcmp(v.fc->iformat->name, "avi");
    int have = next_frame(&v, file);  // prime: the first frame's SEI
    for (int i = 0; i < 16; i++) {
        int64_t t = duration * (2 * i + 1) / 32;
        int64_t R = av_rescale_q(start + t, AV_TIME_BASE_Q, st->time_base);
        if (!(have && v.last_pts >= R)) {
            int k = av_index_search_timestamp(st, R, AVSEEK_FLAG_BACKWARD);
            const AVIndexEntry *e = k >= 0 ? avformat_index_get_entry(st, k) : NULL;
            int forward = (e && v.last_pts != INT64_MIN && e->timestamp <= v.last_pts) || no_seek;
            if (!forward) {
                if ((r = avformat_seek_file(v.fc, -1, INT64_MIN, start + t, start + t, 0)) < 0) die(file, "seek", r);
                avcodec_flush_buffers(v.cc);
                v.eof = 0;
                v.last_pts = INT64_MIN;
                (*seeks)++;
            }
            while ((have = next_frame(&v, file)) && v.frame->best_effort_timestamp < R) {}
        }
        AVFrame *f = v.last;  // the frame at or after R, or the last one
        if (!f->data[0]) die(file, "no frame", 0);
        sws = sws_getCachedContext(sws, f->width, f->height, f->format, f->width, f->height, AV_PIX_FMT_RGB24,
                                   SWS_BICUBIC, NULL, NULL, NULL);
        // As the ffmpeg CLI's scale filter: the frame's matrix (BT.601 when unspecified), its range.
        {
            int *inv, *table, in_full, out_full, brightness, contrast, saturation;
            sws_getColorspaceDetails(sws, &inv, &in_full, &table, &out_full, &brightness, &contrast, &saturation);
            const int *m = sws_getCoefficients(f->colorspace);
            if (f->color_range != AVCOL_RANGE_UNSPECIFIED) in_full = f->color_range == AVCOL_RANGE_JPEG;
            sws_setColorspaceDetails(sws, m, in_full, m, out_full, brightness, contrast, saturation);
        }
        rgb = realloc(rgb, (size_t)f->width * f->height * 3);
        uint8_t *dst[4] = {rgb};
        int stride[4] = {f->width * 3};
        sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
        if (dump) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%d-%02d.rgb", dump, n, i);
            FILE *o = fopen(path, "wb");
            fwrite(rgb, 3, (size_t)f->width * f->height, o);
            fclose(o);
        }
    }
    *decoded = v.decoded;
    free(rgb);
    sws_freeContext(sws);
    av_frame_free(&v.frame);
    av_frame_free(&v.last);
    av_packet_free(&v.pkt);
    avcodec_free_context(&v.cc);
    avformat_close_input(&v.fc);
}

static long sound(const char *file, int threads) {
    AVFormatContext *fc = NULL;
    int r = avformat_open_input(&fc, file, NULL, NULL);
    if (r < 0) die(file, "avformat_open_input", r);
    avformat_find_stream_info(fc, NULL);
    int s = av_find_best_stream(fc, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (s < 0) {
        avformat_close_input(&fc);
        return 0;
    }
    for (unsigned i = 0; i < fc->nb_streams; i++)
        if ((int)i != s) fc->streams[i]->discard = AVDISCARD_ALL;
    AVCodecContext *cc = open_decoder(file, fc->streams[s], threads);
    AVPacket *pkt = av_packet_alloc();
    AVFrame *frame = av_frame_alloc();
    SwrContext *swr = NULL;
    float *mono = NULL, *out = NULL;
    size_t cap = 0, ocap = 0;
    long samples = 0;
    int eof = 0;
    while (!eof || r != AVERROR_EOF) {
        if (!eof) {
            if (av_read_frame(fc, pkt) < 0) {
                eof = 1;
                avcodec_send_packet(cc, NULL);
            } else {
                if (pkt->stream_index == s) avcodec_send_packet(cc, pkt);
                av_packet_unref(pkt);
            }
        }
        while ((r = avcodec_receive_frame(cc, frame)) == 0) {
            int n = frame->nb_samples, ch = frame->ch_layout.nb_channels;
            if ((size_t)n > cap) mono = realloc(mono, (cap = n) * sizeof *mono);
            // The channel mean in float, samples converted as swresample does.
            AVFrame *fl = frame;
            int planar = av_sample_fmt_is_planar(fl->format);
            for (int i = 0; i < n; i++) {
                float sum = 0;
                for (int c = 0; c < ch; c++) {
                    float x;
                    const uint8_t *p = planar ? fl->extended_data[c] : fl->data[0];
                    int k = planar ? i : i * ch + c;
                    switch (av_get_packed_sample_fmt(fl->format)) {
                    case AV_SAMPLE_FMT_FLT: x = ((const float *)p)[k]; break;
                    case AV_SAMPLE_FMT_DBL: x = (float)((const double *)p)[k]; break;
                    case AV_SAMPLE_FMT_S16: x = ((const int16_t *)p)[k] * (1.0f / 32768); break;
                    case AV_SAMPLE_FMT_S32: x = ((const int32_t *)p)[k] * (1.0f / 2147483648.0f); break;
                    case AV_SAMPLE_FMT_U8: x = (((const uint8_t *)p)[k] - 128) * (1.0f / 128); break;
                    default: die(file, "sample format not handled by the probe", 0); x = 0;
                    }
                    sum += x;
                }
                mono[i] = ch == 2 ? sum * 0.5f : sum / ch;
            }
            if (frame->sample_rate == 16000) {
                samples += n;
            } else {
                if (!swr) {
                    AVChannelLayout m = AV_CHANNEL_LAYOUT_MONO;
                    swr_alloc_set_opts2(&swr, &m, AV_SAMPLE_FMT_FLT, 16000, &m, AV_SAMPLE_FMT_FLT, frame->sample_rate, 0, NULL);
                    av_opt_set_int(swr, "resampler", SWR_ENGINE_SOXR, 0);
                    av_opt_set_double(swr, "precision", 20, 0);
                    if ((r = swr_init(swr)) < 0) die(file, "swr_init", r);
                }
                int want = swr_get_out_samples(swr, n);
                if ((size_t)want > ocap) out = realloc(out, (ocap = want) * sizeof *out);
                uint8_t *o[1] = {(uint8_t *)out};
                const uint8_t *in[1] = {(const uint8_t *)mono};
                int got = swr_convert(swr, o, want, in, n);
                if (got < 0) die(file, "swr_convert", got);
                samples += got;
            }
        }
        if (r != AVERROR(EAGAIN) && r != AVERROR_EOF) die(file, "audio decode", r);
        if (eof && r == AVERROR_EOF) break;
    }
    if (swr) {
        for (;;) {
            uint8_t *o[1] = {(uint8_t *)out};
            int got = ocap ? swr_convert(swr, o, (int)ocap, NULL, 0) : 0;
            if (got <= 0) break;
            samples += got;
        }
        swr_free(&swr);
    }
    free(mono);
    free(out);
    av_frame_free(&frame);
    av_packet_free(&pkt);
    avcodec_free_context(&cc);
    avformat_close_input(&fc);
    return samples;
}

int main(int argc, char **argv) {
    int threads = 2;
    const char *dump = NULL;
    int a = 1;
    for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a += 2) {
        if (a + 1 >= argc) break;
        if (!strcmp(argv[a], "--threads")) threads = atoi(argv[a + 1]);
        else if (!strcmp(argv[a], "--dump")) dump = argv[a + 1];
        else { fprintf(stderr, "unknown option %s\n", argv[a]); return 2; }
    }
    av_log_set_level(AV_LOG_ERROR);
    for (int n = 0; a < argc; a++, n++) {
        double seconds = 0;
        int decoded = 0, seeks = 0;
        double t0 = now();
        frames(argv[a], threads, dump, n, &seconds, &decoded, &seeks);
        double t1 = now();
        long samples = sound(argv[a], threads);
        double t2 = now();
        printf("{\"engine\": \"decode-probe\", \"file\": \"%s\", \"seconds\": %.6f, \"frames_s\": %.4f, \"audio_s\": %.4f, "
               "\"decoded\": %d, \"seeks\": %d, \"samples\": %ld}\n", argv[a], seconds, t1 - t0, t2 - t1, decoded, seeks, samples);
        fflush(stdout);
    }
    return 0;
}
