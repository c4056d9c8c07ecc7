#include "store_kernels.h"
#include <immintrin.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

static float dot_generic(const float *a, const float *b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i]; s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2]; s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

static float l2sq_generic(const float *a, const float *b, size_t n) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        float d0 = a[i] - b[i], d1 = a[i + 1] - b[i + 1], d2 = a[i + 2] - b[i + 2], d3 = a[i + 3] - b[i + 3];
        s0 += d0 * d0; s1 += d1 * d1; s2 += d2 * d2; s3 += d3 * d3;
    }
    for (; i < n; i++) { float d = a[i] - b[i]; s0 += d * d; }
    return (s0 + s1) + (s2 + s3);
}

__attribute__((target("avx2,fma")))
static float hsum256(__m256 v) {
    __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
    lo = _mm_add_ps(lo, hi);
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_shuffle_ps(lo, lo, 1));
    return _mm_cvtss_f32(lo);
}

__attribute__((target("avx2,fma")))
static float dot_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

__attribute__((target("avx2,fma")))
static float l2sq_avx2(const float *a, const float *b, size_t n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        __m256 d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
        s1 = _mm256_fmadd_ps(d1, d1, s1);
    }
    for (; i + 8 <= n; i += 8) {
        __m256 d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i));
        s0 = _mm256_fmadd_ps(d0, d0, s0);
    }
    float s = hsum256(_mm256_add_ps(s0, s1));
    for (; i < n; i++) { float d = a[i] - b[i]; s += d * d; }
    return s;
}

__attribute__((target("avx512f")))
static float dot_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16), s1);
    }
    for (; i + 16 <= n; i += 16) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i), s0);
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        s1 = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i), s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

__attribute__((target("avx512f")))
static float l2sq_avx512(const float *a, const float *b, size_t n) {
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        __m512 d1 = _mm512_sub_ps(_mm512_loadu_ps(a + i + 16), _mm512_loadu_ps(b + i + 16));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
        s1 = _mm512_fmadd_ps(d1, d1, s1);
    }
    for (; i + 16 <= n; i += 16) {
        __m512 d0 = _mm512_sub_ps(_mm512_loadu_ps(a + i), _mm512_loadu_ps(b + i));
        s0 = _mm512_fmadd_ps(d0, d0, s0);
    }
    if (i < n) {
        __mmask16 m = (__mmask16)((1u << (n - i)) - 1);
        __m512 d = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), _mm512_maskz_loadu_ps(m, b + i));
        s1 = _mm512_fmadd_ps(d, d, s1);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

static int dot_i8_generic(const signed char *a, const signed char *b, size_t n) {
    int s = 0;
    for (size_t i = 0; i < n; i++) s += (int)a[i] * (int)b[i];
    return s;
}

__attribute__((target("avx2")))
static int dot_i8_avx2(const signed char *a, const signed char *b, size_t n) {
    __m256i acc = _mm256_setzero_si256();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m256i x = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(a + i)));
        __m256i y = _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(b + i)));
        acc = _mm256_add_epi32(acc, _mm256_madd_epi16(x, y));
    }
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    int r = _mm_cvtsi128_si32(s);
    for (; i < n; i++) r += (int)a[i] * (int)b[i];
    return r;
}

__attribute__((target("avx512f,avx512bw,avx512vl")))
static int dot_i8_avx512(const signed char *a, const signed char *b, size_t n) {
    __m512i acc = _mm512_setzero_si512();
    size_t i = 0;
    for (; i + 32 <= n; i += 32) {
        __m512i x = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(a + i)));
        __m512i y = _mm512_cvtepi8_epi16(_mm256_loadu_si256((const __m256i *)(b + i)));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
    }
    if (i < n) {
        __mmask32 m = (n - i >= 32) ? 0xFFFFFFFFu : ((1u << (n - i)) - 1);
        __m512i x = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, a + i));
        __m512i y = _mm512_cvtepi8_epi16(_mm256_maskz_loadu_epi8(m, b + i));
        acc = _mm512_add_epi32(acc, _mm512_madd_epi16(x, y));
    }
    return _mm512_reduce_add_epi32(acc);
}

