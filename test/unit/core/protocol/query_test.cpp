// MS-ASHTTP query parsing: the spec's base64 vector, hand-built vectors
// (bytes written out below, base64 computed independently), every malformed
// form with its reason token, and truncation at every length.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "core/protocol/query.h"

using eas::protocol::EasQuery;
using eas::protocol::ProtocolVersion;
using eas::protocol::parseQuery;
using eas::protocol::validateQuery;

namespace {

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int c : b) s.push_back(static_cast<char>(c));
  return s;
}

}  // namespace

TEST_CASE("spec vector: jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l (HTTP §2.2.1.1.1)", "[query]") {
  auto q = parseQuery("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
  REQUIRE(q.ok());
  CHECK(q->form == EasQuery::Form::kBase64);
  CHECK(q->version == ProtocolVersion::k140);
  CHECK(q->command_code == 0);  // Sync
  CHECK(q->command.empty());
  CHECK(q->locale == 0x0409);
  CHECK(q->device_id == "v140Device");
  CHECK_FALSE(q->policy_key.has_value());
  CHECK(q->device_type == "SmartPhone");
  CHECK(q->user.empty());
  CHECK(validateQuery(*q).ok());
}

TEST_CASE("base64 vector: binary GUID DeviceId, PolicyKey, User, Options", "[query]") {
  // 8d 09 07 04 | 10 a1b2c3d4e5f60718293a4b5c6d7e8f90 | 04 78563412 | 06 "iPhone"
  // | 08 12 "alice@example.test" | 07 01 03
  const std::string b64 =
      "jQkHBBChssPU5fYHGCk6S1xtfo+QBHhWNBIGaVBob25lCBJhbGljZUBleGFtcGxlLnRlc3QHAQM=";
  for (std::string query : {b64, std::string("jQkHBBChssPU5fYHGCk6S1xtfo%2BQBHhWNBIGaVBob25lCBJhbGljZUBleGFtcGxlLnRlc3QHAQM%3D")}) {
    INFO(query);
    auto q = parseQuery(query);
    REQUIRE(q.ok());
    CHECK(q->version == ProtocolVersion::k141);
    CHECK(q->command_code == 9);  // FolderSync
    CHECK(q->locale == 0x0407);
    CHECK(q->device_id == "a1b2c3d4e5f60718293a4b5c6d7e8f90");
    CHECK(q->policy_key == 0x12345678u);
    CHECK(q->device_type == "iPhone");
    CHECK(q->user == "alice@example.test");
    CHECK(q->save_in_sent);
    CHECK(q->accept_multipart);
    CHECK(validateQuery(*q).ok());
  }
}

TEST_CASE("base64 vector: 12.1 SmartReply with CollectionId, ItemId, SaveInSent", "[query]") {
  // 79 03 09 04 | 08 "ABCD1234" | 00 | 07 "Android" | 01 01 "5" | 03 04 "5:12" | 07 01 01
  auto q = parseQuery("eQMJBAhBQkNEMTIzNAAHQW5kcm9pZAEBNQMENToxMgcBAQ==");
  REQUIRE(q.ok());
  CHECK(q->version == ProtocolVersion::k121);
  CHECK(q->command_code == 3);
  CHECK(q->device_id == "ABCD1234");
  CHECK(q->device_type == "Android");
  CHECK(q->collection_id == "5");
  CHECK(q->item_id == "5:12");
  CHECK(q->save_in_sent);
  CHECK_FALSE(q->accept_multipart);
}

TEST_CASE("base64 vector: 16.1 Find, PolicyKey 0xffffffff", "[query]") {
  auto q = parseQuery("oRcMBARkZXYxBP////8CV1A=");
  REQUIRE(q.ok());
  CHECK(q->version == ProtocolVersion::k161);
  CHECK(q->command_code == 23);
  CHECK(q->locale == 0x040c);
  CHECK(q->policy_key == 0xffffffffu);
  CHECK(q->device_type == "WP");
}

TEST_CASE("base64 vector: every parameter tag, obsolete tags 2 and 5 ignored", "[query]") {
  // 8c 04 09 04 | 04 "dev2" | 00 | 02 "SP" | 00 09 "5:7:0.att" | 02 03 "old" |
  // 05 01 "x" | 04 05 "RgAA1" | 06 03 "2:1"
  auto q = parseQuery("jAQJBARkZXYyAAJTUAAJNTo3OjAuYXR0AgNvbGQFAXgEBVJnQUExBgMyOjE=");
  REQUIRE(q.ok());
  CHECK(q->command_code == 4);
  CHECK(q->attachment_name == "5:7:0.att");
  CHECK(q->long_id == "RgAA1");
  CHECK(q->occurrence == "2:1");
  CHECK(q->collection_id.empty());
}

TEST_CASE("plain form: fields, percent-decoding, case of names", "[query]") {
  auto q = parseQuery(
      "Cmd=SmartForward&User=alice%40example.test&DeviceId=ABC123&DeviceType=iPhone"
      "&CollectionId=%7B5%7D&ItemId=5%3A12&LongId=RgAA&Occurrence=x&SaveInSent=T"
      "&AttachmentName=a%2Fb");
  REQUIRE(q.ok());
  CHECK(q->form == EasQuery::Form::kPlain);
  CHECK(q->command == "SmartForward");
  CHECK_FALSE(q->command_code.has_value());
  CHECK(q->user == "alice@example.test");
  CHECK(q->collection_id == "{5}");  // SOGo forgets to decode this one; we do not
  CHECK(q->item_id == "5:12");
  CHECK(q->attachment_name == "a/b");
  CHECK(q->save_in_sent);
  CHECK_FALSE(q->version.has_value());
  CHECK(validateQuery(*q).ok());

  auto lower = parseQuery("cmd=Ping&deviceid=A1&devicetype=SP&acceptmultipart=T&Extra=1");
  REQUIRE(lower.ok());
  CHECK(lower->command == "Ping");
  CHECK(lower->device_id == "A1");
  CHECK(lower->accept_multipart);

  auto plus = parseQuery("Cmd=Sync&User=bob+tag@example.test&DeviceId=A&DeviceType=SP");
  REQUIRE(plus.ok());
  CHECK(plus->user == "bob+tag@example.test");
}

TEST_CASE("malformed queries: one reason token each", "[query]") {
  struct Row {
    std::string query;
    std::string reason;
  };
  const std::vector<Row> rows = {
      {"", "http.missing_cmd"},
      {"User=a&DeviceId=A&DeviceType=SP", "http.missing_cmd"},
      {"Cmd=&DeviceId=A&DeviceType=SP", "http.missing_cmd"},
      {"Cmd=Sync&DeviceId=%4&DeviceType=SP", "http.bad_percent_encoding"},
      {"Cmd=Sync&DeviceId=%G1&DeviceType=SP", "http.bad_percent_encoding"},
      {"Cmd=Sync&DeviceId=A%", "http.bad_percent_encoding"},
      {"Cmd=Sync&Cmd=Ping&DeviceId=A&DeviceType=SP", "http.duplicate_param"},
      {"Cmd=SendMail&SaveInSent=yes&DeviceId=A&DeviceType=SP", "http.bad_param_value"},
      {"Cmd=ItemOperations&AcceptMultiPart=1&DeviceId=A&DeviceType=SP", "http.bad_param_value"},
      {"not*base64", "http.bad_base64"},
      {"jAAJB", "http.bad_base64"},                 // length 5 (mod 4 == 1)
      {"jAAJBA=p", "http.missing_cmd"},            // a '=' inside makes it plain
      {"jAAJBA%", "http.bad_percent_encoding"},
      {"%ZZ", "http.bad_percent_encoding"},
      {"jQ==", "http.truncated_base64"},  // version byte 141 only
  };
  // Built from bytes so that each row says what is wrong.
  using eas::protocol::base64Encode;
  const std::vector<Row> blobs = {
      {base64Encode(bytes({120, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P'})), "http.unsupported_version"},
      {base64Encode(bytes({25, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P'})), "http.unsupported_version"},
      {base64Encode(bytes({191, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P'})), "http.unsupported_version"},
      {base64Encode(bytes({141, 0, 9, 4, 0, 0, 2, 'S', 'P'})), "http.bad_device_id"},
      {base64Encode(bytes({141, 0, 9, 4, 1, 'A', 3, 1, 2, 3, 2, 'S', 'P'})), "http.bad_policy_key"},
      {base64Encode(bytes({141, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P', 9, 1, 'x'})), "http.bad_param_tag"},
      {base64Encode(bytes({141, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P', 7, 0})), "http.bad_options"},
      {base64Encode(bytes({141, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P', 7, 5, 1, 0, 0, 0, 0})),
       "http.bad_options"},
      {base64Encode(bytes({141, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P', 1})), "http.truncated_base64"},
      {base64Encode(bytes({141, 0, 9, 4, 1, 'A', 0, 2, 'S', 'P', 1, 4, 'a'})),
       "http.truncated_base64"},
      {base64Encode(bytes({141, 0, 9, 4, 9, 'A'})), "http.truncated_base64"},
  };
  for (const Row& r : rows) {
    INFO("query: " << r.query);
    auto q = parseQuery(r.query);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().reason() == r.reason);
  }
  for (const Row& r : blobs) {
    INFO("query: " << r.query);
    auto q = parseQuery(r.query);
    REQUIRE_FALSE(q.ok());
    CHECK(q.status().reason() == r.reason);
  }
}

TEST_CASE("base64 query truncated at every length fails with a token, never crashes", "[query]") {
  const std::string blob = bytes({141, 9, 7, 4, 4, 'd', 'e', 'v', '1', 4, 1, 2, 3, 4, 2, 'S', 'P',
                                  8, 3, 'a', '@', 'b', 1, 2, '1', '2', 7, 1, 1});
  REQUIRE(parseQuery(eas::protocol::base64Encode(blob)).ok());
  for (std::size_t n = 0; n < blob.size(); ++n) {
    const std::string prefix = blob.substr(0, n);
    INFO("prefix length " << n);
    auto q = parseQuery(eas::protocol::base64Encode(prefix));
    // Ends exactly after DeviceType or after a whole parameter: complete.
    if (n == 17 || n == 22 || n == 26) {
      CHECK(q.ok());
      continue;
    }
    REQUIRE_FALSE(q.ok());
    if (n == 0) {
      CHECK(q.status().reason() == "http.missing_cmd");
    } else {
      CHECK(q.status().reason() == "http.truncated_base64");
    }
  }
}

TEST_CASE("validateQuery: DeviceId and DeviceType grammar", "[query]") {
  struct Row {
    std::string device_id, device_type, reason;
  };
  const std::vector<Row> rows = {
      {"", "SP", "http.missing_device_id"},
      {std::string(33, 'a'), "SP", "http.bad_device_id"},
      {std::string(35, 'a'), "SP", "http.bad_device_id"},  // IT S21_TC10 length
      {"abc-123", "SP", "http.bad_device_id"},
      {"abc,123", "SP", "http.bad_device_id"},
      {"abc 123", "SP", "http.bad_device_id"},
      {"A1", "", "http.missing_device_type"},
      {"A1", std::string(35, 'x'), "http.bad_device_type"},
      {"A1", "Smart Phone", "http.bad_device_type"},
      {"A1", std::string("S\x01P"), "http.bad_device_type"},
      {std::string(32, 'a'), std::string(32, 'x'), ""},
      {"androidc12345", "Android", ""},
  };
  for (const Row& r : rows) {
    INFO(r.device_id << " / " << r.device_type);
    EasQuery q;
    q.command = "Sync";
    q.device_id = r.device_id;
    q.device_type = r.device_type;
    const eas::Status s = validateQuery(q);
    CHECK(s.reason() == r.reason);
    CHECK(s.ok() == r.reason.empty());
  }
  EasQuery q;
  q.device_id = "A";
  q.device_type = "SP";
  q.collection_id = std::string(65, '1');
  CHECK(validateQuery(q).reason() == "http.param_too_long");
  q.collection_id = std::string(64, '1');
  q.long_id = std::string(257, 'L');
  CHECK(validateQuery(q).reason() == "http.param_too_long");
  q.long_id = std::string(256, 'L');
  CHECK(validateQuery(q).ok());
}

TEST_CASE("encodeBase64Query round-trips through parseQuery", "[query]") {
  EasQuery in;
  in.form = EasQuery::Form::kBase64;
  in.version = ProtocolVersion::k160;
  in.command_code = 20;
  in.locale = 0x0809;
  in.device_id = "ROUNDTRIP01";
  in.device_type = "TestDevice";
  in.policy_key = 3141592653u;
  in.user = "carol@example.test";
  in.collection_id = "7";
  in.item_id = "7:1";
  in.long_id = "LLL";
  in.occurrence = "o";
  in.attachment_name = "att";
  in.save_in_sent = true;
  const std::string b64 = eas::protocol::encodeBase64Query(in);
  auto out = parseQuery(b64);
  REQUIRE(out.ok());
  CHECK(out->version == in.version);
  CHECK(out->command_code == in.command_code);
  CHECK(out->locale == in.locale);
  CHECK(out->device_id == in.device_id);
  CHECK(out->device_type == in.device_type);
  CHECK(out->policy_key == in.policy_key);
  CHECK(out->user == in.user);
  CHECK(out->collection_id == in.collection_id);
  CHECK(out->item_id == in.item_id);
  CHECK(out->long_id == in.long_id);
  CHECK(out->occurrence == in.occurrence);
  CHECK(out->attachment_name == in.attachment_name);
  CHECK(out->save_in_sent);
  CHECK_FALSE(out->accept_multipart);
  // The spec vector re-encodes to itself.
  EasQuery spec = *parseQuery("jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
  CHECK(eas::protocol::encodeBase64Query(spec) == "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
}

TEST_CASE("base64Decode: RFC 4648 vectors and defects", "[query]") {
  using eas::protocol::base64Decode;
  using eas::protocol::base64Encode;
  const std::pair<const char*, const char*> vectors[] = {
      {"", ""}, {"f", "Zg=="}, {"fo", "Zm8="}, {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"}};
  for (auto [plain, enc] : vectors) {
    CHECK(base64Encode(plain) == enc);
    CHECK(base64Decode(enc) == std::string(plain));
  }
  CHECK(base64Decode("Zg") == std::string("f"));  // padding optional
  CHECK_FALSE(base64Decode("Zh==").has_value());  // non-zero trailing bits
  CHECK_FALSE(base64Decode("Z===").has_value());
  CHECK_FALSE(base64Decode("Zm9v=").has_value());
  CHECK_FALSE(base64Decode("Zm-v").has_value());
}

TEST_CASE("plain query truncated at every length: parses or fails with a token", "[query]") {
  const std::string full =
      "Cmd=SmartReply&User=alice%40example.test&DeviceId=ABC123&DeviceType=iPhone"
      "&CollectionId=5&ItemId=5%3A12&LongId=RgAA&Occurrence=x&SaveInSent=T";
  for (std::size_t n = 0; n <= full.size(); ++n) {
    const std::string prefix = full.substr(0, n);
    INFO("prefix: " << prefix);
    auto q = parseQuery(prefix);
    if (!q.ok()) {
      CHECK(q.status().reason().rfind("http.", 0) == 0);
      continue;
    }
    // A prefix that parses carries a prefix of each value it has.
    CHECK(std::string("SmartReply").rfind(q->command, 0) == 0);
    CHECK(q->form == EasQuery::Form::kPlain);
    if (n == full.size()) CHECK(q->save_in_sent);
  }
}
