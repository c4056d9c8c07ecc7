/*
 * The embedd test-fixture plugin, in plain C.
 *
 * It exists to prove the ABI is C and not Swift-only, and to drive every path of the host:
 * per-input errors, cancellation, the concurrency flag, failing loads and failing warm-ups,
 * slow calls for drain tests. It is NOT a product plugin: its vectors are feature-hashed
 * character trigrams (text) or colour histograms (pixels) — deterministic, cheap, and similar
 * for similar inputs, which is all the daemon's end-to-end tests need.
 *
 * Options (all optional):
 *   dim=N              output dimension, 2..4096 (default 64)
 *   version=S          model version; mixed into every vector, so two versions differ (default v1)
 *   space=S            embedding space id (default "fixture/trigram")
 *   concurrent=0|1     whether embed may run concurrently on one model (default 1); with 0 the
 *                      plugin detects overlapping calls and fails them, proving the host serialises
 *   delay_us=N         sleep N microseconds per input (drain and cancellation tests)
 *   load_delay_ms=N    take N milliseconds to load (calls that wait for a loading model)
 *   max_input_bytes=N  hard input cap (default 65536)
 *   fail_load=1        load_model fails with EMBEDD_ERR_MODEL
 *   fail_embed=1       every embed call fails as a whole (warm-up failure tests)
 * Input text "fixture:fail-call" fails the whole embed call it is in (EMBEDD_ERR_INTERNAL), as a
 * plugin that cannot attribute an error to one input would: tests that the host isolates jobs.
 * Input text "fixture:hang" sleeps for an hour without looking at cancellation, as a plugin
 * call that never returns would: tests that the daemon's stop stays bounded.
 *   log_loads=1        log a line on each load/release (default 1)
 *   compose_with=NAME  every call is embedded by the loaded model NAME through the host's
 *                      embed_with (ABI 1.1 composition, read when the host's struct covers it);
 *                      dim and space become NAME's (model_dimension at load). Composition tests.
 * Model directory: must exist; if it holds `fixture.txt`, its first line is a salt mixed into vectors.
 * Encoded media: MIME "application/x-embedd-fixture", bytes "FXTR" + u32 little-endian length + payload.
 */
#include "embedd_plugin.h"

#include <errno.h>
#include <stddef.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "embedd_fixture.h"
#define FIXTURE_MIME EMBEDD_FIXTURE_MIME

/* Tests compile variants of this file with `cc -shared` to prove the host's refusals:
   -DFIXTURE_ABI_MAJOR=N / -DFIXTURE_ABI_MINOR=N fake another ABI version,
   -DFIXTURE_ENTRY_NAME=other exports the entry under a wrong name,
   -DFIXTURE_BREAK_CONTRACT=1 breaks batch invariance, ignores cancellation and accepts empty
   text, so the conformance kit can be shown to catch each,
   -DFIXTURE_UNNORMALISED=1 leaves text vectors unscaled while declaring unit vectors. */
#ifndef FIXTURE_ABI_MAJOR
#define FIXTURE_ABI_MAJOR EMBEDD_ABI_VERSION_MAJOR
#endif
#ifndef FIXTURE_ABI_MINOR
/* Stays a 1.0 plugin on purpose: it proves that a 1.0 plugin keeps working in a 1.1 host
   (the text plugin is the 1.1 one). */
#define FIXTURE_ABI_MINOR 0
#endif
#ifndef FIXTURE_ENTRY_NAME
#define FIXTURE_ENTRY_NAME embedd_plugin_entry
#endif
#ifndef FIXTURE_VERSION
#define FIXTURE_VERSION "1.0.0"
#endif

typedef struct fixture_plugin {
    embedd_host_api host;
    int models_alive;
} fixture_plugin;

struct embedd_model {
    fixture_plugin *plugin;
    char name[128];
    char version[64];
    char space[128];
    char salt[128];
    const char *mime_types[1];
    embedd_model_info info;
    uint32_t delay_us;
    int fail_embed;
    int log_loads;
    volatile uint32_t active_calls;
    char compose[128];
};

static void fixture_log(fixture_plugin *p, int level, const char *message) {
    if (p != NULL && p->host.log != NULL) p->host.log(p->host.host_context, level, message);
}

