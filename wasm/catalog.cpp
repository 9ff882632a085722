#include "catalog.hpp"

#include <string>

#include "qplay/registry.hpp"
#include "qplay/request.hpp"

namespace qplay::js {

namespace {

// The table's kinds as the catalog spells them (the JS type a value takes follows from it).
const char* kind_name(OptionKind k) {
  switch (k) {
    case OptionKind::flag: return "flag";
    case OptionKind::toggle: return "toggle";
    case OptionKind::integer: return "integer";
    case OptionKind::number: return "number";
    case OptionKind::choice: return "choice";
    case OptionKind::text: return "text";
    case OptionKind::path: return "path";
    case OptionKind::paths: return "paths";
  }
  return "text";
}

// Options a JS caller can give: the ones with a key in the API context (the selection and params
// rows included; whole-file, raw and output rows are the command line's).
bool api_option(const OptionSpec& spec) {
  if (spec.key.empty()) return false;
  return spec.scope == OptionScope::scheme || spec.scope == OptionScope::params ||
         spec.scope == OptionScope::selection;
}

val option_row(const OptionSpec& spec) {
  val row = val::object();
  row.set("key", std::string(spec.key));
  row.set("flag", std::string(spec.flag));
  row.set("kind", std::string(kind_name(spec.kind)));
  row.set("values", std::string(spec.values));
  row.set("choices", string_array(choices(spec.key)));
  if (spec.kind == OptionKind::integer) {
    row.set("min", double(spec.min));  // bounds are below 2^53
    row.set("max", double(spec.max));
  } else {
    row.set("min", val::null());
    row.set("max", val::null());
  }
  row.set("default", spec.default_text.empty() ? val::null() : val(std::string(spec.default_text)));
  row.set("doc", std::string(spec.doc));
  return row;
}

val ggml_row(const GgmlGeometry& g) {
  val row = val::object();
  row.set("name", std::string(g.ggml_name));
  row.set("typeId", g.type_id);
  row.set("blockElems", g.block_elems);
  row.set("subBlock", g.sub_block);
  row.set("blockBytes", g.block_bytes);
  row.set("codesSigned", g.codes_signed);
  row.set("hasOffset", g.has_offset);
  return row;
}

val format_row(const CodeFormat& f) {
  val row = val::object();
  row.set("name", std::string(f.name));
  row.set("family", std::string(family_name(f.family)));
  row.set("bits", f.bits);
  row.set("option", std::string(f.option));
  row.set("summary", std::string(f.summary));
  row.set("docs", std::string(f.docs));
  row.set("maxNormal", f.max_normal);
  row.set("codebook", f32_to_js(f.codebook));
  row.set("ggml", f.ggml ? ggml_row(*f.ggml) : val::null());
  return row;
}

}  // namespace

val catalog_js() {
  return guarded([] {
    val options = val::array();
    for (const OptionSpec& spec : option_table())
      if (api_option(spec)) options.call<void>("push", option_row(spec));
    val formats = val::array();
    for (const CodeFormat& f : code_formats()) formats.call<void>("push", format_row(f));
    val r = success();
    r.set("options", options);
    r.set("formats", formats);
    r.set("integerSpellings", std::string(integer_dtype_spellings()));
    return r;
  });
}

}  // namespace qplay::js
