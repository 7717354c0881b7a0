#include "fcgi/autodiscover/autodiscover.h"

#include <expat.h>

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

using eas::auth::AuthenticatedUser;
using eas::autodiscover::AutodiscoverConfig;
using eas::autodiscover::handleAutodiscover;
using eas::autodiscover::HttpReply;

namespace {

const std::string kMobileSyncReq =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/requestschema/2006";
const std::string kMobileSyncResp =
    "http://schemas.microsoft.com/exchange/autodiscover/mobilesync/responseschema/2006";
const std::string kOutlookResp =
    "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a";
const std::string kOuterResp =
    "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006";

std::string request(const std::string& email, const std::string& schema = kMobileSyncResp,
                    const std::string& ns = kMobileSyncReq) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<Autodiscover xmlns=\"" + ns +
         "\">\n <Request>\n  <EMailAddress>" + email +
         "</EMailAddress>\n  <AcceptableResponseSchema>" + schema +
         "</AcceptableResponseSchema>\n </Request>\n</Autodiscover>\n";
}

// The reply parsed back: "ns local/ns local/..." paths -> text, and the
// namespaced paths of every element, so tests check structure, not bytes.
struct Parsed {
  bool well_formed = false;
  std::map<std::string, std::vector<std::string>> text;  // local-name path -> texts
  std::map<std::string, std::string> ns;                 // local-name path -> namespace
  std::map<std::string, std::string> attrs;              // "path@attr" -> value
  std::string first(const std::string& path) const {
    auto it = text.find(path);
    return it == text.end() || it->second.empty() ? "<absent>" : it->second.front();
  }
  bool has(const std::string& path) const { return ns.count(path) != 0; }
};

struct ParseCtx {
  Parsed* out;
  std::vector<std::string> stack;
  std::string current;
};

Parsed parseReply(const std::string& xml) {
  Parsed out;
  ParseCtx ctx{&out, {}, {}};
  XML_Parser p = XML_ParserCreateNS(nullptr, ' ');
  XML_SetUserData(p, &ctx);
  XML_SetElementHandler(
      p,
      [](void* ud, const XML_Char* name, const XML_Char** attrs) {
        auto* c = static_cast<ParseCtx*>(ud);
        std::string n(name), uri, local = n;
        if (auto sp = n.find(' '); sp != std::string::npos) {
          uri = n.substr(0, sp);
          local = n.substr(sp + 1);
        }
        c->stack.push_back(local);
        std::string path;
        for (const auto& s : c->stack) path += (path.empty() ? "" : "/") + s;
        c->out->ns[path] = uri;
        for (int i = 0; attrs[i] != nullptr; i += 2)
          c->out->attrs[path + "@" + attrs[i]] = attrs[i + 1];
        c->current.clear();
      },
      [](void* ud, const XML_Char*) {
        auto* c = static_cast<ParseCtx*>(ud);
        std::string path;
        for (const auto& s : c->stack) path += (path.empty() ? "" : "/") + s;
        c->out->text[path].push_back(c->current);
        c->current.clear();
        c->stack.pop_back();
      });
  XML_SetCharacterDataHandler(p, [](void* ud, const XML_Char* s, int len) {
    static_cast<ParseCtx*>(ud)->current.append(s, static_cast<std::size_t>(len));
  });
  out.well_formed =
      XML_Parse(p, xml.data(), static_cast<int>(xml.size()), XML_TRUE) == XML_STATUS_OK;
  XML_ParserFree(p);
  return out;
}

AutodiscoverConfig config() {
  AutodiscoverConfig c;
  c.mobilesync_url = "https://mail.example.test/Microsoft-Server-ActiveSync";
  c.domains = {"example.test", "Example.ORG"};
  return c;
}

const AuthenticatedUser kAlice{"alice@example.test", "alice"};

void checkFrameworkError(const HttpReply& r, int http_status, const std::string& code) {
  CHECK(r.status == http_status);
  const Parsed x = parseReply(r.body);
  REQUIRE(x.well_formed);
  CHECK(x.ns.at("Autodiscover") == kOuterResp);
  CHECK(x.ns.at("Autodiscover/Response") == kOuterResp);
  CHECK(x.first("Autodiscover/Response/Error/ErrorCode") == code);
  CHECK(x.has("Autodiscover/Response/Error/Message"));
  CHECK(x.has("Autodiscover/Response/Error/DebugData"));
  CHECK(x.attrs.count("Autodiscover/Response/Error@Time") == 1);
  CHECK(x.attrs.count("Autodiscover/Response/Error@Id") == 1);
  CHECK_FALSE(x.has("Autodiscover/Response/Action"));
}

