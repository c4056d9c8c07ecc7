/*
 * embedd_plugin.h — the embedd plugin ABI, version 1.1 (1.0 plugins load unchanged).
 *
 * A modality plugin is a shared library (.so) that exports exactly one symbol,
 * `embedd_plugin_entry`, returning a pointer to a static, versioned descriptor.
 * Everything else the host needs is reached through that descriptor.
 * This header is the whole contract: only C types cross the boundary.
 * docs/plugin-abi.md explains it with examples.
 *
 * ---------------------------------------------------------------------------------------------
 * Versioning
 *   The descriptor carries the ABI major and minor the plugin was built against. The host
 *   accepts a plugin when plugin.major == host.major and plugin.minor <= host.minor, and refuses
 *   it otherwise with a message naming both versions. Minor versions only *append* fields to the
 *   end of structs; every struct that may grow starts with `struct_size`, and a reader never
 *   touches a field past the size the writer declared.
 *
 * Lifetimes (three, nested)
 *   plugin : init() ... finalize()           once per loaded image
 *   model  : load_model() ... release_model() many per plugin; each has its own description
 *   call   : embed()                         many per model, batched
 *   The host calls init, load_model, release_model and finalize from one thread at a time for a
 *   given plugin. embed() may run concurrently on *different* models at any time, and on the
 *   *same* model only if its description sets `concurrent = 1`; otherwise the host serialises.
 *   The host releases a model only after every embed() on it has returned, and finalizes the
 *   plugin only after every model is released.
 *
 * Ownership
 *   - The host allocates everything it passes in (inputs, options, output vectors, statuses,
 *     error buffers) and keeps it valid for the duration of the call. The plugin never frees,
 *     retains or writes outside host memory, except the output areas it is handed.
 *   - Strings and arrays the plugin returns inside a model description (name, version, space,
 *     MIME types) stay valid and unchanged until that model is released.
 *   - Strings in the plugin descriptor are static: valid as long as the image is loaded.
 *   - Errors are written by the plugin into a host buffer `(char *error, size_t error_capacity)`
 *     as a NUL-terminated UTF-8 message, truncated to fit.
 *
 * Threads
 *   Plugins may start their own threads (e.g. OpenMP) but must stop them in release/finalize.
 *   The log callback may be called from any thread, at any time between init and finalize.
 * ---------------------------------------------------------------------------------------------
 */
#ifndef EMBEDD_PLUGIN_H
#define EMBEDD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMBEDD_ABI_VERSION_MAJOR 1
#define EMBEDD_ABI_VERSION_MINOR 1

/** The name of the one symbol every plugin exports. */
#define EMBEDD_PLUGIN_ENTRY_SYMBOL "embedd_plugin_entry"

/** Capacity the host gives per-input and whole-call error messages (bytes, including NUL). */
#define EMBEDD_MESSAGE_CAPACITY 256

/* ------------------------------------------------------------------------------------------ */
/* Status codes                                                                                */
/* ------------------------------------------------------------------------------------------ */

typedef enum embedd_status {
    EMBEDD_OK = 0,
    /** The input is malformed: empty text, undecodable or truncated media, bad dimensions. */
    EMBEDD_ERR_INVALID_INPUT = 1,
    /** The model does not accept this kind of input (e.g. an image given to a text model). */
    EMBEDD_ERR_UNSUPPORTED_INPUT = 2,
    /** The input exceeds a declared limit (bytes, pixels, seconds) and the model rejects it. */
    EMBEDD_ERR_TOO_LARGE = 3,
    /** The call saw the cancellation flag and stopped; outputs are undefined. */
    EMBEDD_ERR_CANCELLED = 4,
    /** A model directory is missing, unreadable or inconsistent (load_model only). */
    EMBEDD_ERR_MODEL = 5,
    /** Bad options passed to load_model (unknown key, bad value). */
    EMBEDD_ERR_OPTIONS = 6,
    /** Out of memory or another resource. */
    EMBEDD_ERR_RESOURCE = 7,
    /** A bug or an unexpected failure inside the plugin. */
    EMBEDD_ERR_INTERNAL = 8
} embedd_status;

/* ------------------------------------------------------------------------------------------ */
/* Enumerations used in descriptions                                                           */
/* ------------------------------------------------------------------------------------------ */

/** Modalities a model accepts, as a bit set: CLIP sets TEXT | IMAGE. */
typedef enum embedd_modality {
    EMBEDD_MODALITY_TEXT = 1u << 0,
    EMBEDD_MODALITY_IMAGE = 1u << 1,
    EMBEDD_MODALITY_AUDIO = 1u << 2,
    EMBEDD_MODALITY_VIDEO = 1u << 3
} embedd_modality;

