// qplay: the native command-line tool over the core. Errors print one line "qplay: error: ..." on
// stderr; exit code 2 for a bad command line, 1 for a file or data problem, 0 on success.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <new>
#include <string>
#include <string_view>
#include <vector>

#include "cli.hpp"
#include "qplay/export.hpp"

namespace qplay::cli {
namespace {

int print_help() {
  std::fputs(help_text().c_str(), stdout);
  return 0;
}

int run_quantize(int argc, char** argv) {
  const Request c = parse_quantize(argc, argv);
  if (c.help) return print_help();
  if (c.all) return run_whole_file(c);

  ReadOptions read;
  read.raw = c.raw;
  const Loaded input = load(c.input, c.tensor, false, read);
  const TensorViewF32 x{input.tensor.shape, input.values};

  RunInfo info;
  info.input_file = c.input;
  info.input_tensor = input.name;
  info.input_shape = input.tensor.shape;
  info.input_dtype = input.tensor.dtype;

  // The params files are read here; the core turns them into params.
  GivenParams from_file;
  std::vector<Loaded> calibration;
  std::vector<TensorViewF32> views;
  if (!c.params.file.empty()) {
    const std::vector<uint8_t> bytes = read_file(c.params.file);
    from_file = about_file(c.params.file, [&] { return params_from_npz(bytes); });
    info.params_files = {c.params.file};
  } else if (!c.params.calibration_files.empty()) {
    info.params_files = c.params.calibration_files;
    calibration.reserve(c.params.calibration_files.size());
    for (const auto& f : c.params.calibration_files) calibration.push_back(load(f, c.tensor, true));
    for (const auto& l : calibration) views.push_back({l.tensor.shape, l.values});
  }
  const RunResult result = run(c, x, info, views, c.params.file.empty() ? nullptr : &from_file);

  // The output's name picks the writer (the one place a name decides a format: it is ours to write).
  const bool safetensors = c.output.ends_with(".safetensors");
  const bool gguf = c.output.ends_with(".gguf");
  const std::vector<uint8_t> bundle = safetensors ? export_safetensors(result.q, result.eval, result.info)
                                      : gguf      ? export_gguf(result.q, result.eval, result.info)
                                                  : export_npz(result.q, result.dequantized, result.eval, result.info);
  write_file(c.output, bundle);

  if (c.json) std::fputs(params_json(result.q, result.eval, result.info).c_str(), stdout);
  else print_summary(c, result.info, result.q, result.eval, bundle.size());
  return 0;
}

int run_info(int argc, char** argv) {
  const Request r = parse_info(argc, argv);
  if (r.help) return print_help();
  ReadOptions read;
  read.raw = r.raw;
  const std::string& path = r.positionals[0];
  const std::vector<uint8_t> bytes = read_file(path);
  print_info(about_file(path, [&] { return describe_file(bytes, read); }));
  return 0;
}

int run(int argc, char** argv) {
  if (argc < 2) throw UsageError("missing command (try qplay --help)");
  const std::string_view cmd = argv[1];
  if (cmd == "quantize") return run_quantize(argc, argv);
  if (cmd == "info") return run_info(argc, argv);
  if (cmd == "help" || cmd == "--help" || cmd == "-h") return print_help();
  if (cmd == "--version" || cmd == "version") {
    std::printf("qplay %s\n", QPLAY_VERSION);
    return 0;
  }
  if (cmd.starts_with("-")) throw UsageError("unknown option '" + std::string(cmd) + "' (commands: quantize, info, help)");
  throw UsageError("unknown command '" + std::string(cmd) + "' (commands: quantize, info, help)");
}

int fail(const std::string& message, int code) {
  std::string line = message;
  for (char& ch : line)
    if (ch == '\n' || ch == '\r') ch = ' ';  // the contract: exactly one line
  std::fprintf(stderr, "qplay: error: %s\n", line.c_str());
  return code;
}

}  // namespace
}  // namespace qplay::cli

int main(int argc, char** argv) {
  using namespace qplay::cli;
  try {
    const int rc = run(argc, argv);
    if (std::fflush(stdout) != 0) return fail(std::string("cannot write to stdout: ") + std::strerror(errno), 1);
    return rc;
  } catch (const UsageError& e) {
    return fail(e.what(), 2);
  } catch (const qplay::Error& e) {
    return fail(e.what(), 1);
  } catch (const std::bad_alloc&) {
    return fail("out of memory (the tensor is too large for this machine)", 1);
  } catch (const std::exception& e) {
    return fail(std::string("internal error: ") + e.what(), 1);
  }
}