void checkAddressError(const HttpReply& r, const std::string& email) {
  CHECK(r.status == 200);
  const Parsed x = parseReply(r.body);
  REQUIRE(x.well_formed);
  CHECK(x.ns.at("Autodiscover/Response") == kMobileSyncResp);
  CHECK(x.first("Autodiscover/Response/Culture") == "en:us");
  CHECK(x.first("Autodiscover/Response/User/EMailAddress") == email);
  CHECK(x.first("Autodiscover/Response/Action/Error/Status") == "2");
  CHECK_FALSE(x.has("Autodiscover/Response/Action/Settings"));
  CHECK(r.body.find("Microsoft-Server-ActiveSync") == std::string::npos);
}

}  // namespace

TEST_CASE("a mobilesync request gets the MobileSync settings") {
  const HttpReply r =
      handleAutodiscover(request("alice@example.test"), kAlice, config(), "Alice A.");
  CHECK(r.status == 200);
  CHECK(r.reason == "autodiscover.ok");
  CHECK(r.content_type.find("text/xml") == 0);
  const Parsed x = parseReply(r.body);
  REQUIRE(x.well_formed);
  CHECK(x.ns.at("Autodiscover") == kOuterResp);
  CHECK(x.ns.at("Autodiscover/Response") == kMobileSyncResp);
  CHECK(x.ns.at("Autodiscover/Response/Action/Settings/Server/Url") == kMobileSyncResp);
  CHECK(x.first("Autodiscover/Response/Culture") == "en:us");
  CHECK(x.first("Autodiscover/Response/User/DisplayName") == "Alice A.");
  CHECK(x.first("Autodiscover/Response/User/EMailAddress") == "alice@example.test");
  CHECK(x.first("Autodiscover/Response/Action/Settings/Server/Type") == "MobileSync");
  CHECK(x.first("Autodiscover/Response/Action/Settings/Server/Url") ==
        "https://mail.example.test/Microsoft-Server-ActiveSync");
  // MS-ASCMD R3482/R3484 (IT S01_TC01): Name equals Url for MobileSync.
  CHECK(x.first("Autodiscover/Response/Action/Settings/Server/Name") ==
        x.first("Autodiscover/Response/Action/Settings/Server/Url"));
  CHECK_FALSE(x.has("Autodiscover/Response/Action/Error"));
  CHECK_FALSE(x.has("Autodiscover/Response/Error"));
  CHECK_FALSE(x.has("Autodiscover/Response/Account"));  // no extras configured
}