/* AVX-512 VNNI: vpdpbusd multiplies unsigned by signed bytes, so a is shifted to unsigned
 * (a + 128, by flipping its sign bit) and 128 * sum(b) is taken off again; the sum comes from a
 * second vpdpbusd against bytes of 1. Per 64 elements: two dot instructions instead of four
 * widenings, two multiply-adds and two additions. */
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))
static int dot_i8_vnni(const signed char *a, const signed char *b, size_t n) {
    __m512i acc = _mm512_setzero_si512(), sum = _mm512_setzero_si512();
    const __m512i flip = _mm512_set1_epi8((char)0x80), ones = _mm512_set1_epi8(1);
    size_t i = 0;
    for (; i + 64 <= n; i += 64) {
        __m512i x = _mm512_xor_si512(_mm512_loadu_si512((const void *)(a + i)), flip);
        __m512i y = _mm512_loadu_si512((const void *)(b + i));
        acc = _mm512_dpbusd_epi32(acc, x, y);
        sum = _mm512_dpbusd_epi32(sum, ones, y);
    }
    if (i < n) {
        __mmask64 m = (n - i >= 64) ? ~0ull : ((1ull << (n - i)) - 1);
        /* masked-off lanes: x = 0 ^ 0x80 would count; zero x's lanes after the flip instead */
        __m512i x = _mm512_maskz_mov_epi8(m, _mm512_xor_si512(_mm512_maskz_loadu_epi8(m, a + i), flip));
        __m512i y = _mm512_maskz_loadu_epi8(m, b + i);
        acc = _mm512_dpbusd_epi32(acc, x, y);
        sum = _mm512_dpbusd_epi32(sum, ones, y);
    }
    return _mm512_reduce_add_epi32(acc) - 128 * _mm512_reduce_add_epi32(sum);
}

static int level(void) {
    static int cached = -1;
    if (cached < 0) {
        __builtin_cpu_init();
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl"))
            cached = __builtin_cpu_supports("avx512vnni") ? 3 : 2;
        else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) cached = 1;
        else cached = 0;
    }
    return cached;
}

esk_kernel esk_dot_kernel(void) {
    switch (level()) { case 3: case 2: return dot_avx512; case 1: return dot_avx2; default: return dot_generic; }
}

esk_kernel esk_l2sq_kernel(void) {
    switch (level()) { case 3: case 2: return l2sq_avx512; case 1: return l2sq_avx2; default: return l2sq_generic; }
}

const char *esk_kernel_name(void) {
    switch (level()) { case 3: return "avx512+vnni"; case 2: return "avx512"; case 1: return "avx2"; default: return "generic"; }
}

esk_kernel_i8 esk_dot_i8_kernel(void) {
    switch (level()) { case 3: return dot_i8_vnni; case 2: return dot_i8_avx512; case 1: return dot_i8_avx2; default: return dot_i8_generic; }
}

/* ---- IEEE binary16 storage (f16 collections) ---- */

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu, bits;
    if (exp == 0) {
        if (man == 0) {
            bits = sign;
        } else {  /* subnormal: man · 2^-24, normalised */
            int e = -1;
            do { e++; man <<= 1; } while (!(man & 0x400u));
            bits = sign | ((uint32_t)(127 - 15 - e) << 23) | ((man & 0x3ffu) << 13);
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112u) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

static uint16_t float_to_half(float f) {
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u, exp = (x >> 23) & 0xffu, man = x & 0x7fffffu;
    if (exp == 255) return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int e = (int)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {  /* subnormal half (or zero) */
        if (e < -10) return (uint16_t)sign;
        man |= 0x800000u;
        int shift = 14 - e;
        uint32_t half = man >> shift, rem = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rem > mid || (rem == mid && (half & 1u))) half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = ((uint32_t)e << 10) | (man >> 13), rem = man & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (half & 1u))) half++;  /* a carry rounds up into the exponent */
    return (uint16_t)(sign | half);
}