static int fixture_init(const embedd_host_api *host, void **plugin, char *error, size_t cap) {
    if (host == NULL || host->struct_size < sizeof(embedd_host_api)) {
        embedd_copy_message(error, cap, "fixture: host API struct too small");
        return EMBEDD_ERR_INTERNAL;
    }
    fixture_plugin *p = calloc(1, sizeof *p);
    if (p == NULL) {
        embedd_copy_message(error, cap, "fixture: out of memory");
        return EMBEDD_ERR_RESOURCE;
    }
    p->host = *host;
    *plugin = p;
    return EMBEDD_OK;
}

static void fixture_finalize(void *plugin) { free(plugin); }

static int parse_u32(const char *text, uint32_t min, uint32_t max, uint32_t *out) {
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || v < min || v > max) return 0;
    *out = (uint32_t)v;
    return 1;
}

static int fixture_load_model(void *plugin, const char *model_dir, const embedd_option *options,
                              size_t option_count, embedd_model **out, char *error, size_t cap) {
    fixture_plugin *p = plugin;
    char message[512];
    struct stat st;
    if (model_dir == NULL || stat(model_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(message, sizeof message, "model directory '%s' does not exist or is not a directory",
                 model_dir ? model_dir : "(null)");
        embedd_copy_message(error, cap, message);
        return EMBEDD_ERR_MODEL;
    }
    embedd_model *m = calloc(1, sizeof *m);
    if (m == NULL) {
        embedd_copy_message(error, cap, "fixture: out of memory");
        return EMBEDD_ERR_RESOURCE;
    }
    m->plugin = p;
    m->log_loads = 1;
    uint32_t dim = 64, concurrent = 1, max_bytes = 65536;
    snprintf(m->version, sizeof m->version, "v1");
    snprintf(m->space, sizeof m->space, "fixture/trigram");
    for (size_t i = 0; i < option_count; i++) {
        const char *k = options[i].key, *v = options[i].value;
        int ok = 1;
        uint32_t flag = 0;
        if (strcmp(k, "dim") == 0) ok = parse_u32(v, 2, 4096, &dim);
        else if (strcmp(k, "version") == 0) snprintf(m->version, sizeof m->version, "%s", v);
        else if (strcmp(k, "space") == 0) snprintf(m->space, sizeof m->space, "%s", v);
        else if (strcmp(k, "concurrent") == 0) ok = parse_u32(v, 0, 1, &concurrent);
        else if (strcmp(k, "delay_us") == 0) ok = parse_u32(v, 0, 10000000, &m->delay_us);
        else if (strcmp(k, "max_input_bytes") == 0) ok = parse_u32(v, 1, 1u << 30, &max_bytes);
        else if (strcmp(k, "fail_embed") == 0) { ok = parse_u32(v, 0, 1, &flag); m->fail_embed = (int)flag; }
        else if (strcmp(k, "log_loads") == 0) { ok = parse_u32(v, 0, 1, &flag); m->log_loads = (int)flag; }
        else if (strcmp(k, "compose_with") == 0) { snprintf(m->compose, sizeof m->compose, "%s", v); ok = v[0] != '\0'; }
        else if (strcmp(k, "load_delay_ms") == 0) {
            /* A slow load (tests of calls that wait for a loading model). */
            uint32_t ms = 0;
            ok = parse_u32(v, 0, 600000, &ms);
            if (ok && ms > 0) {
                struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
                while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
            }
        }
        else if (strcmp(k, "fail_load") == 0) {
            ok = parse_u32(v, 0, 1, &flag);
            if (ok && flag) {
                snprintf(message, sizeof message, "fixture: refusing to load '%s' (fail_load=1)", model_dir);
                embedd_copy_message(error, cap, message);
                free(m);
                return EMBEDD_ERR_MODEL;
            }
        } else {
            snprintf(message, sizeof message, "fixture: unknown option '%s'", k);
            embedd_copy_message(error, cap, message);
            free(m);
            return EMBEDD_ERR_OPTIONS;
        }
        if (!ok) {
            snprintf(message, sizeof message, "fixture: bad value '%s' for option '%s'", v, k);
            embedd_copy_message(error, cap, message);
            free(m);
            return EMBEDD_ERR_OPTIONS;
        }
    }
    /* Optional salt file. */
    char path[4096];
    snprintf(path, sizeof path, "%s/fixture.txt", model_dir);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(m->salt, sizeof m->salt, f) != NULL) m->salt[strcspn(m->salt, "\r\n")] = '\0';
        fclose(f);
    }
    if (m->compose[0] != '\0') {
        const embedd_host_api *h = &p->host;
        if (h->struct_size < offsetof(embedd_host_api, embed_with) + sizeof h->embed_with || h->model_dimension == NULL) {
            embedd_copy_message(error, cap, "fixture: compose_with needs a host with embed_with (ABI 1.1)");
            free(m);
            return EMBEDD_ERR_OPTIONS;
        }
        dim = h->model_dimension(h->host_context, m->compose, m->space, sizeof m->space, NULL);
        if (dim == 0) {
            snprintf(message, sizeof message, "fixture: compose_with model '%s' is not loaded", m->compose);
            embedd_copy_message(error, cap, message);
            free(m);
            return EMBEDD_ERR_MODEL;
        }
    }
    const char *base = strrchr(model_dir, '/');
    base = (base != NULL && base[1] != '\0') ? base + 1 : model_dir;
    snprintf(m->name, sizeof m->name, "fixture-%s", base);
    m->mime_types[0] = FIXTURE_MIME;

    embedd_model_info *info = &m->info;
    info->struct_size = sizeof *info;
    info->name = m->name;
    info->version = m->version;
    info->embedding_space = m->space;
    info->modalities = EMBEDD_MODALITY_TEXT | EMBEDD_MODALITY_IMAGE;
    info->input_kinds = (1u << EMBEDD_INPUT_TEXT) | (1u << EMBEDD_INPUT_ENCODED) | (1u << EMBEDD_INPUT_RGB8);
    info->mime_types = m->mime_types;
    info->mime_type_count = 1;
    info->dim = dim;
    info->metric = EMBEDD_METRIC_COSINE;
    info->normalized = 1;
    info->max_tokens = 512;
    info->max_pixels = 4096 * 4096;
    info->max_seconds = 0;
    info->max_input_bytes = max_bytes;
    info->preferred_batch = 32;
    info->max_batch = 1024;
    info->concurrent = concurrent;
    info->batch_tolerance = 0.0f;

    p->models_alive++;
    if (m->log_loads) {
        snprintf(message, sizeof message, "fixture: loaded %s version %s (dim %u)", m->name, m->version, dim);
        fixture_log(p, EMBEDD_LOG_INFO, message);
    }
    *out = m;
    return EMBEDD_OK;
}

