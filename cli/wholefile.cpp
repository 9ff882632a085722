// Whole-file mode (quantize --all): every tensor of a model file, one at a time. The input is
// described from its head and each tensor read with pread, the output written with pwrite at
// offsets the plan fixes in advance, so memory is bounded by the largest tensor and its outputs,
// never the file (docs/FORMATS.md).
#include <algorithm>
#include <cstdio>

#include "cli.hpp"
#include "qplay/wholefile.hpp"

#include <unistd.h>

namespace qplay::cli {

int run_whole_file(const Request& c) {
  std::vector<TensorRule> rules;
  // A bad rule is a command-line problem, reported before the input is opened.
  for (const std::string& spec : c.overrides) rules.push_back(as_usage([&] { return parse_override(spec); }));
  ReadOptions read;
  read.raw = c.raw;
  InputFile in(c.input);

  FileInfo info = about_file(c.input, [&] {
    // The head grows as describe_head asks; formats read whole are mapped, not copied.
    std::vector<uint8_t> head = in.read(0, std::min<uint64_t>(in.size(), 64 * 1024));
    for (;;) {
      const HeadInfo h = describe_head(head, in.size(), read);
      if (h.info) return *h.info;
      if (h.bytes_needed >= in.size()) return describe_file(in.mapped(), read);
      head = in.read(0, h.bytes_needed);
    }
  });
  const WholeFilePlan plan = about_file(c.input, [&] { return plan_whole_file(info, c.options, rules); });
  if (plan.tensors.empty()) throw Error(c.input + ": holds no tensors");

  BundleWriter writer(bundle_format_for(c.output), plan);
  OutputFile out(c.output);
  out.write(writer.header());

  const bool progress = ::isatty(STDERR_FILENO);
  uint64_t total = 0, done = 0, before = 0, after = writer.header().bytes.size();
  for (const TensorPlan& p : plan.tensors) total += p.input.data_bytes;
  std::vector<TensorReport> rows;
  size_t quantized = 0;
  for (size_t i = 0; i < plan.tensors.size(); ++i) {
    const TensorPlan& p = plan.tensors[i];
    if (progress)
      std::fprintf(stderr, "\r\033[K[%zu/%zu] %s %d%%", i + 1, plan.tensors.size(), p.input.name.c_str(),
                   total ? int(100 * done / total) : 100);
    const TensorOutput result = about_file(c.input, [&] {
      if (p.input.data_offset < 0)  // a deflated .npz member: inflated from the mapping
        return process_tensor(p, load_tensor(in.mapped(), p.input.name, read));
      // Decoded before quantizing, so the stored bytes are freed first (peak memory).
      Tensor decoded = decode_planned(p, in.read(static_cast<uint64_t>(p.input.data_offset), p.input.data_bytes));
      return process_tensor(p, std::move(decoded));
    });
    for (const OutputChunk& chunk : writer.add(p.input.name, result)) {
      out.write(chunk);
      after += chunk.bytes.size();
    }
    done += p.input.data_bytes;
    before += result.report.bytes_before;
    quantized += result.report.quantized;
    rows.push_back(result.report);
  }
  if (progress) std::fputs("\r\033[K", stderr);
  const OutputChunk last = writer.finish();
  out.write(last);
  after += last.bytes.size();
  out.commit();

  if (!c.report.empty()) {
    std::string csv = report_csv_header();
    for (const TensorReport& r : rows) csv += report_csv_row(r);
    write_file(c.report, std::vector<uint8_t>(csv.begin(), csv.end()));
  }
  if (c.json) {
    std::fputs(report_json(rows).c_str(), stdout);
    return 0;
  }
  // The summary: the worst tensors first catch the eye of whoever tunes overrides.
  std::vector<const TensorReport*> worst;
  for (const TensorReport& r : rows)
    if (r.quantized) worst.push_back(&r);
  std::sort(worst.begin(), worst.end(), [](const TensorReport* a, const TensorReport* b) { return a->sqnr_db < b->sqnr_db; });
  std::printf("input      %s (%s, %zu tensors)\n", c.input.c_str(), std::string(format_name(info.format)).c_str(),
              plan.tensors.size());
  std::printf("tensors    %zu quantized, %zu kept\n", quantized, plan.tensors.size() - quantized);
  for (size_t k = 0; k < std::min<size_t>(3, worst.size()); ++k)
    std::printf("%s %s: SQNR %s dB, MSE %s (%s)\n", k == 0 ? "lowest    " : "          ", worst[k]->name.c_str(),
                fmt(worst[k]->sqnr_db, "%.2f").c_str(), fmt(worst[k]->mse).c_str(), worst[k]->scheme.c_str());
  std::printf("size       %s of tensors in, %s written (%s)\n", human_bytes(before).c_str(), human_bytes(after).c_str(),
              before ? (fmt(100.0 * double(after) / double(before), "%.1f") + " %").c_str() : "-");
  if (!c.report.empty()) std::printf("report     %s\n", c.report.c_str());
  std::printf("wrote      %s (%llu bytes)\n", c.output.c_str(), static_cast<unsigned long long>(after));
  return 0;
}

}  // namespace qplay::cli
