// libwbxml2 as an independent oracle for our WBXML codec, document for
// document over test/corpus/wbxml/*.xml. Each document is first reduced to
// the canonical tree (see oracle_support.h for the whitespace rules), then:
//   [decode] libwbxml2's xml2wbxml encodes it, decode(), decodeOwned() and
//            decodeStream() read those bytes, and the result equals the document;
//   [encode] xmlToWbxml() and encode() write it, libwbxml2's wbxml2xml reads
//            our bytes back, and the result equals the document; our bytes
//            also equal libwbxml2's (both follow MS-ASWBXML's rules: switch
//            page only on change, bare token for empty elements);
//   [tool]   the eas-wbxml tool and libwbxml2 interoperate both ways.
// xml2wbxml runs with -a (the ActiveSync header 03 01 6A 00 instead of a
// textual public id in a string table) and -n (no string table, so an
// unknown name fails instead of becoming a LITERAL).
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "core/wbxml/wbxml.h"
#include "test/oracle/oracle_support.h"

namespace {

using eas::oracle::CanonNode;

struct Doc {
  std::string name;
  std::string xml;
  CanonNode canon;
};

std::vector<Doc> loadCorpus() {
  std::vector<Doc> docs;
  for (const std::string& path : eas::oracle::corpusDocuments()) {
    Doc d;
    d.name = path.substr(path.find_last_of('/') + 1);
    REQUIRE(eas::oracle::readFile(path, &d.xml));
    std::string error;
    INFO(d.name);
    REQUIRE(eas::oracle::canonFromXml(d.xml, &d.canon, &error));
    docs.push_back(std::move(d));
  }
  // The corpus is committed; an empty or partial list means a broken checkout.
  REQUIRE(docs.size() >= 20);
  return docs;
}

// xml2wbxml -a -n: XML file -> WBXML bytes.
std::string libwbxmlEncode(const eas::oracle::TempDir& tmp, const std::string& xml) {
  const std::string in = tmp.file("lib-in.xml");
  const std::string out = tmp.file("lib-out.wbxml");
  REQUIRE(eas::oracle::writeFile(in, xml));
  const auto r =
      eas::oracle::runTool({EAS_XML2WBXML, "-a", "-n", "-o", out, in}, tmp.file("xml2wbxml.log"));
  INFO("xml2wbxml: " << r.output);
  REQUIRE(r.exit_code == 0);
  std::string bytes;
  REQUIRE(eas::oracle::readFile(out, &bytes));
  return bytes;
}

// wbxml2xml -l ACTIVESYNC -m 0: WBXML bytes -> XML text.
std::string libwbxmlDecode(const eas::oracle::TempDir& tmp, const std::string& wbxml) {
  const std::string in = tmp.file("ours.wbxml");
  const std::string out = tmp.file("lib-out.xml");
  REQUIRE(eas::oracle::writeFile(in, wbxml));
  const auto r = eas::oracle::runTool({EAS_WBXML2XML, "-l", "ACTIVESYNC", "-m", "0", "-o", out, in},
                                      tmp.file("wbxml2xml.log"));
  INFO("wbxml2xml: " << r.output << "\ninput: " << eas::oracle::hexPrefix(wbxml));
  REQUIRE(r.exit_code == 0);
  std::string xml;
  REQUIRE(eas::oracle::readFile(out, &xml));
  return xml;
}

CanonNode canonOf(const std::string& xml) {
  CanonNode node;
  std::string error;
  INFO("XML: " << xml.substr(0, 400));
  const bool ok = eas::oracle::canonFromXml(xml, &node, &error);
  INFO("canonFromXml: " << error);
  REQUIRE(ok);
  return node;
}

const std::string kHeader("\x03\x01\x6A\x00", 4);

// Empty if equal, else where two byte strings first differ (short, unlike
// Catch2's expansion of two 450 KB strings).
std::string bytesDiff(const std::string& expected, const std::string& actual) {
  if (expected == actual) return {};
  std::size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  return "bytes differ at offset " + std::to_string(i) + " (sizes " +
         std::to_string(expected.size()) + " vs " + std::to_string(actual.size()) + "): expected " +
         eas::oracle::hexPrefix(std::string_view(expected).substr(i), 16) + ", got " +
         eas::oracle::hexPrefix(std::string_view(actual).substr(i), 16);
}

}  // namespace

