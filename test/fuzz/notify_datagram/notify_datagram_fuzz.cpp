// libFuzzer target for the eas-notifyd datagram decoder. Each input is
// decoded twice: as received (almost always stopped by the MAC), and with
// its last 32 bytes replaced by the right MAC, so that the field parser
// behind the authentication is fuzzed too. A datagram that decodes must
// re-encode to the same bytes, and the replay guard must take it.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "fcgi/notify/notify_datagram.h"

namespace {
const std::string kSecret = "fuzz-secret-0123456789";
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace n = eas::notify;
  const std::string in(reinterpret_cast<const char*>(data), size);
  (void)n::decodeDatagram(in, kSecret);
  if (size < n::kMacBytes) return 0;
  std::string resigned = in.substr(0, size - n::kMacBytes);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(resigned.data()), resigned.size(), mac, &len);
  resigned.append(reinterpret_cast<const char*>(mac), len);
  auto d = n::decodeDatagram(resigned, kSecret);
  if (!d.ok()) return 0;
  auto again = n::encodeDatagram(d->event, d->timestamp, d->nonce, kSecret);
  if (!again.ok() || *again != resigned) std::abort();  // decode accepted what encode refuses
  n::ReplayGuard guard(60, 4);
  if (!guard.admit(*d, d->timestamp).ok()) std::abort();
  if (guard.admit(*d, d->timestamp).ok()) std::abort();  // the same nonce twice
  return 0;
}