/** The metric a model's vectors are meant to be compared with. */
typedef enum embedd_metric {
    EMBEDD_METRIC_COSINE = 0,
    EMBEDD_METRIC_L2 = 1,
    EMBEDD_METRIC_INNER_PRODUCT = 2
} embedd_metric;

/** The shape of one input. */
typedef enum embedd_input_kind {
    /** UTF-8 text in `data`/`size` (not NUL-terminated; may contain NUL bytes). */
    EMBEDD_INPUT_TEXT = 1,
    /** Encoded media bytes (PNG, JPEG, WAV, MP4, ...) in `data`/`size`, typed by `mime_type`. */
    EMBEDD_INPUT_ENCODED = 2,
    /** Decoded pixels: `width * height * 3` bytes, RGB, row-major, no padding. */
    EMBEDD_INPUT_RGB8 = 3,
    /** Decoded sound: `size / 4` float32 samples in [-1, 1], `channels` interleaved. */
    EMBEDD_INPUT_PCM_F32 = 4,
    /** ABI 1.1: an open, readable file of encoded media (a video of an hour, say) that is not
        copied into memory. `reserved` holds the descriptor (the host keeps it open for the
        call; the plugin must not close it, and reads it with pread, leaving the file offset
        alone), `size` its length in bytes, `mime_type` as for ENCODED, `data` NULL. Passed
        only to models whose `input_kinds` has this bit, so never to 1.0 plugins. */
    EMBEDD_INPUT_FD = 5
} embedd_input_kind;

/** Log levels, numbered as syslog/journald priorities. */
typedef enum embedd_log_level {
    EMBEDD_LOG_ERROR = 3,
    EMBEDD_LOG_WARNING = 4,
    EMBEDD_LOG_NOTICE = 5,
    EMBEDD_LOG_INFO = 6,
    EMBEDD_LOG_DEBUG = 7
} embedd_log_level;

/** Descriptor flags. */
typedef enum embedd_plugin_flags {
    /** The image holds no state the C runtime cannot tear down (plain C/C++): the host may
        dlclose it after finalize. Swift plugins must NOT set this (Swift images cannot be
        unloaded safely). */
    EMBEDD_PLUGIN_UNLOADABLE = 1u << 0
} embedd_plugin_flags;

/* ------------------------------------------------------------------------------------------ */
/* Host → plugin data                                                                          */
/* ------------------------------------------------------------------------------------------ */

struct embedd_embed_request;

/** Services the host offers to the plugin, passed to init(). Valid until finalize returns. */
typedef struct embedd_host_api {
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;
    /** Opaque host pointer to hand back to `log` (and to the 1.1 calls below). */
    void *host_context;
    /** Writes one log line (UTF-8, no trailing newline needed). Thread-safe. */
    void (*log)(void *host_context, int32_t level, const char *message);
    /* ---- ABI 1.1, composition (docs/abi-1.1.md §5; read only when struct_size covers it) ---- */
    /** The output dimension of the model loaded under `name` (0 when none is), and its
        embedding space id copied NUL-terminated into `space` (truncated to `space_capacity`),
        so a plugin can size outputs and declare its own space before calling `embed_with`.
        `input_kinds`, when not NULL, receives the model's accepted input-kind bit set.
        Thread-safe; callable from load_model and embed. */
    uint32_t (*model_dimension)(void *host_context, const char *name, char *space, size_t space_capacity,
                                uint32_t *input_kinds);
    /** Embeds `request` with the model loaded under `name`, through that model's own queue and
        batching (same limits; the request's `cancel` flag is honoured), and returns as embed()
        does: EMBEDD_OK with each input's outcome in `statuses`, or a whole-call code with
        `error` filled. The request is the caller's, built as the host builds one: `output`
        has count × that model's dimension floats; `usage`, `emit_segment` (the caller's own
        callback, called back on this thread before embed_with returns) are optional. A hot
        swap of the target is seen by the next call. Blocking; call it only from embed(). The
        host refuses (EMBEDD_ERR_RESOURCE) a call to the model whose embed() is calling it,
        which would wait for itself. */
    int32_t (*embed_with)(void *host_context, const char *name, const struct embedd_embed_request *request);
} embedd_host_api;

/** One key/value option for load_model, from the daemon's configuration (both NUL-terminated). */
typedef struct embedd_option {
    const char *key;
    const char *value;
} embedd_option;