static const embedd_model_info *fixture_describe(embedd_model *m) { return &m->info; }

/* FNV-1a over a byte string, continued from `h`. */
static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
    const uint8_t *b = data;
    for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; }
    return h;
}

static uint64_t model_seed(const embedd_model *m) {
    uint64_t h = 1469598103934665603ull;
    h = fnv1a(h, m->version, strlen(m->version));
    h = fnv1a(h, "/", 1);
    return fnv1a(h, m->salt, strlen(m->salt));
}

/* Adds ±1 to the bucket that a feature hashes to. */
static void add_feature(float *v, uint32_t dim, uint64_t h) {
    h ^= h >> 33; h *= 0xff51afd7ed558ccdull; h ^= h >> 33;
    v[h % dim] += (h >> 63) ? -1.0f : 1.0f;
}

static int normalise(float *v, uint32_t dim) {
    double s = 0;
    for (uint32_t j = 0; j < dim; j++) s += (double)v[j] * v[j];
    if (s == 0) return 0;
    float inv = (float)(1.0 / sqrt(s));
    for (uint32_t j = 0; j < dim; j++) v[j] *= inv;
    return 1;
}

static int valid_utf8(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (len == 0 || i + len > n) return 0;
        for (size_t k = 1; k < len; k++) if ((s[i + k] & 0xC0) != 0x80) return 0;
        i += len;
    }
    return 1;
}

static int embed_text(const embedd_model *m, const uint8_t *s, size_t n, float *v, char *msg) {
    if (!valid_utf8(s, n)) { embedd_copy_message(msg, EMBEDD_MESSAGE_CAPACITY, "text is not valid UTF-8"); return EMBEDD_ERR_INVALID_INPUT; }
    size_t nonspace = 0;
    for (size_t i = 0; i < n; i++) if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') nonspace++;
#if FIXTURE_BREAK_CONTRACT
    nonspace = 1;
#endif
    if (nonspace == 0) { embedd_copy_message(msg, EMBEDD_MESSAGE_CAPACITY, "text is empty"); return EMBEDD_ERR_INVALID_INPUT; }
    uint64_t seed = model_seed(m);
    /* Lower-cased character trigrams over the text padded with spaces. */
    uint8_t window[3] = {' ', ' ', ' '};
    for (size_t i = 0; i <= n; i++) {
        uint8_t c = i < n ? s[i] : ' ';
        if (c >= 'A' && c <= 'Z') c = (uint8_t)(c - 'A' + 'a');
        window[0] = window[1]; window[1] = window[2]; window[2] = c;
        add_feature(v, m->info.dim, fnv1a(seed, window, 3));
    }
#if FIXTURE_UNNORMALISED
    return EMBEDD_OK;
#endif
    if (!normalise(v, m->info.dim)) add_feature(v, m->info.dim, seed), normalise(v, m->info.dim);
    return EMBEDD_OK;
}

