// eas-wbxml: WBXML <-> XML on stdin/stdout, in libwbxml2's XML form.
//   eas-wbxml decode [--compact] [--spec-names] [--mask]  < in.wbxml > out.xml
//   eas-wbxml encode                                      < in.xml   > out.wbxml
// Bad input: exit status 1 and "<reason>: <message>" on stderr.
#include <cstdio>
#include <cstring>
#include <iostream>
#include <iterator>
#include <string>

#include "core/wbxml/wbxml.h"

namespace {

int usage() {
  std::fprintf(stderr,
               "usage: eas-wbxml decode [--compact] [--spec-names] [--mask] < wbxml > xml\n"
               "       eas-wbxml encode < xml > wbxml\n");
  return 2;
}

std::string readAll() {
  std::string in;
  char buf[65536];
  std::size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, stdin)) > 0) in.append(buf, n);
  return in;
}

int fail(const eas::Status& st) {
  std::fprintf(stderr, "%s\n", st.toString().c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return usage();
  const std::string cmd = argv[1];
  eas::wbxml::XmlOptions opts;
  for (int i = 2; i < argc; ++i) {
    if (std::strcmp(argv[i], "--compact") == 0) {
      opts.pretty = false;
    } else if (std::strcmp(argv[i], "--spec-names") == 0) {
      opts.spec_names = true;
    } else if (std::strcmp(argv[i], "--mask") == 0) {
      opts.mask_secrets = true;
    } else {
      return usage();
    }
  }
  const std::string in = readAll();
  std::string out;
  if (cmd == "decode") {
    auto doc = eas::wbxml::decode(in);
    if (!doc.ok()) return fail(doc.status());
    out = eas::wbxml::toXml(*doc, opts);
  } else if (cmd == "encode") {
    auto wbxml = eas::wbxml::xmlToWbxml(in);
    if (!wbxml.ok()) return fail(wbxml.status());
    out = std::move(*wbxml);
  } else {
    return usage();
  }
  if (std::fwrite(out.data(), 1, out.size(), stdout) != out.size() || std::fflush(stdout) != 0) {
    std::perror("eas-wbxml: write");
    return 1;
  }
  return 0;
}