TEST_CASE("canonical form is strict enough to fail", "[decode][encode][tool]") {
  // The comparison itself must see a changed text, kind, tag and child count.
  const std::string base =
      "<?xml version=\"1.0\"?><Sync xmlns=\"AirSync:\"><SyncKey>1</SyncKey>"
      "<ConversationId xmlns=\"Email2:\">AAEC</ConversationId></Sync>";
  const CanonNode a = canonOf(base);
  CHECK(eas::oracle::diffCanon(a, canonOf(base)).empty());
  std::string changed = base;
  changed.replace(changed.find(">1<"), 3, ">2<");
  CHECK_FALSE(eas::oracle::diffCanon(a, canonOf(changed)).empty());
  CHECK_FALSE(
      eas::oracle::diffCanon(a, canonOf("<?xml version=\"1.0\"?><Sync xmlns=\"AirSync:\"><SyncKey>1"
                                        "</SyncKey></Sync>"))
          .empty());
  CHECK_FALSE(eas::oracle::diffCanon(
                  a, canonOf("<?xml version=\"1.0\"?><Sync xmlns=\"AirSync:\"><Status>1</Status>"
                             "<ConversationId xmlns=\"Email2:\">AAEC</ConversationId></Sync>"))
                  .empty());
  // Whitespace rules: outer whitespace and indentation vanish, inner stays.
  CHECK(eas::oracle::diffCanon(
            a, canonOf("<?xml version=\"1.0\"?>\n<Sync xmlns=\"AirSync:\">\n  <SyncKey>\n 1 "
                       "</SyncKey>\n  <ConversationId xmlns=\"Email2:\">AAEC</ConversationId>\n"
                       "</Sync>"))
            .empty());
  REQUIRE(a.children.size() == 2);
  CHECK(a.children[1].kind == CanonNode::Kind::kOpaque);
  CHECK(a.children[1].content == std::string("\x00\x01\x02", 3));
  // A name libwbxml2 does not know is an error, not a silent guess.
  CanonNode ignored;
  std::string error;
  CHECK_FALSE(eas::oracle::canonFromXml(
      "<?xml version=\"1.0\"?><Sync xmlns=\"AirSync:\"><Bogus/></Sync>", &ignored, &error));
}

TEST_CASE("libwbxml2 encodes, our decoder decodes", "[decode]") {
  const std::vector<Doc> docs = loadCorpus();
  eas::oracle::TempDir tmp;
  REQUIRE_FALSE(tmp.path().empty());
  for (const Doc& doc : docs) {
    INFO("document " << doc.name);
    const std::string bytes = libwbxmlEncode(tmp, doc.xml);
    REQUIRE(bytesDiff(kHeader, bytes.substr(0, 4)) == "");

    auto decoded = eas::wbxml::decode(bytes);
    INFO("decode: " << decoded.status().toString() << "\nbytes: " << eas::oracle::hexPrefix(bytes));
    REQUIRE(decoded.ok());
    const std::string diff =
        eas::oracle::diffCanon(doc.canon, eas::oracle::canonFromDocument(*decoded));
    INFO("decode() differs: " << diff);
    CHECK(diff.empty());

    auto owned = eas::wbxml::decodeOwned(std::string(bytes));
    REQUIRE(owned.ok());
    const std::string owned_diff =
        eas::oracle::diffCanon(doc.canon, eas::oracle::canonFromDocument(*owned));
    INFO("decodeOwned() differs: " << owned_diff);
    CHECK(owned_diff.empty());

    eas::oracle::CanonBuilder builder;
    const eas::Status st = eas::wbxml::decodeStream(bytes, builder);
    INFO("decodeStream: " << st.toString() << " " << builder.error());
    REQUIRE(st.ok());
    REQUIRE(builder.error().empty());
    const std::string stream_diff = eas::oracle::diffCanon(doc.canon, builder.take());
    INFO("decodeStream() differs: " << stream_diff);
    CHECK(stream_diff.empty());
  }
}

TEST_CASE("our encoder encodes, libwbxml2 decodes", "[encode]") {
  const std::vector<Doc> docs = loadCorpus();
  eas::oracle::TempDir tmp;
  REQUIRE_FALSE(tmp.path().empty());
  for (const Doc& doc : docs) {
    INFO("document " << doc.name);
    const std::string lib_bytes = libwbxmlEncode(tmp, doc.xml);

    // xmlToWbxml: the XML bridge (same input libwbxml2 read).
    auto ours = eas::wbxml::xmlToWbxml(doc.xml);
    INFO("xmlToWbxml: " << ours.status().toString());
    REQUIRE(ours.ok());
    REQUIRE(bytesDiff(kHeader, ours->substr(0, 4)) == "");
    const std::string diff = eas::oracle::diffCanon(doc.canon, canonOf(libwbxmlDecode(tmp, *ours)));
    INFO("xmlToWbxml() output read by wbxml2xml differs: " << diff);
    CHECK(diff.empty());
    CHECK(bytesDiff(lib_bytes, *ours) == "");

    // encode(): the Writer path, from a tree decoded from libwbxml2's bytes.
    auto decoded = eas::wbxml::decode(lib_bytes);
    REQUIRE(decoded.ok());
    const std::string re = eas::wbxml::encode(*decoded);
    const std::string re_diff = eas::oracle::diffCanon(doc.canon, canonOf(libwbxmlDecode(tmp, re)));
    INFO("encode() output read by wbxml2xml differs: " << re_diff);
    CHECK(re_diff.empty());
    CHECK(bytesDiff(lib_bytes, re) == "");
  }
}