TEST_CASE("accepted variants of a valid request") {
  struct Case {
    std::string name;
    std::string body;
    AuthenticatedUser user;
    std::string email_out;
  };
  const std::vector<Case> cases = {
      {"domain case folded", request("alice@EXAMPLE.Test"), kAlice, "alice@example.test"},
      {"second served domain",
       request("bob@example.org"),
       {"bob@example.org", "bob"},
       "bob@example.org"},
      {"whitespace around values",
       request("\n   alice@example.test  \n", "\n  " + kMobileSyncResp + "\n  "), kAlice,
       "alice@example.test"},
      {"schema in another case",
       request("alice@example.test",
               "http://schemas.microsoft.com/exchange/autodiscover/MobileSync/"
               "responseschema/2006"),
       kAlice, "alice@example.test"},
      {"no namespace on the request",
       "<Autodiscover><Request><EMailAddress>alice@example.test</"
       "EMailAddress><AcceptableResponseSchema>" +
           kMobileSyncResp + "</AcceptableResponseSchema></Request></Autodiscover>",
       kAlice, "alice@example.test"},
      {"prefixed namespace, elements in any order",
       "<a:Autodiscover xmlns:a=\"" + kMobileSyncReq +
           "\"><a:Request><a:AcceptableResponseSchema>" + kMobileSyncResp +
           "</a:AcceptableResponseSchema><a:Culture>de:de</a:Culture>"
           "<a:EMailAddress>alice@example.test</a:EMailAddress></a:Request></a:Autodiscover>",
       kAlice, "alice@example.test"},
      {"UTF-16 request",
       std::string("\xff\xfe<\0A\0u\0t\0o\0d\0i\0s\0c\0o\0v\0e\0r\0>\0<\0R\0e\0q\0u\0e\0s\0t\0>\0",
                   46),
       kAlice, ""},  // body completed below
      {"login without a domain matches the local part",
       request("alice@example.test"),
       {"alice", "alice"},
       "alice@example.test"},
      {"DOMAIN\\user device",
       request("alice@example.test"),
       {"alice@example.test", "CORP\\alice"},
       "alice@example.test"},
  };
  for (auto c : cases) {
    INFO(c.name);
    if (c.name == "UTF-16 request") {
      // Build the UTF-16LE body from the ASCII request.
      const std::string ascii =
          request("alice@example.test").substr(39);  // drop the XML declaration
      c.body = "\xff\xfe";
      for (char ch : ascii) {
        c.body += ch;
        c.body += '\0';
      }
      c.email_out = "alice@example.test";
    }
    const HttpReply r = handleAutodiscover(c.body, c.user, config());
    CHECK(r.reason == "autodiscover.ok");
    CHECK(r.status == 200);
    const Parsed x = parseReply(r.body);
    REQUIRE(x.well_formed);
    CHECK(x.first("Autodiscover/Response/User/EMailAddress") == c.email_out);
    // Without a display name the address is shown.
    CHECK(x.first("Autodiscover/Response/User/DisplayName") == c.email_out);
  }
}

TEST_CASE("an empty domain list serves every domain") {
  AutodiscoverConfig c = config();
  c.domains.clear();
  const HttpReply r =
      handleAutodiscover(request("zed@elsewhere.test"), {"zed@elsewhere.test", "zed"}, c);
  CHECK(r.reason == "autodiscover.ok");
}

TEST_CASE("extra protocols are announced as SmartDiscover describes") {
  AutodiscoverConfig c = config();
  c.extra_protocols = {{"IMAP", "imap.example.test", 993, "%u", true},
                       {"SMTP", "smtp.example.test", 587, "", false},
                       {"CalDAV", "https://dav.example.test/cal/%u", 0, "user-%u-x", true}};
  const HttpReply r = handleAutodiscover(request("alice@example.test"), kAlice, c);
  REQUIRE(r.reason == "autodiscover.ok");
  const Parsed x = parseReply(r.body);
  REQUIRE(x.well_formed);
  const auto& types = x.text.at("Autodiscover/Response/Account/Protocol/Type");
  CHECK(types == std::vector<std::string>{"IMAP", "SMTP", "CalDAV"});
  CHECK(x.text.at("Autodiscover/Response/Account/Protocol/Server") ==
        std::vector<std::string>{"imap.example.test", "smtp.example.test",
                                 "https://dav.example.test/cal/%u"});
  CHECK(x.text.at("Autodiscover/Response/Account/Protocol/Port") ==
        std::vector<std::string>{"993", "587"});
  CHECK(x.text.at("Autodiscover/Response/Account/Protocol/LoginName") ==
        std::vector<std::string>{"alice@example.test", "alice@example.test",
                                 "user-alice@example.test-x"});
  CHECK(x.text.at("Autodiscover/Response/Account/Protocol/SSL") ==
        std::vector<std::string>{"on", "off", "on"});
  // The MobileSync server is still where clients look for it.
  CHECK(x.first("Autodiscover/Response/Action/Settings/Server/Type") == "MobileSync");
}

TEST_CASE("reply text is escaped") {
  AutodiscoverConfig c = config();
  c.mobilesync_url = "https://mail.example.test/eas?a=1&b=<2>";
  const HttpReply r =
      handleAutodiscover(request("alice@example.test"), kAlice, c, "Al & \"Bob\" <x>");
  REQUIRE(r.reason == "autodiscover.ok");
  const Parsed x = parseReply(r.body);
  REQUIRE(x.well_formed);
  CHECK(x.first("Autodiscover/Response/User/DisplayName") == "Al & \"Bob\" <x>");
  CHECK(x.first("Autodiscover/Response/Action/Settings/Server/Url") ==
        "https://mail.example.test/eas?a=1&b=<2>");
}

