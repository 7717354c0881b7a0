// A small HTTP client for integration tests: real HTTP to the stack (nginx
// in front of eas-fcgi) with Poco::Net::HTTPClientSession. Never throws
// for HTTP outcomes; a transport failure is status -1 with `error` set.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace eas::testing {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpReply {
  int status = -1;    // -1: no HTTP answer (see error)
  std::string error;  // transport error text
  HeaderList headers;  // as received
  std::string body;

  // First header with this name (case-insensitive), or empty.
  std::string header(std::string_view name) const;
  bool hasHeader(std::string_view name) const;
};

// One EAS POST. Defaults make a valid 14.1 FolderSync request line.
struct EasRequest {
  std::string cmd = "FolderSync";
  std::string user;      // Basic auth user (also sent as User=)
  std::string password;
  bool send_auth = true;
  std::string device_id = "EASTEST0001";
  std::string device_type = "TestDevice";
  std::string protocol_version = "14.1";  // MS-ASProtocolVersion; empty: not sent
  std::string policy_key;                 // X-MS-PolicyKey; empty: not sent
  std::string content_type = "application/vnd.ms-sync.wbxml";  // empty: not sent
  std::string body;
  std::string extra_query;                // appended as "&<extra_query>"
  std::optional<std::string> raw_query;   // replaces the whole query (base64 form, junk)
  HeaderList extra_headers;
  std::string path = "/Microsoft-Server-ActiveSync";
  std::string method = "POST";
};

class TestClient {
 public:
  // base_url: "http://127.0.0.1:PORT" (no trailing path).
  explicit TestClient(std::string base_url);
  // EAS_URL from ${build}/run/eas_stack/env; throws if the fixture did not run.
  static TestClient fromStackEnv();

  // Any request. `path_and_query` starts with '/'.
  HttpReply request(const std::string& method, const std::string& path_and_query,
                    const HeaderList& headers = {}, const std::string& body = {}) const;
  // OPTIONS /Microsoft-Server-ActiveSync, with Basic auth unless user is empty.
  HttpReply options(const std::string& user, const std::string& password) const;
  HttpReply post(const EasRequest& request) const;
  // POST an Autodiscover body (text/xml) to `path`.
  HttpReply autodiscover(const std::string& user, const std::string& password,
                         const std::string& body,
                         const std::string& path = "/autodiscover/autodiscover.xml") const;

  // "Basic base64(user:password)".
  static std::string basicAuth(const std::string& user, const std::string& password);
  // "Cmd=..&User=..&DeviceId=..&DeviceType=.." (percent-encoded).
  static std::string plainQuery(const EasRequest& request);
  static std::string percentEncode(std::string_view text);
  // Autodiscover request body (mobilesync request schema) for `email`.
  static std::string autodiscoverRequest(const std::string& email);

  const std::string& host() const { return host_; }
  int port() const { return port_; }
  // Connect from this local address (e.g. "127.0.0.23"), so that a test
  // that trips the per-address throttling does not lock out the others.
  void setSourceAddress(std::string address) { source_address_ = std::move(address); }

 private:
  std::string host_;
  int port_ = 80;
  std::string source_address_;
};

}  // namespace eas::testing
