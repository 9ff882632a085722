// Kernel tables: one per twin, built from the same X-macro as the declarations so a new op cannot
// be left out of either table.
#include <atomic>

#include "kernels.hpp"

namespace qplay::kernels {
namespace {

#define QPLAY_TABLE_CODE_ENTRIES(NS, T, s)                                                           \
  .quantize_run_f32_##s = &NS::quantize_run_f32_##s, .quantize_vec_f32_##s = &NS::quantize_vec_f32_##s, \
  .dequantize_run_##s##_f32 = &NS::dequantize_run_##s##_f32,                                        \
  .dequantize_vec_##s##_f32 = &NS::dequantize_vec_##s##_f32,
#define QPLAY_TABLE(NS)                                                                              \
  Table {                                                                                           \
    QPLAY_FOR_EACH_CODE_TYPE(QPLAY_TABLE_CODE_ENTRIES_##NS)                                         \
    .minmax_f32 = &NS::minmax_f32, .minmax_rows_f32 = &NS::minmax_rows_f32,                          \
    .absmax_f32 = &NS::absmax_f32, .error_sums_f32 = &NS::error_sums_f32,                           \
    .histogram_f32 = &NS::histogram_f32, .name = #NS                                                \
  }

#define QPLAY_TABLE_CODE_ENTRIES_scalar(T, s) QPLAY_TABLE_CODE_ENTRIES(scalar, T, s)
constexpr Table kScalarTable = QPLAY_TABLE(scalar);

#if QPLAY_HAVE_SIMD128
#define QPLAY_TABLE_CODE_ENTRIES_simd128(T, s) QPLAY_TABLE_CODE_ENTRIES(simd128, T, s)
constexpr Table kSimd128Table = QPLAY_TABLE(simd128);
constexpr const Table* kSimd128TablePtr = &kSimd128Table;
constexpr bool kHaveSimd128 = true;
#else
constexpr const Table* kSimd128TablePtr = nullptr;
constexpr bool kHaveSimd128 = false;
#endif

// A flag rather than a table pointer so table() stays a load and a select; relaxed suffices, it
// guards no other data.
std::atomic<bool> g_force_scalar{false};

}  // namespace

const Table& scalar_table() { return kScalarTable; }
const Table* simd128_table() { return kSimd128TablePtr; }
bool simd_available() { return kHaveSimd128; }
void force_scalar(bool on) { g_force_scalar.store(on, std::memory_order_relaxed); }

const Table& table() {
  if constexpr (kHaveSimd128) {
    if (!g_force_scalar.load(std::memory_order_relaxed)) return *kSimd128TablePtr;
  }
  return kScalarTable;
}

}  // namespace qplay::kernels