TEST_CASE("framework errors: schema not served, invalid and malformed requests") {
  struct Case {
    std::string name;
    std::string body;
    std::string reason;
    std::string code;
    int http = 200;
  };
  std::string deep = "<Autodiscover><Request>";
  for (int i = 0; i < 100; ++i) deep += "<x>";
  for (int i = 0; i < 100; ++i) deep += "</x>";
  deep += "</Request></Autodiscover>";
  const std::vector<Case> cases = {
      {"Outlook schema",
       request("alice@example.test", kOutlookResp,
               "http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006"),
       "autodiscover.unsupported_schema", "601"},
      {"Outlook schema on the mobilesync request", request("alice@example.test", kOutlookResp),
       "autodiscover.unsupported_schema", "601"},
      {"unknown schema", request("alice@example.test", "urn:nothing"),
       "autodiscover.unsupported_schema", "601"},
      {"empty schema", request("alice@example.test", ""), "autodiscover.unsupported_schema", "601"},
      {"no schema element",
       "<Autodiscover><Request><EMailAddress>alice@example.test</EMailAddress></Request></"
       "Autodiscover>",
       "autodiscover.invalid_request", "600"},
      {"no address element",
       "<Autodiscover><Request><AcceptableResponseSchema>" + kMobileSyncResp +
           "</AcceptableResponseSchema></Request></Autodiscover>",
       "autodiscover.invalid_request", "600"},
      {"empty address", request("   "), "autodiscover.invalid_request", "600"},
      {"two Request elements (IT S01_TC03)",
       "<Autodiscover xmlns=\"" + kMobileSyncReq +
           "\"><Request><EMailAddress>alice@example.test</EMailAddress>"
           "<AcceptableResponseSchema>" +
           kMobileSyncResp +
           "</AcceptableResponseSchema></Request><Request>"
           "<EMailAddress>alice@example.test</EMailAddress><AcceptableResponseSchema>" +
           kMobileSyncResp + "</AcceptableResponseSchema></Request></Autodiscover>",
       "autodiscover.invalid_request", "600"},
      {"schema with a suffix (IT S01_TC04)", request("alice@example.test", kMobileSyncResp + "XX"),
       "autodiscover.unsupported_schema", "601"},
      {"no Request element",
       "<Autodiscover><EMailAddress>alice@example.test</EMailAddress></Autodiscover>",
       "autodiscover.invalid_request", "600"},
      {"wrong root",
       "<Discover><Request><EMailAddress>alice@example.test</"
       "EMailAddress><AcceptableResponseSchema>" +
           kMobileSyncResp + "</AcceptableResponseSchema></Request></Discover>",
       "autodiscover.invalid_request", "600"},
      {"elements at the wrong depth",
       "<Autodiscover><Request><x><EMailAddress>alice@example.test</"
       "EMailAddress><AcceptableResponseSchema>" +
           kMobileSyncResp + "</AcceptableResponseSchema></x></Request></Autodiscover>",
       "autodiscover.invalid_request", "600"},
      {"nesting too deep", deep, "autodiscover.invalid_request", "600"},
      {"huge address", request(std::string(5000, 'a') + "@example.test"),
       "autodiscover.invalid_request", "600"},
      {"empty body", "", "autodiscover.malformed", "600"},
      {"not XML", "EMailAddress=alice@example.test", "autodiscover.malformed", "600"},
      {"unclosed element", request("alice@example.test").substr(0, 150), "autodiscover.malformed",
       "600"},
      {"mismatched tags", "<Autodiscover><Request></Autodiscover></Request>",
       "autodiscover.malformed", "600"},
      {"two roots", request("alice@example.test") + "<Autodiscover/>", "autodiscover.malformed",
       "600"},
      {"undefined entity", request("alice&nbsp;@example.test"), "autodiscover.malformed", "600"},
      {"NUL byte", std::string("<Autodiscover>\0</Autodiscover>", 30), "autodiscover.malformed",
       "600"},
      {"invalid UTF-8", request("al\xff\xfeice@example.test"), "autodiscover.malformed", "600"},
      {"unknown encoding",
       "<?xml version=\"1.0\" encoding=\"EBCDIC-XX\"?>" + request("alice@example.test").substr(39),
       "autodiscover.malformed", "600"},
      {"billion laughs",
       "<?xml version=\"1.0\"?>\n<!DOCTYPE Autodiscover [\n <!ENTITY a \"lol\">\n"
       " <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n <!ENTITY c "
       "\"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
       " <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n <!ENTITY e "
       "\"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
       " <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n <!ENTITY g "
       "\"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n]>\n"
       "<Autodiscover><Request><EMailAddress>&g;</EMailAddress><AcceptableResponseSchema>" +
           kMobileSyncResp + "</AcceptableResponseSchema></Request></Autodiscover>",
       "autodiscover.doctype", "600"},
      {"external entity",
       "<?xml version=\"1.0\"?>\n<!DOCTYPE Autodiscover [ <!ENTITY xxe SYSTEM "
       "\"file:///etc/passwd\"> ]>\n"
       "<Autodiscover><Request><EMailAddress>&xxe;</EMailAddress><AcceptableResponseSchema>" +
           kMobileSyncResp + "</AcceptableResponseSchema></Request></Autodiscover>",
       "autodiscover.doctype", "600"},
      {"external DTD",
       "<?xml version=\"1.0\"?>\n<!DOCTYPE Autodiscover SYSTEM \"http://127.0.0.1:1/x.dtd\">\n" +
           request("alice@example.test").substr(39),
       "autodiscover.doctype", "600"},
      {"parameter entity",
       "<!DOCTYPE Autodiscover [ <!ENTITY % p SYSTEM \"file:///etc/passwd\"> %p; ]>" +
           request("alice@example.test").substr(39),
       "autodiscover.doctype", "600"},
      {"bare DOCTYPE", "<!DOCTYPE Autodiscover>" + request("alice@example.test").substr(39),
       "autodiscover.doctype", "600"},
      {"oversized", request("alice@example.test") + "<!--" + std::string(20000, 'x') + "-->",
       "autodiscover.too_large", "600", 413},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const HttpReply r = handleAutodiscover(c.body, kAlice, config());
    CHECK(r.reason == c.reason);
    checkFrameworkError(r, c.http, c.code);
    CHECK(r.body.find("root:") == std::string::npos);
    CHECK(r.body.find("lollol") == std::string::npos);
  }
}

