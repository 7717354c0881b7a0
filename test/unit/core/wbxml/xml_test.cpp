#include "core/wbxml/xml.h"

#include <catch2/catch.hpp>
#include <random>
#include <string>

#include "core/wbxml/wbxml.h"
#include "test/unit/core/wbxml/test_docs.h"

using namespace eas::wbxml;  // NOLINT
using eas::wbxml::testing::hex;
using eas::wbxml::testing::sampleDocs;

namespace {

// Sync with page switches, an opaque ConversationId and escaped text.
const std::string kSync =
    hex("03016a00455c4f4b0331000152033500015700114546033200010100000156474d03313a3100015d0002540368"
        "690001001649c3030001ff0100114a4b03783c7926000101000001010114010101");

// What `wbxml2xml -l ACTIVESYNC -m 0` (libwbxml2 0.11.8) prints for kSync.
const std::string kLibwbxmlCompact =
    "<?xml version=\"1.0\"?><!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" "
    "\"http://www.microsoft.com/\"><Sync xmlns=\"AirSync:\"><Collections><Collection><SyncKey>1"
    "</SyncKey><CollectionId>5</CollectionId><Options><BodyPreference xmlns=\"AirSyncBase:\">"
    "<Type>2</Type></BodyPreference></Options><Commands><Add><ServerId>1:1</ServerId>"
    "<ApplicationData><Subject xmlns=\"Email:\">hi</Subject><ConversationId xmlns=\"Email2:\">"
    "AAH/</ConversationId><Body xmlns=\"AirSyncBase:\"><Data>x&lt;y&amp;</Data></Body>"
    "</ApplicationData></Add></Commands><MoreAvailable/></Collection></Collections></Sync>";

// Same tags, texts and children; STR_I and OPAQUE count as equal (the XML
// form keeps the bytes, not always the token).
bool sameTree(const Element& a, const Element& b) {
  if (a.tag() != b.tag() || a.text() != b.text()) return false;
  const Element* x = a.firstChild();
  const Element* y = b.firstChild();
  for (; x && y; x = x->nextSibling(), y = y->nextSibling()) {
    if (!sameTree(*x, *y)) return false;
  }
  return x == nullptr && y == nullptr;
}

std::string xmlReason(std::string_view xml) {
  auto r = xmlToWbxml(xml);
  return r.ok() ? "ok" : r.status().reason();
}

std::string withDoctype(std::string_view body) {
  return std::string(kXmlDeclaration) + std::string(kXmlDoctype) + std::string(body);
}

}  // namespace

TEST_CASE("compact XML is exactly what libwbxml2 writes", "[wbxml][xml]") {
  auto doc = decode(kSync);
  REQUIRE(doc.ok());
  XmlOptions compact;
  compact.pretty = false;
  CHECK(toXml(*doc, compact) == kLibwbxmlCompact);
}

TEST_CASE("pretty XML of the Ping example", "[wbxml][xml]") {
  auto doc = decode(sampleDocs()[2].bytes);
  REQUIRE(doc.ok());
  CHECK(toXml(*doc) ==
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE ActiveSync PUBLIC \"-//MICROSOFT//DTD ActiveSync//EN\" "
        "\"http://www.microsoft.com/\">\n"
        "<Ping xmlns=\"Ping:\">\n"
        "  <HeartbeatInterval>480</HeartbeatInterval>\n"
        "  <Folders>\n"
        "    <Folder>\n"
        "      <Id>5</Id>\n"
        "      <Class>Email</Class>\n"
        "    </Folder>\n"
        "  </Folders>\n"
        "</Ping>\n");
}

TEST_CASE("libwbxml2's XML reads back to the same document", "[wbxml][xml]") {
  auto wbxml = xmlToWbxml(kLibwbxmlCompact);
  REQUIRE(wbxml.ok());
  auto doc = decode(kSync);
  REQUIRE(doc.ok());
  CHECK(*wbxml == encode(*doc));
}

