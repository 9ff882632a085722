// Text tables (CSV, TSV, whitespace) read as numpy.loadtxt reads them, and raw binary described by
// a RawSpec: shapes, values, byte order, offsets and the errors for sizes that do not fit.
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "formats_util.hpp"
#include "qplay/formats.hpp"

using namespace qplay;
using namespace qplay_test;

TEST_CASE("text: CSV TSV and whitespace tables become float64 like numpy.loadtxt") {
  // np.savetxt wrote the first 3x4 of mat4x6 with 18 significant digits: reading them back to
  // double and then float32 gives the float32 values exactly.
  const std::vector<uint8_t> csv = fixture("mat3x4.csv");
  CHECK(sniff_format(csv) == FileFormat::text);
  const Tensor t = load_tensor(csv);
  CHECK(t.dtype == DType::f64);
  CHECK(t.shape == Shape{3, 4});
  const std::vector<float> mat = to_f32(read_npy(fixture("mat4x6_f32.npy")));
  const std::vector<float> got = to_f32(t);
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 4; ++c) CHECK(got[r * 4 + c] == mat[r * 6 + c]);
  const TensorInfo info = list_tensors(csv)[0];
  CHECK(info.name == "array");
  CHECK(info.stored_type == "text");
  CHECK(info.data_offset == -1);

  const std::vector<double> row = values<double>(load_tensor(fixture("row4.tsv")));
  CHECK(load_tensor(fixture("row4.tsv")).shape == Shape{4});
  CHECK(row[0] == 1.5);
  CHECK(row[1] == -2);
  CHECK(row[2] == 300);
  CHECK(row[3] == std::numeric_limits<double>::infinity());
  CHECK(load_tensor(fixture("col5.txt")).shape == Shape{5});
  CHECK(values<double>(load_tensor(fixture("col5.txt"))) == std::vector<double>{1, 2.5, -3, 4, 0.5});
  const Tensor ws = load_tensor(fixture("ws2x3.txt"));  // blanks, tabs, CRLF, a trailing comment
  CHECK(ws.shape == Shape{2, 3});
  CHECK(values<double>(ws) == std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(load_tensor(fixture("scalar.txt")).shape.empty());
  CHECK(values<double>(load_tensor(fixture("scalar.txt"))) == std::vector<double>{3.25});
  // Decimal text rounds once, to double (0.1 -> 0.1000000000000000055...).
  CHECK(values<double>(load_tensor(bytes_of("0.1,-0.0,NaN,-Infinity\n")))[0] == 0.1);
  CHECK(std::signbit(values<double>(load_tensor(bytes_of("0.1,-0.0,NaN,-Infinity\n")))[1]));
  CHECK(std::isnan(values<double>(load_tensor(bytes_of("0.1,-0.0,NaN,-Infinity\n")))[2]));
  CHECK(says(error_of([] { load_tensor(fixture("mat3x4.csv"), "w"); }), "no tensor 'w' in this text file"));
}

TEST_CASE("text: ragged rows and bad numbers name their line") {
  CHECK(says(error_of([] { load_tensor(fixture("ragged.csv")); }),
             "text: line 3 has 2 values, but line 1 has 3 (every row needs the same count)"));
  CHECK(says(error_of([] { list_tensors(fixture("bad_number.csv")); }), "text: line 2: 'x4' is not a number"));
  CHECK(says(error_of([] { load_tensor(bytes_of("1,,2\n")); }), "text: line 1: empty value in column 2"));
  CHECK(says(error_of([] { load_tensor(bytes_of("1 2\n0x10 3\n")); }), "line 2: '0x10' is not a number"));
  CHECK(says(error_of([] { load_tensor(bytes_of("1e5 1e\n")); }), "'1e' is not a number"));
  // Text whose first value is not a number is not a tensor file at all.
  CHECK(error_of([] { list_tensors(fixture("not_a_tensor.txt")); }).rfind("unknown file format (supported: .npy", 0) == 0);
  CHECK(says(error_of([] { list_tensors(bytes_of("a,b\n1,2\n")); }), "does not start with a number: 'a,b'"));
  CHECK(says(error_of([] { list_tensors(bytes_of("# only a comment\n")); }), "text without any values"));
}

