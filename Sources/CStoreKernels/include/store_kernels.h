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

/// Which instruction set the kernels use: "avx512", "avx2" or "generic".
const char *esk_kernel_name(void);

/// Hints the CPU to start loading the cache line at p (no effect on results).
static inline void esk_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

#endif