TEST_CASE("aliases, spec names and namespaces", "[wbxml][xml]") {
  using namespace tags;  // NOLINT
  std::string out;
  {
    StringSink sink(&out);
    Writer w(sink);
    w.start(Search::Search).start(Search::Store).start(Search::Result);
    w.element(GAL::DisplayName, "Zoë").element(Contacts::BusinessAddressCity, "Bern");
    w.element(Calendar::Email, "a@b").element(Email::ReplyTo, "r@b");
    w.end().end().end();
  }
  auto doc = decode(out);
  REQUIRE(doc.ok());
  XmlOptions lib;
  lib.pretty = false;
  const std::string x = toXml(*doc, lib);
  CHECK(x.find("<DisplayName xmlns=\"Gal:\">Zoë</DisplayName>") != std::string::npos);
  CHECK(x.find("<BusinessCity xmlns=\"Contacts:\">Bern</BusinessCity>") != std::string::npos);
  CHECK(x.find("<Attendee_Email xmlns=\"Calendar:\">a@b</Attendee_Email>") != std::string::npos);
  CHECK(x.find("<Reply-To xmlns=\"Email:\">") != std::string::npos);
  XmlOptions spec = lib;
  spec.spec_names = true;
  const std::string s = toXml(*doc, spec);
  CHECK(s.find("<DisplayName xmlns=\"GAL:\">Zoë</DisplayName>") != std::string::npos);
  CHECK(s.find("<BusinessAddressCity xmlns=\"Contacts:\">") != std::string::npos);
  CHECK(s.find("<Email xmlns=\"Calendar:\">a@b</Email>") != std::string::npos);
  CHECK(s.find("<ReplyTo xmlns=\"Email:\">") != std::string::npos);
  for (const std::string* xml : {&x, &s}) {
    auto back = xmlToWbxml(*xml);
    REQUIRE(back.ok());
    CHECK(*back == out);
  }
}

TEST_CASE("every token of every code page round-trips through XML", "[wbxml][xml]") {
  for (const TagInfo& t : allTags()) {
    INFO(qualifiedName(t.tag()));
    std::string out;
    {
      StringSink sink(&out);
      Writer w(sink);
      w.start(tags::AirSync::Sync);
      if (t.flags & kBinary) {
        w.opaqueElement(t.tag(), std::string("\x00\xff", 2) + std::string(t.name));
      } else {
        w.element(t.tag(), std::string(t.name));
      }
      w.empty(t.tag());
      w.end();
    }
    auto doc = decode(out);
    REQUIRE(doc.ok());
    for (bool spec : {false, true}) {
      XmlOptions o;
      o.spec_names = spec;
      auto back = xmlToWbxml(toXml(*doc, o));
      REQUIRE(back.ok());
      CHECK(*back == out);
    }
  }
}

TEST_CASE("sample documents round-trip through XML", "[wbxml][xml]") {
  for (const auto& d : sampleDocs()) {
    INFO(d.name);
    auto doc = decode(d.bytes);
    REQUIRE(doc.ok());
    for (bool pretty : {true, false}) {
      XmlOptions o;
      o.pretty = pretty;
      auto back = xmlToWbxml(toXml(*doc, o));
      REQUIRE(back.ok());
      auto doc2 = decode(*back);
      REQUIRE(doc2.ok());
      CHECK(sameTree(doc->root(), doc2->root()));
    }
  }
}

TEST_CASE("content XML cannot hold is base64 with an attribute", "[wbxml][xml]") {
  // SyncKey: OPAQUE with invalid UTF-8; ServerId: a string with a control
  // character; Subject: leading/trailing whitespace and a CR.
  const std::string wbxml =
      hex("03 01 6A 00 45 4B C3 03 FF 00 01 01 4D 03 \"a\" 01 \"b\" 00 01 00 02 54 03 "
          "\" x\r\ny \" 00 01 01");
  auto doc = decode(wbxml);
  REQUIRE(doc.ok());
  const std::string xml = toXml(*doc);
  CHECK(xml.find("<SyncKey wbxml-content=\"opaque-base64\">/wAB</SyncKey>") != std::string::npos);
  CHECK(xml.find("<ServerId wbxml-content=\"string-base64\">YQFi</ServerId>") != std::string::npos);
  CHECK(xml.find("<Subject xmlns=\"Email:\"> x&#13;\ny </Subject>") != std::string::npos);
  auto back = xmlToWbxml(xml);
  REQUIRE(back.ok());
  CHECK(*back == wbxml);
}