void esk_f16_decode_generic(const unsigned short *src, float *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = half_to_float(src[i]);
}

void esk_f16_encode_generic(const float *src, unsigned short *dst, size_t n) {
    for (size_t i = 0; i < n; i++) dst[i] = float_to_half(src[i]);
}

__attribute__((target("avx2,f16c")))
static void f16_decode_f16c(const unsigned short *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + i))));
    for (; i < n; i++) dst[i] = half_to_float(src[i]);
}

__attribute__((target("avx2,f16c")))
static void f16_encode_f16c(const float *src, unsigned short *dst, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(dst + i), _mm256_cvtps_ph(_mm256_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) dst[i] = float_to_half(src[i]);
}

__attribute__((target("avx512f")))
static void f16_decode_avx512(const unsigned short *src, float *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(dst + i, _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + i))));
    for (; i < n; i++) dst[i] = half_to_float(src[i]);
}

__attribute__((target("avx512f")))
static void f16_encode_avx512(const float *src, unsigned short *dst, size_t n) {
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm256_storeu_si256((__m256i *)(dst + i), _mm512_cvtps_ph(_mm512_loadu_ps(src + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
    for (; i < n; i++) dst[i] = float_to_half(src[i]);
}

static int has_f16c(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("f16c");
}

esk_f16_decoder esk_f16_decode_kernel(void) {
    if (level() >= 2) return f16_decode_avx512;
    if (level() == 1 && has_f16c()) return f16_decode_f16c;
    return esk_f16_decode_generic;
}

esk_f16_encoder esk_f16_encode_kernel(void) {
    if (level() >= 2) return f16_encode_avx512;
    if (level() == 1 && has_f16c()) return f16_encode_f16c;
    return esk_f16_encode_generic;
}

/* ---- layer-0 walk on the codes ---- */

/* Min-heap (candidates) and max-heap (results) on parallel arrays, sift by moving a hole. */
static inline void heap_push(float *d, unsigned *id, int *n, float dv, unsigned iv, int is_max) {
    int i = (*n)++;
    while (i > 0) {
        int p = (i - 1) >> 1;
        if (is_max ? !(d[p] < dv) : !(d[p] > dv)) break;
        d[i] = d[p]; id[i] = id[p]; i = p;
    }
    d[i] = dv; id[i] = iv;
}

static inline void heap_pop(float *d, unsigned *id, int *n, int is_max) {
    int last = --(*n);
    if (last == 0) return;
    float dv = d[last]; unsigned iv = id[last];
    int i = 0;
    for (;;) {
        int c = 2 * i + 1;
        if (c >= last) break;
        if (c + 1 < last && (is_max ? d[c + 1] > d[c] : d[c + 1] < d[c])) c++;
        if (is_max ? !(d[c] > dv) : !(d[c] < dv)) break;
        d[i] = d[c]; id[i] = id[c]; i = c;
    }
    d[i] = dv; id[i] = iv;
}

/* Whether node o (at block b) may be a result. */
static inline int walk_accepts(const esk_walk *w, const unsigned char *b, unsigned o) {
    if (o == w->exclude) return 0;
    if (w->skip_deleted) {
        unsigned flags;
        memcpy(&flags, b + 4, 4);
        if (flags & 1u) return 0;
    }
    return 1;
}

static inline int walk_seen(const unsigned long long *visited, unsigned id) {
    return (int)(visited[id >> 6] >> (id & 63) & 1);
}

static inline void walk_mark(const esk_walk *w, unsigned id) {
    w->visited[id >> 6] |= 1ull << (id & 63);
    long n = (*w->touched_count)++;
    if (n < w->touched_capacity) w->touched[n] = id;
}

/* A neighbour's codes are requested this many neighbours before its distance is computed:
   requesting a whole list's lines at once (~3 per neighbour at 128-d, up to 32 neighbours)
   overflows the core's miss queue and stalls on the prefetches themselves (bench/NOTES.md,
   stop 12: 10 ahead +7 % at 1M nodes over all at once; 4–16 within the noise of 10). */
#define WALK_PREFETCH_AHEAD 10

static inline void walk_prefetch_codes(const esk_walk *w, const unsigned char *b) {
    if (w->skip_deleted) esk_prefetch(b);
    /* Every line the scale, ‖x‖² and codes touch (blocks are only 16-byte aligned). */
    const unsigned char *c = b + w->codes_offset, *end = c + 8 + w->dim;
    for (const unsigned char *p = (const unsigned char *)((uintptr_t)c & ~(uintptr_t)63); p < end; p += 64) esk_prefetch(p);
}

/* The first heap line of node o's record (what a metadata filter reads first), its record
   entry having been requested earlier. */
static inline void walk_prefetch_record(const esk_walk_filter *f, unsigned o) {
    unsigned long long off;
    memcpy(&off, f->records + (size_t)o * f->record_bytes, 8);
    esk_prefetch(f->heap + off);
}

static inline int walk_layer0(const esk_walk *w, const esk_walk_filter *f, const float *entry_d, const unsigned *entry_id,
                              int n_entries, int ef, float *cand_d, unsigned *cand_id, int cand_capacity, float *res_d,
                              unsigned *res_id);

int esk_walk_layer0(const esk_walk *w, const float *entry_d, const unsigned *entry_id, int n_entries, int ef,
                    float *cand_d, unsigned *cand_id, int cand_capacity, float *res_d, unsigned *res_id) {
    return walk_layer0(w, NULL, entry_d, entry_id, n_entries, ef, cand_d, cand_id, cand_capacity, res_d, res_id);
}

int esk_walk_layer0_filtered(const esk_walk *w, const esk_walk_filter *f, const float *entry_d, const unsigned *entry_id,
                             int n_entries, int ef, float *cand_d, unsigned *cand_id, int cand_capacity, float *res_d,
                             unsigned *res_id) {
    return walk_layer0(w, f, entry_d, entry_id, n_entries, ef, cand_d, cand_id, cand_capacity, res_d, res_id);
}

/* Inlined into both entry points, so the unfiltered walk compiles without the filter's tests. */
static inline int walk_layer0(const esk_walk *w, const esk_walk_filter *f, const float *entry_d, const unsigned *entry_id,
                              int n_entries, int ef, float *cand_d, unsigned *cand_id, int cand_capacity, float *res_d,
                              unsigned *res_id) {
    const int prefetch_records = f != NULL && f->records != NULL;
    const esk_kernel_i8 dot = esk_dot_i8_kernel();
    const unsigned char *base = w->nodes;
    const size_t stride = w->stride, co = w->codes_offset, dim = w->dim;
    const unsigned count = w->node_count, max_links = w->max_links;
    unsigned long long *visited = w->visited;
    const float qs = w->query_scale, qn2 = w->query_norm2;
    const int metric = w->metric, skip_deleted = w->skip_deleted;
    int nc = 0, nr = 0;
    unsigned fresh[512];
    if (max_links > 256) return -2;
    const int beam = w->beam == 2 ? 2 : 1;
    if (ef < 1) return 0;
    for (int e = 0; e < n_entries; e++) {
        unsigned id = entry_id[e];
        if (id >= count || walk_seen(visited, id)) continue;
        if (nc >= cand_capacity) return -1;
        walk_mark(w, id);
        heap_push(cand_d, cand_id, &nc, entry_d[e], id, 0);
        if (walk_accepts(w, base + (size_t)id * stride, id) && (f == NULL || f->accept(f->ctx, id))) {
            heap_push(res_d, res_id, &nr, entry_d[e], id, 1);
            if (nr > ef) heap_pop(res_d, res_id, &nr, 1);
        }
    }
    while (nc > 0) {
        float d = cand_d[0];
        unsigned c = cand_id[0];
        if (nr >= ef && d > res_d[0]) break;
        heap_pop(cand_d, cand_id, &nc, 0);
        /* With a beam of 2, the next nearest candidate is expanded in the same step unless it
           is already farther than the worst result (the stopping rule, checked before this
           step's neighbours are added, so it may expand a node best-first order would have
           stopped at): each step waits for link lists and then
           for neighbours' codes, and taking two at once overlaps those waits (bench/NOTES.md,
           stop 12: +7–13 % QPS at 1M nodes, recall unchanged at every ef). */
        unsigned expand[2] = {c, 0};
        int ne = 1;
        if (beam == 2 && nc > 0 && !(nr >= ef && cand_d[0] > res_d[0])) {
            expand[ne++] = cand_id[0];
            heap_pop(cand_d, cand_id, &nc, 0);
        }
        /* The runners-up are most often next: start loading their links now. */
        for (int r = 0; r < beam + (beam > 1) && r < nc; r++) {
            const unsigned char *nb = base + (size_t)cand_id[r] * stride + 16;
            for (size_t o = 0; o < 4 * (1 + (size_t)max_links); o += 64) esk_prefetch(nb + o);
        }
        int nf = 0;
        for (int e = 0; e < ne; e++) {
            const unsigned *list = (const unsigned *)(base + (size_t)expand[e] * stride + 16);
            unsigned n = list[0] < max_links ? list[0] : max_links;
            for (unsigned j = 1; j <= n; j++) {
                unsigned o = list[j];
                if (o >= count || walk_seen(visited, o)) continue;
                walk_mark(w, o);
                if (nf < WALK_PREFETCH_AHEAD) {
                    walk_prefetch_codes(w, base + (size_t)o * stride);
                    if (prefetch_records) esk_prefetch(f->records + (size_t)o * f->record_bytes);
                }
                fresh[nf++] = o;
            }
        }
        /* A filter reads a record entry, then the record's bytes: the entries are requested
           with the codes, each record's first line some neighbours before its test. */
        for (int j = 0; prefetch_records && j < nf && j < WALK_PREFETCH_AHEAD / 2; j++) walk_prefetch_record(f, fresh[j]);
        for (int j = 0; j < nf; j++) {
            unsigned o = fresh[j];
            if (j + WALK_PREFETCH_AHEAD < nf) {
                walk_prefetch_codes(w, base + (size_t)fresh[j + WALK_PREFETCH_AHEAD] * stride);
                if (prefetch_records) esk_prefetch(f->records + (size_t)fresh[j + WALK_PREFETCH_AHEAD] * f->record_bytes);
            }
            if (prefetch_records && j + WALK_PREFETCH_AHEAD / 2 < nf) walk_prefetch_record(f, fresh[j + WALK_PREFETCH_AHEAD / 2]);
            const unsigned char *b = base + (size_t)o * stride;
            const unsigned char *cb = b + co;
            float scale, norm2;
            memcpy(&scale, cb, 4);
            memcpy(&norm2, cb + 4, 4);
            float dp = (float)dot(w->query_codes, (const signed char *)(cb + 8), dim) * qs * scale;
            float dn;
            /* Cosine divides by ‖x‖ from the codes' own line, not the header's 1/‖x‖: one
               cache line less per neighbour (the walk's distances are approximate anyway). */
            if (metric == 0) dn = 1 - dp / sqrtf(norm2);
            else if (metric == 1) dn = qn2 + norm2 - 2 * dp;
            else dn = -dp;
            if (nr < ef || dn < res_d[0]) {
                if (nc >= cand_capacity) return -1;
                heap_push(cand_d, cand_id, &nc, dn, o, 0);
                if (!walk_accepts(w, b, o)) continue;
                if (f != NULL && !f->accept(f->ctx, o)) continue;
                heap_push(res_d, res_id, &nr, dn, o, 1);
                if (nr > ef) heap_pop(res_d, res_id, &nr, 1);
            }
        }
    }
    /* Heap sort in place, best first; then equal distances by id (as the Swift search orders
       them: of exact duplicates, the earliest inserted comes first and survives the cut to
       the re-ranked few). The array is sorted by distance, so the insertion pass is linear
       unless many distances tie. */
    int total = nr;
    while (nr > 1) {
        float td = res_d[0];
        unsigned ti = res_id[0];
        heap_pop(res_d, res_id, &nr, 1);
        res_d[nr] = td;
        res_id[nr] = ti;
    }
    for (int i = 1; i < total; i++) {
        float dv = res_d[i];
        unsigned iv = res_id[i];
        int j = i;
        while (j > 0 && res_d[j - 1] == dv && res_id[j - 1] > iv) { res_d[j] = res_d[j - 1]; res_id[j] = res_id[j - 1]; j--; }
        res_d[j] = dv;
        res_id[j] = iv;
    }
    return total;
}

/* ---- per-vector 8-bit quantisation (codes of every node and query) ---- */

static inline signed char quantize_one(float x) {
    float r = roundf(x);  /* halves away from zero, as Swift's rounded() */
    return (signed char)(r > 127 ? 127 : r < -127 ? -127 : r);
}

float esk_quantize_generic(const float *v, size_t n, signed char *codes) {
    float max_abs = 0;
    for (size_t i = 0; i < n; i++) { float a = fabsf(v[i]); if (a > max_abs) max_abs = a; }
    if (!(max_abs > 0) || !isfinite(max_abs)) { memset(codes, 0, n); return 0; }
    float inv = 127 / max_abs;
    if (isfinite(inv)) {
        for (size_t i = 0; i < n; i++) codes[i] = quantize_one(v[i] * inv);
    } else {  /* max|x| below 127/FLT_MAX: divide first */
        for (size_t i = 0; i < n; i++) codes[i] = quantize_one(v[i] / max_abs * 127);
    }
    return max_abs / 127;
}

/* Bitwise and/or on float lanes with AVX-512F only (the _ps forms need AVX-512DQ). */
__attribute__((target("avx512f")))
static inline __m512 and_ps512(__m512 a, __m512 b) { return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }
__attribute__((target("avx512f")))
static inline __m512 or_ps512(__m512 a, __m512 b) { return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(a), _mm512_castps_si512(b))); }

__attribute__((target("avx512f")))
static float quantize_avx512(const float *v, size_t n, signed char *codes) {
    const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
    const __m512 sign_mask = _mm512_castsi512_ps(_mm512_set1_epi32((int)0x80000000u));
    __m512 mx = _mm512_setzero_ps();
    size_t i = 0;
    for (; i + 16 <= n; i += 16) mx = _mm512_max_ps(mx, and_ps512(_mm512_loadu_ps(v + i), abs_mask));
    float max_abs = _mm512_reduce_max_ps(mx);
    for (; i < n; i++) { float a = fabsf(v[i]); if (a > max_abs) max_abs = a; }
    if (!(max_abs > 0) || !isfinite(max_abs)) { memset(codes, 0, n); return 0; }
    float inv = 127 / max_abs;
    if (!isfinite(inv)) return esk_quantize_generic(v, n, codes);
    const __m512 vinv = _mm512_set1_ps(inv), half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    const __m512 hi = _mm512_set1_ps(127.0f), lo = _mm512_set1_ps(-127.0f);
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 x = _mm512_mul_ps(_mm512_loadu_ps(v + i), vinv);
        /* round half away from zero exactly: trunc, then one step outward if |frac| ≥ 0.5
           (x − trunc(x) is exact for |x| ≤ 127) */
        __m512 t = _mm512_roundscale_ps(x, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
        __m512 frac = and_ps512(_mm512_sub_ps(x, t), abs_mask);
        __mmask16 out = _mm512_cmp_ps_mask(frac, half, _CMP_GE_OQ);
        __m512 step = or_ps512(one, and_ps512(x, sign_mask));
        __m512 r = _mm512_mask_add_ps(t, out, t, step);
        r = _mm512_min_ps(_mm512_max_ps(r, lo), hi);
        _mm_storeu_si128((__m128i *)(codes + i), _mm512_cvtsepi32_epi8(_mm512_cvttps_epi32(r)));
    }
    for (; i < n; i++) codes[i] = quantize_one(v[i] * inv);
    return max_abs / 127;
}

esk_quantizer esk_quantize_kernel(void) {
    return level() >= 2 ? quantize_avx512 : esk_quantize_generic;
}