/** One input of a batch. Fields not used by `kind` are zero. */
typedef struct embedd_input {
    uint32_t kind;          /**< an embedd_input_kind */
    uint32_t reserved;      /**< zero */
    const uint8_t *data;    /**< the bytes; may be NULL only when size == 0 */
    size_t size;            /**< number of bytes at `data` */
    const char *mime_type;  /**< EMBEDD_INPUT_ENCODED: "image/png", "audio/wav", ...; else NULL */
    uint32_t width;         /**< EMBEDD_INPUT_RGB8 */
    uint32_t height;        /**< EMBEDD_INPUT_RGB8 */
    uint32_t sample_rate;   /**< EMBEDD_INPUT_PCM_F32, in Hz */
    uint32_t channels;      /**< EMBEDD_INPUT_PCM_F32, >= 1 */
} embedd_input;

/** The outcome of one input, written by the plugin. */
typedef struct embedd_input_status {
    int32_t status;                          /**< an embedd_status */
    char message[EMBEDD_MESSAGE_CAPACITY];   /**< NUL-terminated reason when status != OK */
} embedd_input_status;

/** ABI 1.1: how much of one text input the vector was computed from. A plugin fills it only
    when the request's `struct_size` reaches `usage` and `usage` is not NULL; entries it leaves
    zero mean "not counted" (non-text inputs, or a plugin that does not count). */
typedef struct embedd_input_usage {
    uint32_t tokens;      /**< tokens the input has, special tokens included, before any cut */
    uint32_t used;        /**< tokens the vector was computed from (== tokens unless cut) */
    uint32_t truncated;   /**< 1 when the input was cut to the model's window, else 0 */
    uint32_t chunks;      /**< windows averaged (a chunk-mean policy), else 0 */
} embedd_input_usage;

/** One batched embed call. Every pointer is host memory. */
typedef struct embedd_embed_request {
    uint32_t struct_size;
    uint32_t count;                     /**< number of inputs (>= 1) */
    const embedd_input *inputs;         /**< count inputs */
    float *output;                      /**< count × dim floats, row i for input i; host zeroes it */
    embedd_input_status *statuses;      /**< count statuses; host sets them to OK, "" */
    /** Set to non-zero by the host (from another thread) to ask the plugin to stop early.
        Read it with an atomic load (embedd_cancel_requested) between steps; on seeing it,
        return EMBEDD_ERR_CANCELLED. */
    const volatile uint32_t *cancel;
    char *error;                        /**< whole-call error message buffer */
    size_t error_capacity;
    /* ---- ABI 1.1 (read only when struct_size covers it) ---- */
    /** `count` entries zeroed by the host, entry i for input i; NULL when the host does not
        want counts. The host uses them for honest truncation: it reports them to clients and
        refuses a truncated input when the caller asked for `truncate: false`. */
    embedd_input_usage *usage;
    /* ---- ABI 1.1, segments (docs/abi-1.1.md §3; read only when struct_size covers them) ---- */
    /** Emits one extra vector for input `index` (0 ≤ index < count) covering [start, end)
        seconds of it; `vector` holds `dim` floats and is copied before the call returns. Row
        `index` of `output` stays the input's summary vector. Call it from the thread running
        embed(), segments of one input in time order. Returns EMBEDD_OK, or
        EMBEDD_ERR_RESOURCE when the host's per-call limit is reached (the plugin then stops
        and returns that code). NULL when the caller wants only the summaries: the plugin then
        skips the per-segment work. */
    int32_t (*emit_segment)(void *segment_context, uint32_t index, double start, double end,
                            const float *vector);
    /** Opaque host pointer to hand back to `emit_segment`. */
    void *segment_context;
} embedd_embed_request;

/* ------------------------------------------------------------------------------------------ */
/* Plugin → host data                                                                          */
/* ------------------------------------------------------------------------------------------ */

typedef struct embedd_model embedd_model;  /**< opaque, owned by the plugin */