TEST_CASE("toXml masks secrets", "[wbxml][xml]") {
  using namespace tags;  // NOLINT
  std::string out;
  {
    StringSink sink(&out);
    Writer w(sink);
    w.start(Settings::Settings).start(Settings::DevicePassword);
    w.element(Settings::Password, "hunter2").end();
    w.element(AirSyncBase::Data, "body-secret").element(Email::Body, "old-body");
    w.opaqueElement(ComposeMail::Mime, "From: x\r\n\r\nmime-secret");
    w.element(ItemOperations::Data, "YXR0YWNobWVudA==");
    w.element(ItemOperations::Password, "pw2");
    w.element(Email::Subject, "visible subject");
    w.empty(Search::Password);
    w.end();
  }
  auto doc = decode(out);
  REQUIRE(doc.ok());
  XmlOptions o;
  o.mask_secrets = true;
  const std::string xml = toXml(*doc, o);
  for (const char* secret :
       {"hunter2", "body-secret", "old-body", "mime-secret", "YXR0YWNobWVudA", "pw2"}) {
    INFO(secret);
    CHECK(xml.find(secret) == std::string::npos);
  }
  CHECK(xml.find("<Password>***</Password>") != std::string::npos);
  CHECK(xml.find("<MIME xmlns=\"ComposeMail:\">***</MIME>") != std::string::npos);
  CHECK(xml.find("visible subject") != std::string::npos);
  CHECK(xml.find("<Password xmlns=\"Search:\"/>") != std::string::npos);  // empty stays empty
  CHECK(toXml(*doc).find("hunter2") != std::string::npos);
  CHECK(isSecretTag(Settings::Password));
  CHECK_FALSE(isSecretTag(Provision::Data));
}

TEST_CASE("xmlToWbxml accepts the usual spellings", "[wbxml][xml]") {
  const std::string foldersync = hex("03 01 6A 00 00 07 56 52 03 30 00 01 01");
  const char* forms[] = {
      "<FolderSync xmlns=\"FolderHierarchy:\"><SyncKey>0</SyncKey></FolderSync>",
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<FolderSync xmlns=\"FolderHierarchy:\">\n"
      "   <SyncKey>0</SyncKey>\n</FolderSync>\n",
      "<f:FolderSync xmlns:f=\"FolderHierarchy:\"><f:SyncKey>0</f:SyncKey></f:FolderSync>",
      "<FolderSync xmlns=\"FolderHierarchy\"><SyncKey><![CDATA[0]]></SyncKey></FolderSync>",
      "<!-- c --><FolderSync xmlns=\"FolderHierarchy:\"><?pi x?><SyncKey>0</SyncKey>"
      "</FolderSync>",
  };
  for (const char* f : forms) {
    INFO(f);
    auto r = xmlToWbxml(f);
    REQUIRE(r.ok());
    CHECK(*r == foldersync);
  }
  auto r =
      xmlToWbxml(withDoctype("<Sync xmlns=\"AirSync:\"><SyncKey>&lt;&#x41;&amp;</SyncKey></Sync>"));
  REQUIRE(r.ok());
  CHECK(*r == hex("03 01 6A 00 45 4B 03 \"<A&\" 00 01 01"));
  // Elements without a namespace stay on the parent's page.
  r = xmlToWbxml("<Ping xmlns=\"Ping:\"><Folders xmlns=\"\"><Folder/></Folders></Ping>");
  REQUIRE(r.ok());
  CHECK(*r == hex("03 01 6A 00 00 0D 45 49 0A 01 01"));
  r = xmlToWbxml("<Sync><SyncKey>1</SyncKey></Sync>");
  REQUIRE(r.ok());
  CHECK(*r == hex("03 01 6A 00 45 4B 03 31 00 01 01"));
}

TEST_CASE("xmlToWbxml rejects bad and dangerous XML", "[wbxml][xml]") {
  struct Row {
    const char* what;
    std::string xml;
    const char* reason;
  };
  std::string deep;
  for (int i = 0; i < 65; ++i) deep += "<Collection xmlns=\"AirSync:\">";
  for (int i = 0; i < 65; ++i) deep += "</Collection>";
  const Row rows[] = {
      {"internal subset",
       "<!DOCTYPE Sync [<!ENTITY a \"aaaa\">]><Sync xmlns=\"AirSync:\">&a;</Sync>",
       "xml.doctype_internal_subset"},
      {"billion laughs",
       "<!DOCTYPE l [<!ENTITY l0 \"x\"><!ENTITY l1 \"&l0;&l0;&l0;\">]>"
       "<Sync xmlns=\"AirSync:\">&l1;</Sync>",
       "xml.doctype_internal_subset"},
      {"undefined entity with external DTD", withDoctype("<Sync xmlns=\"AirSync:\">&x;</Sync>"),
       "xml.entity_reference"},
      {"undefined entity", "<Sync xmlns=\"AirSync:\">&x;</Sync>", "xml.syntax"},
      {"not well-formed", "<Sync xmlns=\"AirSync:\"><SyncKey></Sync>", "xml.syntax"},
      {"empty", "", "xml.syntax"},
      {"unknown tag", "<Sync xmlns=\"AirSync:\"><Foo/></Sync>", "xml.unknown_tag"},
      {"tag of another page", "<Sync xmlns=\"AirSync:\"><FolderSync/></Sync>", "xml.unknown_tag"},
      {"unknown namespace", "<Sync xmlns=\"Bogus:\"/>", "xml.unknown_namespace"},
      {"attribute", "<Sync xmlns=\"AirSync:\" a=\"1\"/>", "xml.attribute"},
      {"bad content attribute", "<Sync xmlns=\"AirSync:\" wbxml-content=\"hex\"/>",
       "xml.attribute"},
      {"bad base64", "<SendMail xmlns=\"ComposeMail:\"><MIME>not base64!</MIME></SendMail>",
       "xml.bad_base64"},
      {"too deep", deep, "xml.too_deep"},
  };
  for (const Row& r : rows) {
    INFO(r.what);
    CHECK(xmlReason(r.xml) == r.reason);
  }
}

