// Every size threshold of the optimized CPU kernels, in one place, each with the reason for its
// value. They change only the speed: the results do not depend on them except through the fixed
// blocking of the lane sums (kFlushPerLane, kFloatBlockRows), the work items (kItemElems,
// kMinItemRows, kFuseChannelElems) and the order of the channels-first sums (kFromMemoryBytes,
// kMemoryOrderMinStrip, kLongStripElems), which are part of what makes the bits independent of
// the thread count.
// The cache sizes are those of the machines the kernels were tuned on (32 KiB L1, 1 MiB L2 per
// core, 32 MiB L3), except the L1-tile budget, which follows the machine's L1 (kL1TileQuarters).
#pragma once

#include <cstdint>

namespace bnorm::kernels::tuning {

// Bytes of a cache line: the unit that prefetches fetch and write-combining fills.
inline constexpr int64_t kLineBytes = 64;
// L1 data cache: below it a second pass over the data is free, above it the access order matters.
inline constexpr int64_t kL1Bytes = int64_t{32} << 10;

// --- Threads and work items
// Below this many elements a call runs on the calling thread: an OpenMP fork and join costs
// microseconds, more than such a problem takes.
inline constexpr int64_t kParallelMinElems = int64_t{1} << 16;
// Work items hold about this many elements: enough to amortize the loop set-up, small enough for
// threads to share the work evenly.
inline constexpr int64_t kItemElems = int64_t{1} << 15;
// Row-major work items that sum columns hold at least this many rows (or half the rows of a
// shorter problem, which two threads can then share), so that an item's partial sums (two float64
// per channel) stay at most 1/16 of its float data: items of kItemElems alone would be 8 rows of
// a 4096-channel layer, whose partial sums, half as large as the data, the threads write and the
// merge reads back (from the other cores too).
inline constexpr int64_t kMinItemRows = 64;
// Row-major column tiles (data in L1) run over at most this many rows before their float64 lane
// sums are added into the per-channel sums: a fixed order of additions, and a block of rows that
// stays in L1 for the column tiles.
inline constexpr int64_t kFlushPerLane = 64;
// Row-major column sums add this many rows in float lanes before widening the block's sums into
// float64 lanes: the widening (two conversions and a shuffle per vector and sum) once per block
// instead of per row keeps the sums memory-bound; the float error grows with the block's length
// (within twice PyTorch float32's, tests/kernels/accuracy_test.cpp).
inline constexpr int64_t kFloatBlockRows = 8;
// Channels-first gradient sums add the products of blocks of this many vectors in float lanes
// before widening them, for the same reason and with the same error (8 terms per lane).
inline constexpr int64_t kFloatBlockVectors = 8;

// --- Data from memory
// Inputs larger than this together (half of L3) come from memory. The channels-first kernels then
// sum them strip by strip in memory order and read them again for the normalize (or dx): on a
// Zen 5 a core read strips C * S apart from memory at 55-75% of one stream's rate, more than the
// second read costs (training forward of 32x64x56x56 in 0.65-0.92x the time at 1 and 2 threads).
// The row-major gradient sums read one row per step where two would interleave two positions of
// one page (see kPageBytes).
inline constexpr int64_t kFromMemoryBytes = int64_t{16} << 20;
// Channels-first sums go in memory order only for strips of at least this many values: each
// strip's sums (24 bytes) then add at most an eighth to the float data they stand for.
inline constexpr int64_t kMemoryOrderMinStrip = 48;

// --- Streaming (non-temporal) stores
// Outputs larger than this (a quarter of L3) bypass the caches: they would not stay in L3 anyway,
// and a plain store first reads the line it writes, a third of an inference forward's traffic.
inline constexpr int64_t kStreamOutputBytes = int64_t{8} << 20;

// --- Channels-first (NCHW) kernels
// A channel of at most this many elements (1 MiB of float, about an L2) is normalized right after
// its statistics are summed, while it is in cache: x is read from memory once instead of twice.
inline constexpr int64_t kFuseChannelElems = int64_t{1} << 18;
// At most this many neighbouring channels per work item: their strips are adjacent in memory, so
// a group reads longer runs; more would not fit the budget above for any useful strip length.
inline constexpr int64_t kMaxGroup = 16;
// Groups leave at least this many work items to share among threads.
inline constexpr int64_t kMinGroupItems = 16;
// Strips of at least this many elements are long runs already; their groups take half of
// kFuseChannelElems, so that the second pass over a group reads from L2 rather than L3.
inline constexpr int64_t kLongStripElems = 1024;
// Strips of a channel lie C * S apart and short ones end before the hardware prefetcher catches
// on: the kernels prefetch the strip this many steps ahead, up to kPrefetchStripBytes of it
// (beyond that the hardware keeps up).
inline constexpr int64_t kPrefetchAhead = 2;
inline constexpr int64_t kPrefetchStripBytes = 4096;
// Within a strip, the sums prefetch this many bytes ahead, shared among the inputs they read (x;
// x and dy): about what a memory latency at the bus's pace holds in flight, whatever the
// number of streams it is spread over.
inline constexpr int64_t kSpanPrefetchBytes = 4096;

// --- Row-major ([M, C], channels-last) kernels
// Row-order column sums go over the columns in passes of this many bytes of a row (a page): the
// float accumulators of a pass (twice that) stay in L1, and each pass keeps the prefetchers on
// one page per row.
inline constexpr int64_t kRowOrderPassBytes = 4096;
// Gradient sums from memory take two rows per step only where the rows read as one stream (at
// most kOneStreamRowBytes) or each row is a page of its own (at least kPageBytes): in between the
// two rows are two positions of one page, which the page-tracking L2 prefetcher serves badly. On
// Zen 5, rows of 512 B (the loads of a step 8 lines apart) already read 2-2.5x slower in pairs.
inline constexpr int64_t kOneStreamRowBytes = 256;
inline constexpr int64_t kPageBytes = 4096;
// The normalize and dx go two rows per step (sharing the loads of the per-channel arrays) only
// when their tensors fit in this (a quarter of L2); from L3 or memory two rows are two streams,
// which the prefetchers serve worse than one.
inline constexpr int64_t kPairRowsMaxBytes = int64_t{256} << 10;
// Quarters of the machine's L1 data cache (l1_tile_budget_bytes; kL1Bytes where unknown) a column
// tile of every row may take in the L1-tile kernels (row_major_l1_tiles.hpp): three, leaving room
// for the per-channel arrays and the stack. Where a tile of two vectors does not fit, a tile of one
// may (64-byte vectors: 2 lines a row instead of 3).
inline constexpr int64_t kL1TileQuarters = 3;

// --- Dispatch between the ISA builds (kernels/implementations.cpp)
// Row-major problems (N x C, channels-last) whose x is larger than this (as kStreamOutputBytes:
// data that comes from memory) run the 32-byte (AVX2) build on AVX-512 machines unless
// BNORM_CPU_ISA forces one: on a Zen 5 its row-major passes from memory were faster than the
// 64-byte build's (training forward 15-45%), while on data in L1 to L3 the 64-byte build is
// 20-40% faster. With the sums fixed it still is on inputs off cache-line alignment (a
// std::vector's 16 bytes): every 64-byte load splits two lines (NHWC backward 1.7-3.7x slower).
// Not for the AVX512_BF16 build, whose rounding to bfloat16 costs one instruction where the AVX2
// build's takes several (kernels/implementations.cpp).
inline constexpr int64_t kWideRowMajorMaxBytes = int64_t{8} << 20;

}  // namespace bnorm::kernels::tuning