static int embed_pixels(const embedd_model *m, const uint8_t *px, uint32_t w, uint32_t h, float *v, char *msg) {
    if (w == 0 || h == 0) { embedd_copy_message(msg, EMBEDD_MESSAGE_CAPACITY, "image has zero width or height"); return EMBEDD_ERR_INVALID_INPUT; }
    if ((uint64_t)w * h > m->info.max_pixels) { embedd_copy_message(msg, EMBEDD_MESSAGE_CAPACITY, "image has more pixels than max_pixels"); return EMBEDD_ERR_TOO_LARGE; }
    uint64_t seed = model_seed(m) ^ 0x1234567ull;
    size_t count = (size_t)w * h;
    for (size_t i = 0; i < count; i++) {
        uint8_t q[3] = {(uint8_t)(px[3 * i] >> 5), (uint8_t)(px[3 * i + 1] >> 5), (uint8_t)(px[3 * i + 2] >> 5)};
        add_feature(v, m->info.dim, fnv1a(seed, q, 3));
    }
    normalise(v, m->info.dim);
    return EMBEDD_OK;
}

static int embed_one(const embedd_model *m, const embedd_input *in, float *v, char *msg) {
    if (in->size > m->info.max_input_bytes) {
        snprintf(msg, EMBEDD_MESSAGE_CAPACITY, "input is %zu bytes, over the limit of %llu", in->size,
                 (unsigned long long)m->info.max_input_bytes);
        return EMBEDD_ERR_TOO_LARGE;
    }
    if (in->size > 0 && in->data == NULL) { embedd_copy_message(msg, EMBEDD_MESSAGE_CAPACITY, "input data is NULL"); return EMBEDD_ERR_INVALID_INPUT; }
    switch (in->kind) {
    case EMBEDD_INPUT_TEXT:
        return embed_text(m, in->data, in->size, v, msg);
    case EMBEDD_INPUT_RGB8:
        if ((uint64_t)in->width * in->height * 3 != in->size) {
            embedd_copy_message(msg, EMBEDD_MESSAGE_CAPACITY, "RGB8 size does not equal width*height*3");
            return EMBEDD_ERR_INVALID_INPUT;
        }
        return embed_pixels(m, in->data, in->width, in->height, v, msg);
    case EMBEDD_INPUT_ENCODED: {
        if (in->mime_type == NULL || strcmp(in->mime_type, FIXTURE_MIME) != 0) {
            snprintf(msg, EMBEDD_MESSAGE_CAPACITY, "unsupported media type '%s' (accepts %s)",
                     in->mime_type ? in->mime_type : "(none)", FIXTURE_MIME);
            return EMBEDD_ERR_UNSUPPORTED_INPUT;
        }
        if (in->size < 8 || memcmp(in->data, "FXTR", 4) != 0) {
            embedd_copy_message(msg, EMBEDD_MESSAGE_CAPACITY, "not a fixture media file (bad magic)");
            return EMBEDD_ERR_INVALID_INPUT;
        }
        uint32_t len = (uint32_t)in->data[4] | (uint32_t)in->data[5] << 8 | (uint32_t)in->data[6] << 16 | (uint32_t)in->data[7] << 24;
        if ((size_t)len != in->size - 8) {
            snprintf(msg, EMBEDD_MESSAGE_CAPACITY, "fixture media truncated: header says %u payload bytes, have %zu", len, in->size - 8);
            return EMBEDD_ERR_INVALID_INPUT;
        }
        return embed_text(m, in->data + 8, len, v, msg);
    }
    default:
        snprintf(msg, EMBEDD_MESSAGE_CAPACITY, "input kind %u is not accepted by this model", in->kind);
        return EMBEDD_ERR_UNSUPPORTED_INPUT;
    }
}