TEST_CASE("an empty Document renders as a bare prolog", "[wbxml][xml]") {
  Document empty;
  CHECK(toXml(empty) == std::string(kXmlDeclaration) + "\n" + std::string(kXmlDoctype) + "\n");
}

TEST_CASE("very deep documents go through XML without recursion", "[wbxml][xml]") {
  const int levels = 50000;
  std::string wbxml = hex("03 01 6A 00");
  for (int i = 0; i < levels; ++i) wbxml += hex("4F");
  wbxml += hex("4B 03 \"k\" 00 01 14");
  for (int i = 0; i < levels; ++i) wbxml += hex("01");
  DecodeLimits l;
  l.max_depth = levels + 10;
  auto doc = decode(wbxml, l);
  REQUIRE(doc.ok());
  for (bool pretty : {false, true}) {
    XmlOptions o;
    o.pretty = pretty;
    const std::string xml = toXml(*doc, o);
    CHECK(xmlReason(xml) == "xml.too_deep");  // default limit
    auto back = xmlToWbxml(xml, l);
    REQUIRE(back.ok());
    CHECK(*back == wbxml);
  }
}

TEST_CASE("random corruption of XML never crashes the reader", "[wbxml][xml]") {
  std::mt19937 rng(7);
  const char alphabet[] = "<>/=\"'&;:!?[]# \nabcSyncKeyxmlns-0123456789\x01\xc3\xa9";
  for (const auto& d : sampleDocs()) {
    auto doc = decode(d.bytes);
    REQUIRE(doc.ok());
    const std::string xml = toXml(*doc);
    for (int iter = 0; iter < 300; ++iter) {
      std::string s = xml;
      const int edits = 1 + static_cast<int>(rng() % 4);
      for (int k = 0; k < edits; ++k) {
        const std::size_t at = rng() % s.size();
        switch (rng() % 3) {
          case 0:
            s[at] = alphabet[rng() % (sizeof alphabet - 1)];
            break;
          case 1:
            s.erase(at, 1 + rng() % 8);
            break;
          default:
            s.insert(at, 1, alphabet[rng() % (sizeof alphabet - 1)]);
            break;
        }
        if (s.empty()) s = "<";
      }
      auto r = xmlToWbxml(s);
      if (r.ok()) {
        CHECK(decode(*r).ok());
      } else {
        CHECK(r.status().reason().rfind("xml.", 0) == 0);
      }
    }
  }
}

// Found by fuzzing (ours and the oracle helper's wbxml_xml_fuzz): an element
// with both text and children could not keep its order or its text through
// the tree and pretty XML. Both sides now refuse mixed content.
TEST_CASE("mixed content is refused on both sides", "[wbxml][xml]") {
  CHECK(xmlReason("<Sync xmlns=\"AirSync:\"><Collections>x<Collection/></Collections></Sync>") ==
        "xml.mixed_content");
  CHECK(xmlReason("<Ping xmlns=\"Ping:\"><HeartbeatInterval>9</HeartbeatInterval>rs</Ping>") ==
        "xml.mixed_content");
  CHECK(xmlReason("<SendMail xmlns=\"ComposeMail:\"><MIME>QQ==<ClientId>c</ClientId></MIME>"
                  "</SendMail>") == "xml.mixed_content");
  // Whitespace around children is formatting, also in binary tags.
  auto r = xmlToWbxml(
      "<SendMail xmlns=\"ComposeMail:\"><MIME>\n <ClientId>c</ClientId>\n</MIME>"
      "</SendMail>");
  REQUIRE(r.ok());
  CHECK(*r == hex("03 01 6A 00 00 15 45 50 51 03 \"c\" 00 01 01 01"));
}
