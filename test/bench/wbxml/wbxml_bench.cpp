// WBXML throughput: our codec against libwbxml2's library, same documents,
// same run, same process.
//
// Pairing (tree to tree, the fairest the installed library allows):
//   decode: our decode(bytes) -> Document
//           vs wbxml_tree_from_wbxml(bytes) -> WBXMLTree (+ wbxml_tree_destroy)
//   encode: our encode(Document) (the Writer driven from a tree)
//           vs wbxml_tree_to_wbxml(WBXMLTree) (+ free of its output)
// Neither side converts to or from XML inside the timed loop. MB/s are of
// WBXML bytes (1 MB = 10^6 bytes) per second of this thread's CPU time, in
// both directions.
//
// The input bytes come from libwbxml2's own XML->WBXML converter (library
// API, no string table, no public id) and must equal our xmlToWbxml() of the
// same XML. Correctness, checked before timing (the run fails if one does
// not hold): both encoders give back exactly the input bytes from their
// decoded trees. Speed never fails the run; the target (ours >= 5x
// libwbxml2 for decode and encode) is printed as met or not met.
//
// Usage: wbxml_bench [--seconds S] [corpus files...]
//   S: minimum time per measurement (default 0.1; each one also stops at
//   kMaxIterations); each side is measured in kRounds alternating rounds and
//   its best round is reported. Without files: the 100-email Sync response and the
//   200-folder FolderSync response of test/corpus/wbxml.
#include <time.h>
#include <wbxml/wbxml.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "core/wbxml/wbxml.h"

// libwbxml2's tree API is exported by libwbxml2.so but Debian installs no
// header for it; these are its 0.11 declarations (checked at run time: a
// wrong signature could not reproduce the input bytes below).
extern "C" {
struct WBXMLTree_s;
typedef struct WBXMLTree_s WBXMLTree;
WBXMLError wbxml_tree_from_wbxml(WB_UTINY* wbxml, WB_ULONG wbxml_len, WBXMLLanguage lang,
                                 WBXMLCharsetMIBEnum charset, WBXMLTree** tree);
WBXMLError wbxml_tree_to_wbxml(WBXMLTree* tree, WB_UTINY** wbxml, WB_ULONG* wbxml_len,
                               WBXMLGenWBXMLParams* params);
void wbxml_tree_destroy(WBXMLTree* tree);
void wbxml_free(void* memblock);
}