static int fixture_embed(embedd_model *m, const embedd_embed_request *r) {
    if (r == NULL || r->struct_size < sizeof(embedd_embed_request) || r->count == 0) return EMBEDD_ERR_INTERNAL;
    if (m->fail_embed) {
        embedd_copy_message(r->error, r->error_capacity, "fixture: embed disabled by fail_embed=1");
        return EMBEDD_ERR_INTERNAL;
    }
    if (r->count > m->info.max_batch) {
        embedd_copy_message(r->error, r->error_capacity, "fixture: batch larger than max_batch");
        return EMBEDD_ERR_TOO_LARGE;
    }
    static const char poison[] = "fixture:fail-call";
    static const char hang[] = "fixture:hang";
    for (uint32_t i = 0; i < r->count; i++) {
        const embedd_input *in = &r->inputs[i];
        if (in->kind == EMBEDD_INPUT_TEXT && in->data != NULL && in->size == sizeof hang - 1 && memcmp(in->data, hang, in->size) == 0) {
            struct timespec ts = {3600, 0};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        }
    }
    for (uint32_t i = 0; i < r->count; i++) {
        const embedd_input *in = &r->inputs[i];
        if (in->kind == EMBEDD_INPUT_TEXT && in->data != NULL && in->size == sizeof poison - 1 && memcmp(in->data, poison, in->size) == 0) {
            embedd_copy_message(r->error, r->error_capacity, "fixture: a fixture:fail-call input fails the whole call");
            return EMBEDD_ERR_INTERNAL;
        }
    }
    uint32_t before = __atomic_fetch_add(&m->active_calls, 1, __ATOMIC_ACQ_REL);
    int result = EMBEDD_OK;
    if (before != 0 && !m->info.concurrent) {
        embedd_copy_message(r->error, r->error_capacity,
                            "fixture: concurrent embed on a model declared non-concurrent (host bug)");
        result = EMBEDD_ERR_INTERNAL;
        goto done;
    }
    if (m->compose[0] != '\0') {
        /* The caller's request as it is: same inputs, output, statuses and cancel word. */
        embedd_embed_request inner = *r;
        inner.struct_size = sizeof inner;
        inner.usage = NULL;
        inner.emit_segment = NULL;
        inner.segment_context = NULL;
        result = m->plugin->host.embed_with(m->plugin->host.host_context, m->compose, &inner);
        goto done;
    }
    for (uint32_t i = 0; i < r->count; i++) {
#if !FIXTURE_BREAK_CONTRACT
        if (embedd_cancel_requested(r->cancel)) { result = EMBEDD_ERR_CANCELLED; goto done; }
#endif
        if (m->delay_us) {
            struct timespec ts = {m->delay_us / 1000000, (long)(m->delay_us % 1000000) * 1000};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        }
        float *v = r->output + (size_t)i * m->info.dim;
        memset(v, 0, sizeof(float) * m->info.dim);
        r->statuses[i].status = embed_one(m, &r->inputs[i], v, r->statuses[i].message);
        if (r->statuses[i].status != EMBEDD_OK) memset(v, 0, sizeof(float) * m->info.dim);
#if FIXTURE_BREAK_CONTRACT
        else v[0] += 1e-3f * (float)i;
#endif
    }
done:
    __atomic_fetch_sub(&m->active_calls, 1, __ATOMIC_ACQ_REL);
    return result;
}

static void fixture_release(embedd_model *m) {
    if (m->log_loads) {
        char message[256];
        snprintf(message, sizeof message, "fixture: released %s version %s", m->name, m->version);
        fixture_log(m->plugin, EMBEDD_LOG_INFO, message);
    }
    m->plugin->models_alive--;
    free(m);
}

static const embedd_plugin_descriptor descriptor = {
    .struct_size = sizeof(embedd_plugin_descriptor),
    .abi_major = FIXTURE_ABI_MAJOR,
    .abi_minor = FIXTURE_ABI_MINOR,
    .name = "fixture",
    .version = FIXTURE_VERSION,
    .description = "embedd test fixture in C: trigram-hash vectors, every ABI path (not a product plugin)",
    .flags = EMBEDD_PLUGIN_UNLOADABLE,
    .init = fixture_init,
    .finalize = fixture_finalize,
    .load_model = fixture_load_model,
    .describe_model = fixture_describe,
    .embed = fixture_embed,
    .release_model = fixture_release,
};

__attribute__((visibility("default")))
const embedd_plugin_descriptor *FIXTURE_ENTRY_NAME(void) { return &descriptor; }
