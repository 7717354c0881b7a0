#include "fcgi/runtime/fcgi_request.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

using eas::http::HttpResponse;
using eas::runtime::requestFromParams;

TEST_CASE("request from nginx params", "[fcgi]") {
  std::vector<std::string_view> params = {
      "FCGI_ROLE=RESPONDER",
      "REQUEST_METHOD=POST",
      "QUERY_STRING=jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l",
      "DOCUMENT_URI=/Microsoft-Server-ActiveSync",
      "REQUEST_URI=/Microsoft-Server-ActiveSync?jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l",
      "SCRIPT_NAME=/ignored",
      "REMOTE_ADDR=192.0.2.7",
      "CONTENT_TYPE=application/vnd.ms-sync.wbxml",
      "CONTENT_LENGTH=12",
      "HTTP_CONTENT_TYPE=application/vnd.ms-sync.wbxml",
      "HTTP_CONTENT_LENGTH=12",
      "HTTP_AUTHORIZATION=Basic YTpi",
      "HTTP_MS_ASPROTOCOLVERSION=14.1",
      "HTTP_X_MS_POLICYKEY=0",
      "HTTP_USER_AGENT=Test/1.0",
      "NOEQUALS",
      "HTTP_EMPTY=",
  };
  auto r = requestFromParams(params);
  CHECK(r->method == "POST");
  CHECK(r->path == "/Microsoft-Server-ActiveSync");
  CHECK(r->query == "jAAJBAp2MTQwRGV2aWNlAApTbWFydFBob25l");
  CHECK(r->remote_addr == "192.0.2.7");
  CHECK(r->header("authorization") == "Basic YTpi");
  CHECK(r->header("ms-asprotocolversion") == "14.1");
  CHECK(r->header("x-ms-policykey") == "0");
  CHECK(r->header("user-agent") == "Test/1.0");
  CHECK(r->header("content-type") == "application/vnd.ms-sync.wbxml");
  CHECK(r->header("content-length") == "12");
  CHECK(r->hasHeader("empty"));
  int content_type_count = 0;
  for (const auto& [k, v] : r->headers) content_type_count += k == "content-type";
  CHECK(content_type_count == 1);  // not doubled by HTTP_CONTENT_TYPE
}

TEST_CASE("request path fallbacks (Apache mod_proxy_fcgi)", "[fcgi]") {
  struct Row {
    std::vector<std::string_view> params;
    const char* path;
  };
  std::vector<Row> rows = {
      {{"SCRIPT_NAME=/Microsoft-Server-ActiveSync", "REQUEST_URI=/x?y"},
       "/Microsoft-Server-ActiveSync"},
      {{"SCRIPT_NAME=/a", "PATH_INFO=/b"}, "/a/b"},
      {{"REQUEST_URI=/autodiscover/autodiscover.xml?q=1"}, "/autodiscover/autodiscover.xml"},
      {{"DOCUMENT_URI=", "REQUEST_URI=/r"}, "/r"},
      {{}, ""},
  };
  for (const auto& row : rows) {
    auto r = requestFromParams(row.params);
    CHECK(r->path == row.path);
  }
  auto q = requestFromParams({"QUERY_STRING=Cmd=Sync&User=a%40b&DeviceId=X&DeviceType=SP"});
  CHECK(q->query == "Cmd=Sync&User=a%40b&DeviceId=X&DeviceType=SP");  // raw, not decoded
}

TEST_CASE("response head: Status line, headers, Content-Length always", "[fcgi]") {
  HttpResponse r;
  r.status = 200;
  r.headers = {{"MS-Server-ActiveSync", "14.1"},
               {"Content-Length", "999"},  // the runtime's own wins
               {"Status", "500"},          // never a second status
               {"X-Evil", "a\r\nSet-Cookie: x=1"}};
  r.body = "hello";
  std::string head = eas::runtime::responseHead(r);
  CHECK(head ==
        "Status: 200 OK\r\n"
        "MS-Server-ActiveSync: 14.1\r\n"
        "X-Evil: a  Set-Cookie: x=1\r\n"
        "Content-Length: 5\r\n\r\n");

  HttpResponse empty;
  empty.status = 401;
  empty.headers = {{"WWW-Authenticate", "Basic realm=\"eas-fcgi\""}};
  CHECK(eas::runtime::responseHead(empty) ==
        "Status: 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"eas-fcgi\"\r\nContent-Length: "
        "0\r\n\r\n");

  HttpResponse bogus;
  bogus.status = 42;
  CHECK(eas::runtime::responseHead(bogus).rfind("Status: 500 ", 0) == 0);
  CHECK(eas::runtime::reasonPhrase(449) == "Retry With");
  CHECK(eas::runtime::reasonPhrase(413) == "Payload Too Large");
}

TEST_CASE("one log line per request, DeviceId first", "[fcgi]") {
  eas::runtime::RequestSummary s{"POST", "/Microsoft-Server-ActiveSync", "127.0.0.1"};
  HttpResponse r;
  r.status = 200;
  r.device_id = "v140Device";
  r.user = "alice@example.test";
  r.command = "Ping";
  r.protocol_version = "14.1";
  r.eas_status = "1";
  CHECK(eas::runtime::requestLogLine(s, r, 13, 7) ==
        "v140Device alice@example.test <<< Ping 14.1 200/1 13B 7ms from=127.0.0.1");

  HttpResponse bad;
  bad.status = 400;
  bad.reason = "http.bad_device_id";
  eas::runtime::RequestSummary o{"OPTIONS", "/Microsoft-Server-ActiveSync", ""};
  CHECK(eas::runtime::requestLogLine(o, bad, 0, -3) ==
        "- - <<< OPTIONS - 400 0B 0ms reason=http.bad_device_id path=/Microsoft-Server-ActiveSync");
}