namespace {

constexpr long kMaxIterations = 100000;
constexpr int kRounds = 3;

struct Timing {
  long iterations = 0;
  double seconds = 0;
  double mbPerSecond(std::size_t bytes) const {
    return seconds > 0
               ? static_cast<double>(bytes) * static_cast<double>(iterations) / seconds / 1e6
               : 0;
  }
};

// CPU time of this thread: other processes on the shared machine do not count.
double threadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// Runs `fn` until `budget` CPU seconds passed (at least 3 times, at most kMaxIterations).
Timing measure(double budget, const std::function<void()>& fn) {
  fn();  // warm-up (allocator, caches), not counted
  Timing t;
  const double start = threadCpuSeconds();
  while (t.iterations < kMaxIterations) {
    fn();
    ++t.iterations;
    t.seconds = threadCpuSeconds() - start;
    if (t.iterations >= 3 && t.seconds >= budget) break;
  }
  return t;
}

bool readFile(const std::string& path, std::string* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return true;
}

// libwbxml2's XML -> WBXML (library API), ActiveSync header, no string table.
bool libwbxmlFromXml(const std::string& xml, std::string* out, std::string* error) {
  WBXMLConvXML2WBXML* conv = nullptr;
  if (wbxml_conv_xml2wbxml_create(&conv) != WBXML_OK) {
    *error = "wbxml_conv_xml2wbxml_create failed";
    return false;
  }
  wbxml_conv_xml2wbxml_set_version(conv, WBXML_VERSION_13);
  wbxml_conv_xml2wbxml_disable_string_table(conv);
  wbxml_conv_xml2wbxml_disable_public_id(conv);
  WB_UTINY* wbxml = nullptr;
  WB_ULONG len = 0;
  std::string copy = xml;
  const WBXMLError rc = wbxml_conv_xml2wbxml_run(conv, reinterpret_cast<WB_UTINY*>(copy.data()),
                                                 static_cast<WB_ULONG>(copy.size()), &wbxml, &len);
  wbxml_conv_xml2wbxml_destroy(conv);
  if (rc != WBXML_OK) {
    *error = std::string("wbxml_conv_xml2wbxml_run: ") +
             reinterpret_cast<const char*>(wbxml_errors_string(rc));
    return false;
  }
  out->assign(reinterpret_cast<const char*>(wbxml), len);
  wbxml_free(wbxml);
  return true;
}

WBXMLGenWBXMLParams libwbxmlEncodeParams() {
  WBXMLGenWBXMLParams params;
  std::memset(&params, 0, sizeof params);
  params.wbxml_version = WBXML_VERSION_13;
  params.keep_ignorable_ws = FALSE;
  params.use_strtbl = FALSE;
  params.produce_anonymous = TRUE;
  return params;
}

WBXMLTree* libwbxmlDecode(std::string& bytes) {
  WBXMLTree* tree = nullptr;
  if (wbxml_tree_from_wbxml(reinterpret_cast<WB_UTINY*>(bytes.data()),
                            static_cast<WB_ULONG>(bytes.size()), WBXML_LANG_ACTIVESYNC,
                            WBXML_CHARSET_UTF_8, &tree) != WBXML_OK) {
    return nullptr;
  }
  return tree;
}

bool libwbxmlEncode(WBXMLTree* tree, std::string* out) {
  WBXMLGenWBXMLParams params = libwbxmlEncodeParams();
  WB_UTINY* wbxml = nullptr;
  WB_ULONG len = 0;
  if (wbxml_tree_to_wbxml(tree, &wbxml, &len, &params) != WBXML_OK) return false;
  if (out != nullptr) out->assign(reinterpret_cast<const char*>(wbxml), len);
  wbxml_free(wbxml);
  return true;
}

// libwbxml2's WBXML -> XML text (compact), the eas-wbxml decode path's peer.
bool libwbxmlToXml(std::string& bytes, std::size_t* xml_size) {
  WBXMLConvWBXML2XML* conv = nullptr;
  if (wbxml_conv_wbxml2xml_create(&conv) != WBXML_OK) return false;
  wbxml_conv_wbxml2xml_set_language(conv, WBXML_LANG_ACTIVESYNC);
  wbxml_conv_wbxml2xml_set_charset(conv, WBXML_CHARSET_UTF_8);
  wbxml_conv_wbxml2xml_set_gen_type(conv, WBXML_GEN_XML_COMPACT);
  WB_UTINY* xml = nullptr;
  WB_ULONG len = 0;
  const WBXMLError rc = wbxml_conv_wbxml2xml_run(conv, reinterpret_cast<WB_UTINY*>(bytes.data()),
                                                 static_cast<WB_ULONG>(bytes.size()), &xml, &len);
  wbxml_conv_wbxml2xml_destroy(conv);
  if (rc != WBXML_OK) return false;
  *xml_size = len;
  wbxml_free(xml);
  return true;
}

std::string hexPrefix(const std::string& s) {
  std::string out;
  char buf[4];
  for (std::size_t i = 0; i < s.size() && i < 24; ++i) {
    std::snprintf(buf, sizeof buf, "%02X ", static_cast<unsigned char>(s[i]));
    out += buf;
  }
  return out;
}

struct Figures {
  double ours_decode = 0, lib_decode = 0, ours_encode = 0, lib_encode = 0;
  double ours_to_xml = 0, lib_to_xml = 0;
};

// Returns false if a result is wrong.
bool benchDocument(const std::string& path, double budget, Figures* f) {
  const std::string name = path.substr(path.find_last_of('/') + 1);
  std::string xml;
  if (!readFile(path, &xml)) {
    std::fprintf(stderr, "FAIL %s: cannot read\n", path.c_str());
    return false;
  }
  std::string input, error;
  if (!libwbxmlFromXml(xml, &input, &error)) {
    std::fprintf(stderr, "FAIL %s: %s\n", name.c_str(), error.c_str());
    return false;
  }
  auto ours_from_xml = eas::wbxml::xmlToWbxml(xml);
  if (!ours_from_xml.ok() || *ours_from_xml != input) {
    std::fprintf(stderr, "FAIL %s: xmlToWbxml() %s libwbxml2's bytes\n", name.c_str(),
                 ours_from_xml.ok() ? "differs from" : ours_from_xml.status().toString().c_str());
    return false;
  }

  // Correctness of both sides before timing.
  auto doc = eas::wbxml::decode(input);
  if (!doc.ok()) {
    std::fprintf(stderr, "FAIL %s: decode: %s\n", name.c_str(), doc.status().toString().c_str());
    return false;
  }
  if (eas::wbxml::encode(*doc) != input) {
    std::fprintf(stderr, "FAIL %s: encode(decode(x)) != x\n", name.c_str());
    return false;
  }
  WBXMLTree* tree = libwbxmlDecode(input);
  std::string lib_out;
  if (tree == nullptr || !libwbxmlEncode(tree, &lib_out)) {
    std::fprintf(stderr, "FAIL %s: libwbxml2 tree decode/encode failed\n", name.c_str());
    if (tree != nullptr) wbxml_tree_destroy(tree);
    return false;
  }
  if (lib_out != input) {
    std::fprintf(stderr, "FAIL %s: libwbxml2 tree round trip differs (%s...)\n", name.c_str(),
                 hexPrefix(lib_out).c_str());
    wbxml_tree_destroy(tree);
    return false;
  }

  // Alternate ours and libwbxml2 over kRounds rounds and keep each side's best
  // round, so that a load spike on the shared machine hits both alike.
  bool ok = true;
  std::size_t sink = 0;
  Timing ours_dec, lib_dec, ours_enc, lib_enc, ours_xml, lib_xml;
  eas::wbxml::XmlOptions compact;
  compact.pretty = false;
  auto keepBest = [&](Timing* best, const Timing& t) {
    if (best->iterations == 0 || t.mbPerSecond(input.size()) > best->mbPerSecond(input.size())) {
      *best = t;
    }
  };
  for (int round = 0; round < kRounds; ++round) {
    keepBest(&ours_dec, measure(budget, [&] {
      auto d = eas::wbxml::decode(input);
      if (!d.ok()) ok = false;
    }));
    keepBest(&lib_dec, measure(budget, [&] {
      WBXMLTree* t = libwbxmlDecode(input);
      if (t == nullptr)
        ok = false;
      else
        wbxml_tree_destroy(t);
    }));
    keepBest(&ours_enc, measure(budget, [&] { sink += eas::wbxml::encode(*doc).size(); }));
    keepBest(&lib_enc, measure(budget, [&] {
      if (!libwbxmlEncode(tree, nullptr)) ok = false;
    }));
    // For information (not part of the target): WBXML -> XML text, both sides.
    keepBest(&ours_xml, measure(budget, [&] {
      auto d = eas::wbxml::decode(input);
      if (!d.ok())
        ok = false;
      else
        sink += eas::wbxml::toXml(*d, compact).size();
    }));
    keepBest(&lib_xml, measure(budget, [&] {
      std::size_t n = 0;
      if (!libwbxmlToXml(input, &n)) ok = false;
      sink += n;
    }));
  }
  wbxml_tree_destroy(tree);
  if (!ok || sink == 0) {
    std::fprintf(stderr, "FAIL %s: a timed call failed\n", name.c_str());
    return false;
  }

  f->ours_decode = ours_dec.mbPerSecond(input.size());
  f->lib_decode = lib_dec.mbPerSecond(input.size());
  f->ours_encode = ours_enc.mbPerSecond(input.size());
  f->lib_encode = lib_enc.mbPerSecond(input.size());
  f->ours_to_xml = ours_xml.mbPerSecond(input.size());
  f->lib_to_xml = lib_xml.mbPerSecond(input.size());
  std::printf("%s: %zu bytes of WBXML\n", name.c_str(), input.size());
  std::printf("  decode  ours %9.1f MB/s (%ld it)  libwbxml2 %8.1f MB/s (%ld it)  ratio %6.1fx\n",
              f->ours_decode, ours_dec.iterations, f->lib_decode, lib_dec.iterations,
              f->ours_decode / f->lib_decode);
  std::printf("  encode  ours %9.1f MB/s (%ld it)  libwbxml2 %8.1f MB/s (%ld it)  ratio %6.1fx\n",
              f->ours_encode, ours_enc.iterations, f->lib_encode, lib_enc.iterations,
              f->ours_encode / f->lib_encode);
  std::printf(
      "  to XML  ours %9.1f MB/s (%ld it)  libwbxml2 %8.1f MB/s (%ld it)  ratio %6.1fx"
      "  (decode+toXml vs wbxml_conv_wbxml2xml, information only)\n",
      f->ours_to_xml, ours_xml.iterations, f->lib_to_xml, lib_xml.iterations,
      f->ours_to_xml / f->lib_to_xml);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  double budget = 0.1;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      budget = std::atof(argv[++i]);
    } else {
      files.emplace_back(argv[i]);
    }
  }
  if (files.empty()) {
    const std::string dir = std::string(EAS_SOURCE_DIR) + "/test/corpus/wbxml/";
    files = {dir + "sync_response_100.xml", dir + "foldersync_response_200.xml"};
  }
  bool all_ok = true;
  bool target_met = true;
  for (const std::string& file : files) {
    Figures f;
    if (!benchDocument(file, budget, &f)) {
      all_ok = false;
      continue;
    }
    const bool met = f.ours_decode >= 5 * f.lib_decode && f.ours_encode >= 5 * f.lib_encode;
    std::printf("  target (>= 5x libwbxml2 for decode and encode): %s\n", met ? "met" : "NOT met");
    target_met = target_met && met;
  }
  std::printf("overall target: %s\n",
              all_ok ? (target_met ? "met" : "NOT met") : "no figures (errors)");
  return all_ok ? 0 : 1;
}