TEST_CASE("a body just under the limit is parsed") {
  AutodiscoverConfig c = config();
  std::string body = request("alice@example.test");
  body += "<!--" + std::string(c.max_request_bytes - body.size() - 7, 'x') + "-->";
  REQUIRE(body.size() == c.max_request_bytes);
  CHECK(handleAutodiscover(body, kAlice, c).reason == "autodiscover.ok");
  body += ' ';
  CHECK(handleAutodiscover(body, kAlice, c).reason == "autodiscover.too_large");
}

TEST_CASE("address errors: unknown domain, another user, implausible address") {
  struct Case {
    std::string name;
    std::string email;
    std::string reason;
    std::string email_out;
  };
  const std::vector<Case> cases = {
      {"domain not served", "alice@other.test", "autodiscover.unknown_address", "alice@other.test"},
      {"subdomain not served", "alice@mail.example.test", "autodiscover.unknown_address",
       "alice@mail.example.test"},
      {"another user", "bob@example.test", "autodiscover.address_mismatch", "bob@example.test"},
      {"another user, case folded domain", "Bob@EXAMPLE.TEST", "autodiscover.address_mismatch",
       "Bob@example.test"},
      {"no @", "alice", "autodiscover.unknown_address", "alice"},
      {"empty local part", "@example.test", "autodiscover.unknown_address", "@example.test"},
      {"space inside", "ali ce@example.test", "autodiscover.unknown_address",
       "ali ce@example.test"},
      {"markup inside is escaped back", "a&lt;b&gt;@x.test", "autodiscover.unknown_address",
       "a<b>@x.test"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    const HttpReply r = handleAutodiscover(request(c.email), kAlice, config());
    CHECK(r.reason == c.reason);
    checkAddressError(r, c.email_out);
  }
}

TEST_CASE("no MobileSync URL configured is an internal error, not an empty URL") {
  AutodiscoverConfig c = config();
  c.mobilesync_url.clear();
  const HttpReply r = handleAutodiscover(request("alice@example.test"), kAlice, c);
  CHECK(r.reason == "autodiscover.not_configured");
  checkFrameworkError(r, 200, "603");
}