TEST_CASE("raw: dtype shape byte order and offset come from the spec") {
  const std::vector<uint8_t> le = fixture("mat4x6_f32.bin");
  const Tensor npy = read_npy(fixture("mat4x6_f32.npy"));
  ReadOptions o;
  o.raw = RawSpec{DType::f32, {4, 6}, 0, false};
  CHECK(sniff_format(le, o) == FileFormat::raw);
  CHECK(load_tensor(le, {}, o).bytes == npy.bytes);
  CHECK(load_tensor(le, "array", o).shape == Shape{4, 6});
  const TensorInfo info = list_tensors(le, o)[0];
  CHECK(info.stored_type == "float32");
  CHECK(info.data_offset == 0);
  CHECK(info.data_bytes == 96);

  const std::vector<uint8_t> be = fixture("mat4x6_f32_be_offset16.bin");
  o.raw = RawSpec{DType::f32, {-1, 6}, 16, true};
  const Tensor swapped = load_tensor(be, {}, o);
  CHECK(swapped.shape == Shape{4, 6});  // the -1 inferred from 96 bytes after the offset
  CHECK(swapped.bytes == npy.bytes);
  CHECK(list_tensors(be, o)[0].stored_type == "float32 big-endian");
  o.raw = RawSpec{DType::u8, {24, 4}, 0, false};
  CHECK(load_tensor(le, {}, o).bytes == le);

  o.raw = RawSpec{DType::f32, {5, 6}, 0, false};
  CHECK(says(error_of([&] { load_tensor(le, {}, o); }),
             "raw: float32 (5, 6) needs 120 bytes after offset 0, the file has 96 (wrong dtype, shape or offset?)"));
  o.raw = RawSpec{DType::f32, {4, 6}, 200, false};
  CHECK(says(error_of([&] { load_tensor(le, {}, o); }), "raw: offset 200 is beyond the end of the file (96 bytes)"));
  o.raw = RawSpec{DType::f64, {-1, 5}, 0, false};
  CHECK(says(error_of([&] { load_tensor(le, {}, o); }), "are not a whole number of float64 (-1, 5) slices of 40 bytes"));
  o.raw = RawSpec{DType::f32, {-1, -1}, 0, false};
  CHECK(says(error_of([&] { load_tensor(le, {}, o); }), "more than one -1"));
  o.raw = RawSpec{DType::f32, {4294967296, 4294967296}, 0, false};
  CHECK(says(error_of([&] { load_tensor(le, {}, o); }), "more elements than fit in 64 bits"));
}

TEST_CASE("parse_shape and dtype_from_name spell what the CLI and the page accept") {
  CHECK(parse_shape("4,6") == Shape{4, 6});
  CHECK(parse_shape("4x6") == Shape{4, 6});
  CHECK(parse_shape("(2, 3, 4)") == Shape{2, 3, 4});
  CHECK(parse_shape("[5]") == Shape{5});
  CHECK(parse_shape("(5,)") == Shape{5});
  CHECK(parse_shape("") == Shape{});
  CHECK(parse_shape("-1,6") == Shape{-1, 6});
  CHECK(says(error_of([] { parse_shape("4,,6"); }), "invalid shape '4,,6'"));
  CHECK(says(error_of([] { parse_shape("-2,6"); }), "invalid shape"));
  CHECK(says(error_of([] { parse_shape("99999999999999999999"); }), "invalid shape"));
  CHECK(dtype_from_name("float32") == DType::f32);
  CHECK(dtype_from_name("f16") == DType::f16);
  CHECK(dtype_from_name("bfloat16") == DType::bf16);
  CHECK(dtype_from_name("float8_e4m3fn") == DType::f8_e4m3);
  CHECK(dtype_from_name("e5m2") == DType::f8_e5m2);
  CHECK(dtype_from_name("bool") == DType::boolean);
  CHECK(says(error_of([] { dtype_from_name("complex64"); }), "unknown dtype 'complex64' (allowed: float16, bfloat16"));
}