/** What a loaded model is. Returned by describe_model; valid until release_model. */
typedef struct embedd_model_info {
    uint32_t struct_size;
    uint32_t reserved;
    const char *name;             /**< e.g. "all-MiniLM-L6-v2" */
    const char *version;          /**< version or content hash of the weights, e.g. "sha256:ab12…" */
    /** Vectors are comparable only within one space. Models that produce comparable vectors
        (CLIP's text and image towers) report the same id; anything else must differ.
        Convention: "<family>/<model>@<content hash>". */
    const char *embedding_space;
    uint32_t modalities;          /**< embedd_modality bit set */
    uint32_t input_kinds;         /**< bit set of (1u << embedd_input_kind) accepted */
    const char *const *mime_types;  /**< MIME types accepted for EMBEDD_INPUT_ENCODED */
    uint32_t mime_type_count;
    uint32_t dim;                 /**< output dimension (>= 1) */
    uint32_t metric;              /**< embedd_metric */
    uint32_t normalized;          /**< 1 if every output vector has unit L2 norm */
    uint32_t max_tokens;          /**< token window of a text model (0 = not a text model) */
    uint32_t max_pixels;          /**< largest width × height accepted (0 = no images) */
    double max_seconds;           /**< longest audio/video accepted (0 = no time media) */
    uint64_t max_input_bytes;     /**< hard cap on one input's `size`; larger inputs fail with
                                       EMBEDD_ERR_TOO_LARGE (0 = no cap) */
    uint32_t preferred_batch;     /**< the batch size that uses the hardware best */
    uint32_t max_batch;           /**< largest `count` accepted in one call */
    uint32_t concurrent;          /**< 1 if embed() may run concurrently on this model */
    /** Largest absolute difference between an input's vector computed alone and inside a
        batch (0 = bit-identical). The conformance kit holds the plugin to it. */
    float batch_tolerance;
    /* ---- ABI 1.1 (read only when struct_size covers it) ---- */
    /** Length in seconds of the windows a model emits segments for (`emit_segment`); 0 when
        it emits none (text and image models). */
    double segment_seconds;
} embedd_model_info;

/** The descriptor returned by `embedd_plugin_entry`. Static; never freed. */
typedef struct embedd_plugin_descriptor {
    uint32_t struct_size;
    uint16_t abi_major;           /**< EMBEDD_ABI_VERSION_MAJOR the plugin was built with */
    uint16_t abi_minor;           /**< EMBEDD_ABI_VERSION_MINOR the plugin was built with */
    const char *name;             /**< short plugin name used in configs: "text", "image", ... */
    const char *version;          /**< plugin version, e.g. "1.2.0" */
    const char *description;      /**< one line for humans */
    uint32_t flags;               /**< embedd_plugin_flags */
    uint32_t reserved;

    /** Starts the plugin. On success stores its state in *plugin and returns EMBEDD_OK. */
    int32_t (*init)(const embedd_host_api *host, void **plugin, char *error, size_t error_capacity);

    /** Stops the plugin; called after every model it loaded was released. */
    void (*finalize)(void *plugin);

    /** Loads one model from a directory with options. On success stores it in *model. */
    int32_t (*load_model)(void *plugin, const char *model_dir,
                          const embedd_option *options, size_t option_count,
                          embedd_model **model, char *error, size_t error_capacity);

    /** Describes a loaded model; the result lives as long as the model. Never NULL. */
    const embedd_model_info *(*describe_model)(embedd_model *model);

    /** Embeds a batch. Returns EMBEDD_OK when every input was processed (each input's own
        outcome is in `statuses`), EMBEDD_ERR_CANCELLED when stopped by the flag, or another
        code with `error` filled when the whole call failed. */
    int32_t (*embed)(embedd_model *model, const embedd_embed_request *request);

    /** Releases a model; no call on it is running or will run. */
    void (*release_model)(embedd_model *model);
} embedd_plugin_descriptor;

/** The type of the entry symbol. */
typedef const embedd_plugin_descriptor *(*embedd_plugin_entry_fn)(void);

/* ------------------------------------------------------------------------------------------ */
/* Small inline helpers both sides may use                                                     */
/* ------------------------------------------------------------------------------------------ */

/** Whether cancellation was requested (atomic, relaxed load). */
static inline int embedd_cancel_requested(const volatile uint32_t *flag) {
    return flag != NULL && __atomic_load_n(flag, __ATOMIC_RELAXED) != 0;
}

/** Requests cancellation (host side; atomic store). */
static inline void embedd_cancel_request(volatile uint32_t *flag) {
    __atomic_store_n(flag, 1u, __ATOMIC_RELAXED);
}

/** Copies a message into a fixed buffer, truncating safely and always NUL-terminating. */
static inline void embedd_copy_message(char *dst, size_t capacity, const char *src) {
    size_t i = 0;
    if (dst == NULL || capacity == 0) return;
    if (src != NULL) {
        for (; i + 1 < capacity && src[i] != '\0'; i++) dst[i] = src[i];
    }
    dst[i] = '\0';
}

#ifdef __cplusplus
}
#endif

#endif /* EMBEDD_PLUGIN_H */
