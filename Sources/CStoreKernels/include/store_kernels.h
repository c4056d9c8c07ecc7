// Distance kernels for EmbedStore, chosen at run time for the CPU (AVX-512, AVX2+FMA or
// portable C), so one binary is both fast here and safe on older x86-64 machines.
// Swift cannot compile a function for a wider instruction set than the whole module, nor
// issue a prefetch; this small C target does both.
#ifndef STORE_KERNELS_H
#define STORE_KERNELS_H

#include <stddef.h>

/// A distance kernel: Σ a·b or Σ (a−b)² over n floats.
typedef float (*esk_kernel)(const float *a, const float *b, size_t n);

/// The best dot-product kernel for this CPU.
esk_kernel esk_dot_kernel(void);
/// The best squared-L2 kernel for this CPU.
esk_kernel esk_l2sq_kernel(void);
/// An int8 dot-product kernel: Σ a·b over n signed bytes, exact in 32 bits for n ≤ 65536.
typedef int (*esk_kernel_i8)(const signed char *a, const signed char *b, size_t n);
/// The best int8 dot-product kernel for this CPU.
esk_kernel_i8 esk_dot_i8_kernel(void);

/// Quantises n floats with their own scale into codes: code = round(x·(127/max|x|)) (halves
/// away from zero; x/max|x|·127 when 127/max|x| overflows), clamped to ±127; returns the scale max|x|/127 (0, all codes 0, for a zero or
/// non-finite max).
typedef float (*esk_quantizer)(const float *v, size_t n, signed char *codes);
/// The best quantiser for this CPU (bit-identical to the portable one).
esk_quantizer esk_quantize_kernel(void);
/// The portable quantiser.
float esk_quantize_generic(const float *v, size_t n, signed char *codes);

/// Converts n IEEE half-precision values (binary16 bit patterns) to floats (exact).
typedef void (*esk_f16_decoder)(const unsigned short *src, float *dst, size_t n);
/// Converts n floats to IEEE half precision, rounding to nearest even (overflow gives ±inf).
typedef void (*esk_f16_encoder)(const float *src, unsigned short *dst, size_t n);
/// The best half→float converter for this CPU (AVX-512, F16C or portable).
esk_f16_decoder esk_f16_decode_kernel(void);
/// The best float→half converter for this CPU.
esk_f16_encoder esk_f16_encode_kernel(void);
/// The portable converters (tests compare the SIMD ones against them).
void esk_f16_decode_generic(const unsigned short *src, float *dst, size_t n);
void esk_f16_encode_generic(const float *src, unsigned short *dst, size_t n);

/// The layer-0 beam search of an unfiltered search on the 8-bit codes (HNSW's hottest loop,
/// kept in C so each hop costs what it costs in hnswlib). Node blocks as in docs/storage.md:
/// byte 4 the flags (bit 0: deleted), byte 16 the layer-0 link count, then the links; at
/// `codes_offset`: code scale, ‖x‖², then `dim` codes. Cosine divides by √‖x‖², so the header
/// line is read only when `skip_deleted` is set.
typedef struct {
    const unsigned char *nodes;
    size_t stride, codes_offset, dim;
    unsigned max_links, node_count;
    int metric;  /* 0 cosine, 1 l2, 2 inner product */
    const signed char *query_codes;
    float query_scale, query_norm2;
    unsigned long long *visited;  /* one bit per node (bit id % 64 of word id / 64), clear at the start */
    unsigned *touched;            /* ids the walk marks are appended here ... */
    long touched_capacity;        /* ... while *touched_count < touched_capacity; */
    long *touched_count;          /* advanced for every id marked (the caller clears their words) */
    int skip_deleted;         /* nodes flagged deleted (header byte 4, bit 0) are traversed, never results */
    unsigned exclude;         /* a node traversed but never a result (0xFFFFFFFF: none) */
    int beam;                 /* candidates expanded per step: 1 is HNSW's best-first order; 2 takes
                                 the two nearest together, so their misses overlap (big graphs) */
} esk_walk;

/// A filter for `esk_walk_layer0_filtered`: `accept(ctx, id)` returns nonzero when node `id`
/// may be a result (called only for nodes that would enter the results, after the deleted
/// check). `records` (entries of `record_bytes`, each starting with the u64 offset of the
/// record's bytes in `heap`) only serve to prefetch what `accept` will read; NULL skips that.
typedef struct {
    int (*accept)(void *ctx, unsigned id);
    void *ctx;
    const unsigned char *records;
    size_t record_bytes;
    const unsigned char *heap;
} esk_walk_filter;

/// Best-first search from `n_entries` entry nodes with their distances (the walk marks them
/// visited). Writes up to `ef` results (approximate distances, nearest first) to res_d/res_id, which
/// need room for ef + 1, and returns their count; −1 if more than `cand_capacity` candidates
/// were needed (the caller grows the buffers, clears the visited bits and calls again); −2 if
/// `max_links` exceeds 256 (M ≤ 128; the caller walks another way). `beam` outside 1…2 counts as 1.
int esk_walk_layer0(const esk_walk *w, const float *entry_d, const unsigned *entry_id, int n_entries, int ef,
                    float *cand_d, unsigned *cand_id, int cand_capacity, float *res_d, unsigned *res_id);

/// `esk_walk_layer0` with a filter: only nodes `f->accept` takes are results; the others are
/// traversed (so the walk goes on until it holds ef accepted nodes, as hnswlib's filter does).
int esk_walk_layer0_filtered(const esk_walk *w, const esk_walk_filter *f, const float *entry_d, const unsigned *entry_id,
                             int n_entries, int ef, float *cand_d, unsigned *cand_id, int cand_capacity, float *res_d,
                             unsigned *res_id);

/// Which instruction set the kernels use: "avx512", "avx2" or "generic".
const char *esk_kernel_name(void);

/// Hints the CPU to start loading the cache line at p (no effect on results).
static inline void esk_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