TEST_CASE("toXml output is read by libwbxml2", "[encode]") {
  // Our XML rendering must be XML libwbxml2 accepts and maps to the same tags.
  const std::vector<Doc> docs = loadCorpus();
  eas::oracle::TempDir tmp;
  for (const Doc& doc : docs) {
    INFO("document " << doc.name);
    auto decoded = eas::wbxml::decode(libwbxmlEncode(tmp, doc.xml));
    REQUIRE(decoded.ok());
    for (bool pretty : {true, false}) {
      eas::wbxml::XmlOptions opts;
      opts.pretty = pretty;
      const std::string xml = eas::wbxml::toXml(*decoded, opts);
      INFO("pretty=" << pretty);
      const std::string diff = eas::oracle::diffCanon(doc.canon, canonOf(xml));
      INFO("toXml() parsed with libwbxml2's names differs: " << diff);
      CHECK(diff.empty());
      const std::string lib_bytes = libwbxmlEncode(tmp, xml);
      auto again = eas::wbxml::decode(lib_bytes);
      REQUIRE(again.ok());
      const std::string again_diff =
          eas::oracle::diffCanon(doc.canon, eas::oracle::canonFromDocument(*again));
      INFO("toXml() -> xml2wbxml -> decode() differs: " << again_diff);
      CHECK(again_diff.empty());
    }
  }
}

namespace {

// eas-wbxml <args> < in > out; returns stdout, REQUIREs exit 0.
std::string runOurTool(const eas::oracle::TempDir& tmp, const std::vector<std::string>& args,
                       const std::string& input) {
  const std::string in = tmp.file("tool-in");
  const std::string out = tmp.file("tool-out");
  REQUIRE(eas::oracle::writeFile(in, input));
  std::vector<std::string> argv = {EAS_WBXML_TOOL};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto r = eas::oracle::runTool(argv, tmp.file("tool.log"), out, in);
  INFO("eas-wbxml " << args[0] << ": exit " << r.exit_code << " " << r.output);
  REQUIRE(r.exit_code == 0);
  std::string result;
  REQUIRE(eas::oracle::readFile(out, &result));
  return result;
}

}  // namespace

TEST_CASE("eas-wbxml and libwbxml2 interoperate", "[tool]") {
  REQUIRE(std::string(EAS_WBXML_TOOL) != "");
  const std::vector<Doc> docs = loadCorpus();
  eas::oracle::TempDir tmp;
  REQUIRE_FALSE(tmp.path().empty());
  for (const Doc& doc : docs) {
    INFO("document " << doc.name);
    const std::string lib_bytes = libwbxmlEncode(tmp, doc.xml);

    // libwbxml2 -> eas-wbxml decode (pretty and compact) -> same document,
    // and libwbxml2 reads that XML back to the same bytes.
    for (const std::vector<std::string>& args :
         {std::vector<std::string>{"decode"}, std::vector<std::string>{"decode", "--compact"}}) {
      INFO("eas-wbxml " << args.back());
      const std::string xml = runOurTool(tmp, args, lib_bytes);
      const std::string diff = eas::oracle::diffCanon(doc.canon, canonOf(xml));
      INFO("eas-wbxml decode output differs: " << diff);
      CHECK(diff.empty());
      CHECK(bytesDiff(lib_bytes, libwbxmlEncode(tmp, xml)) == "");
    }

    // eas-wbxml encode -> libwbxml2 wbxml2xml -> same document; same bytes.
    const std::string ours = runOurTool(tmp, {"encode"}, doc.xml);
    const std::string diff = eas::oracle::diffCanon(doc.canon, canonOf(libwbxmlDecode(tmp, ours)));
    INFO("eas-wbxml encode output read by wbxml2xml differs: " << diff);
    CHECK(diff.empty());
    CHECK(bytesDiff(lib_bytes, ours) == "");

    // libwbxml2's own XML (wbxml2xml of its bytes) is accepted by eas-wbxml encode.
    const std::string lib_xml = libwbxmlDecode(tmp, lib_bytes);
    CHECK(bytesDiff(lib_bytes, runOurTool(tmp, {"encode"}, lib_xml)) == "");
  }
}

