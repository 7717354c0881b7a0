// Owners for GMime's C objects, shared by the MIME parser and the message
// builders (compose_mime, draft_mime): a GObject reference released on every
// path, and a g_malloc'd string freed on every path. Internal to core/items.
#pragma once

#include <gmime/gmime.h>

#include <string>
#include <string_view>
#include <utility>

#include "core/items/text_utils.h"

namespace eas::items::gmime {

template <typename T>
class Ref {
 public:
  explicit Ref(T* p = nullptr) : p_(p) {}
  ~Ref() {
    if (p_ != nullptr) g_object_unref(p_);
  }
  Ref(Ref&& o) noexcept : p_(o.p_) { o.p_ = nullptr; }
  Ref& operator=(Ref&& o) noexcept {
    std::swap(p_, o.p_);
    return *this;
  }
  Ref(const Ref&) = delete;
  Ref& operator=(const Ref&) = delete;
  T* get() const { return p_; }
  explicit operator bool() const { return p_ != nullptr; }

 private:
  T* p_;
};

class GFreeString {
 public:
  explicit GFreeString(char* p) : p_(p) {}
  ~GFreeString() { g_free(p_); }
  GFreeString(const GFreeString&) = delete;
  GFreeString& operator=(const GFreeString&) = delete;
  const char* get() const { return p_; }
  std::string str() const { return p_ ? std::string(p_) : std::string(); }

 private:
  char* p_;
};

// A message parsed from bytes with GMime's defaults (the builders' view of
// an original or a previous draft); empty when GMime finds none.
inline Ref<GMimeMessage> parseMessage(std::string_view bytes) {
  ensureGMimeInit();
  Ref<GMimeStream> stream(g_mime_stream_mem_new_with_buffer(bytes.data(), bytes.size()));
  Ref<GMimeParser> parser(g_mime_parser_new_with_stream(stream.get()));
  return Ref<GMimeMessage>(g_mime_parser_construct_message(parser.get(), nullptr));
}

}  // namespace eas::items::gmime
