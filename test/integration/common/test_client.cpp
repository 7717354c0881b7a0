#include "test/integration/common/test_client.h"

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <sstream>

#include "core/protocol/query.h"
#include "test/integration/common/env_file.h"

namespace eas::testing {
namespace {

bool equalsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const auto x = static_cast<unsigned char>(a[i]), y = static_cast<unsigned char>(b[i]);
    if (std::tolower(x) != std::tolower(y)) return false;
  }
  return true;
}

}  // namespace

std::string HttpReply::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (equalsIgnoreCase(k, name)) return v;
  return {};
}

bool HttpReply::hasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (equalsIgnoreCase(k, name)) return true;
  return false;
}

TestClient::TestClient(std::string base_url) {
  Poco::URI uri(base_url);
  host_ = uri.getHost();
  port_ = uri.getPort();
}

TestClient TestClient::fromStackEnv() {
  return TestClient(EnvFile::loadFixture("eas_stack").get("EAS_URL"));
}

HttpReply TestClient::request(const std::string& method, const std::string& path_and_query,
                              const HeaderList& headers, const std::string& body) const {
  HttpReply reply;
  // Poco throws on transport errors: this is the adapter that converts.
  try {
    Poco::Net::StreamSocket socket;
    if (!source_address_.empty()) socket.impl()->bind(Poco::Net::SocketAddress(source_address_, 0));
    socket.connect(Poco::Net::SocketAddress(host_, static_cast<Poco::UInt16>(port_)),
                   Poco::Timespan(10, 0));
    // Connected already, so the session keeps this socket (and its source
    // address); the Host header is set on the request below.
    Poco::Net::HTTPClientSession session(socket);
    session.setTimeout(Poco::Timespan(30, 0));
    Poco::Net::HTTPRequest req(method, path_and_query, Poco::Net::HTTPMessage::HTTP_1_1);
    req.setHost(host_, static_cast<Poco::UInt16>(port_));
    for (const auto& [k, v] : headers) {
      if (equalsIgnoreCase(k, "content-type")) {
        req.setContentType(v);
      } else {
        req.add(k, v);
      }
    }
    if (!body.empty() || method == "POST") req.setContentLength(static_cast<std::streamsize>(body.size()));
    std::ostream& os = session.sendRequest(req);
    os.write(body.data(), static_cast<std::streamsize>(body.size()));
    Poco::Net::HTTPResponse resp;
    std::istream& is = session.receiveResponse(resp);
    std::ostringstream out;
    Poco::StreamCopier::copyStream(is, out);
    reply.status = static_cast<int>(resp.getStatus());
    for (const auto& [k, v] : resp) reply.headers.emplace_back(k, v);
    reply.body = out.str();
  } catch (const Poco::Exception& e) {
    reply.status = -1;
    reply.error = e.displayText();
  } catch (const std::exception& e) {
    reply.status = -1;
    reply.error = e.what();
  }
  return reply;
}

std::string TestClient::basicAuth(const std::string& user, const std::string& password) {
  return "Basic " + protocol::base64Encode(user + ":" + password);
}

std::string TestClient::percentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string TestClient::plainQuery(const EasRequest& r) {
  std::string q = "Cmd=" + percentEncode(r.cmd) + "&User=" + percentEncode(r.user) +
                  "&DeviceId=" + percentEncode(r.device_id) +
                  "&DeviceType=" + percentEncode(r.device_type);
  if (!r.extra_query.empty()) q += "&" + r.extra_query;
  return q;
}

HttpReply TestClient::options(const std::string& user, const std::string& password) const {
  HeaderList h;
  if (!user.empty()) h.emplace_back("Authorization", basicAuth(user, password));
  return request("OPTIONS", "/Microsoft-Server-ActiveSync", h);
}

HttpReply TestClient::post(const EasRequest& r) const {
  HeaderList h;
  if (r.send_auth) h.emplace_back("Authorization", basicAuth(r.user, r.password));
  if (!r.protocol_version.empty()) h.emplace_back("MS-ASProtocolVersion", r.protocol_version);
  if (!r.policy_key.empty()) h.emplace_back("X-MS-PolicyKey", r.policy_key);
  if (!r.content_type.empty() && !r.body.empty()) h.emplace_back("Content-Type", r.content_type);
  h.emplace_back("User-Agent", "eas-test-client/1.0");
  for (const auto& kv : r.extra_headers) h.push_back(kv);
  const std::string query = r.raw_query ? *r.raw_query : plainQuery(r);
  return request(r.method, r.path + (query.empty() ? "" : "?" + query), h, r.body);
}

HttpReply TestClient::autodiscover(const std::string& user, const std::string& password,
                                   const std::string& body, const std::string& path) const {
  HeaderList h;
  if (!user.empty()) h.emplace_back("Authorization", basicAuth(user, password));
  h.emplace_back("Content-Type", "text/xml");
  return request("POST", path, h, body);
}

std::string TestClient::autodiscoverRequest(const std::string& email) {
  return "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
         "<Autodiscover xmlns=\"http://schemas.microsoft.com/exchange/autodiscover/"
         "mobilesync/requestschema/2006\">\n"
         "  <Request>\n"
         "    <EMailAddress>" + email + "</EMailAddress>\n"
         "    <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/"
         "mobilesync/responseschema/2006</AcceptableResponseSchema>\n"
         "  </Request>\n"
         "</Autodiscover>\n";
}

}  // namespace eas::testing