TEST_CASE("eas-wbxml rejects what libwbxml2 rejects, with a reason", "[tool]") {
  eas::oracle::TempDir tmp;
  REQUIRE_FALSE(tmp.path().empty());
  // Truncated: an element that never ends. Both tools must fail.
  const std::string truncated("\x03\x01\x6A\x00\x00\x07\x56\x52\x03\x30", 10);
  const std::string in = tmp.file("bad.wbxml");
  REQUIRE(eas::oracle::writeFile(in, truncated));
  const auto lib = eas::oracle::runTool(
      {EAS_WBXML2XML, "-l", "ACTIVESYNC", "-o", tmp.file("bad.xml"), in}, tmp.file("lib.log"));
  CHECK(lib.exit_code != 0);
  const auto ours = eas::oracle::runTool({EAS_WBXML_TOOL, "decode"}, tmp.file("ours.log"),
                                         tmp.file("ours.out"), in);
  INFO("eas-wbxml said: " << ours.output);
  CHECK(ours.exit_code == 1);
  CHECK(ours.output.find("wbxml.") != std::string::npos);
}

TEST_CASE("our code page tables agree with libwbxml2's", "[tables]") {
  // libwbxml2's table (probed from its tools) against codepages.h: names,
  // namespaces, which tags carry base64/OPAQUE, and which it does not know.
  const auto& lib = eas::oracle::libwbxmlTable();
  REQUIRE(lib.error().empty());
  std::size_t known = 0;
  for (const eas::wbxml::TagInfo& info : eas::wbxml::allTags()) {
    const eas::wbxml::Tag tag = info.tag();
    INFO("tag " << eas::wbxml::qualifiedName(tag));
    const std::string lib_name = lib.name(tag.page, tag.token);
    const bool lib_knows = lib_name[0] != '?';
    CHECK(lib_knows == ((info.flags & eas::wbxml::kNotInLibwbxml) == 0));
    if (!lib_knows) continue;
    ++known;
    CHECK(std::string(eas::wbxml::libwbxmlTagName(tag)) == lib_name);
    const eas::oracle::LibwbxmlTag* by_name =
        lib.find(std::string(eas::wbxml::libwbxmlPageName(tag.page)), lib_name);
    REQUIRE(by_name != nullptr);
    CHECK(by_name->page == tag.page);
    CHECK(by_name->token == tag.token);
    CHECK(lib.isOpaque(tag.page, tag.token) == ((info.flags & eas::wbxml::kBinary) != 0));
    // Our XML reader accepts libwbxml2's spelling too.
    const auto back = eas::wbxml::tagByName(tag.page, lib_name);
    REQUIRE(back.has_value());
    CHECK(*back == tag);
  }
  // Every tag libwbxml2 knows is in our table (no token of ours missing).
  std::size_t lib_total = 0;
  for (int page = 0; page < eas::wbxml::kNumCodePages; ++page) {
    for (int token = eas::wbxml::kFirstTagToken; token <= eas::wbxml::kLastTagToken; ++token) {
      if (lib.name(static_cast<std::uint8_t>(page), static_cast<std::uint8_t>(token))[0] == '?')
        continue;
      ++lib_total;
      INFO("libwbxml2 tag page " << page << " token " << token);
      CHECK(eas::wbxml::isKnownTag(
          eas::wbxml::Tag{static_cast<std::uint8_t>(page), static_cast<std::uint8_t>(token)}));
    }
  }
  CHECK(known == lib_total);
  CHECK(lib_total > 500);
}

namespace {

void checkSpecNames(const CanonNode& node, const eas::oracle::LibwbxmlTable& lib) {
  const eas::wbxml::Tag tag{node.page, node.token};
  INFO("corpus element " << lib.name(node.page, node.token) << " (page " << int(node.page) << ")");
  CHECK(std::string(eas::wbxml::tagName(tag)) == lib.name(node.page, node.token));
  for (const CanonNode& c : node.children) checkSpecNames(c, lib);
}

}  // namespace

TEST_CASE("the corpus uses only MS-ASWBXML names", "[tables]") {
  // Names where libwbxml2 differs from the spec (its aliases) stay out of the
  // corpus: the documents must read the same to libwbxml2 and to a spec reader.
  for (const Doc& doc : loadCorpus()) {
    INFO("document " << doc.name);
    checkSpecNames(doc.canon, eas::oracle::libwbxmlTable());
  }
}
