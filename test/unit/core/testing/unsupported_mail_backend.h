// A MailBackend whose every verb answers fake.unsupported: unit-test fakes
// derive from it and override only the verbs their test drives, so a new
// backend verb is added here once, not to every fake.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/backends/mail_backend.h"

namespace eas::testing {

class UnsupportedMailBackend : public backend::MailBackend {
 public:
  Result<std::vector<backend::FolderInfo>> listFolders() override { return no(); }
  Result<backend::FolderState> folderState(const std::string&) override { return no(); }
  Result<backend::Changes> changesSince(const std::string&, const backend::Watermark&,
                                        const std::vector<backend::KnownItem>&) override {
    return no();
  }
  Result<std::vector<backend::MessageData>> fetchMessages(const std::string&,
                                                          const std::vector<std::uint32_t>&,
                                                          const backend::FetchRequest&) override {
    return no();
  }
  Result<std::string> fetchPart(const std::string&, std::uint32_t, const std::string&, std::uint32_t,
                                std::optional<std::uint32_t>) override {
    return no();
  }
  Result<std::string> fetchFullMessage(const std::string&, std::uint32_t) override { return no(); }
  Result<std::vector<std::uint32_t>> searchMessages(const std::string&,
                                                    const backend::SearchCriteria&) override {
    return no();
  }
  Status setFlags(const std::string&, const std::vector<std::uint32_t>&, std::uint32_t) override {
    return no();
  }
  Status clearFlags(const std::string&, const std::vector<std::uint32_t>&, std::uint32_t) override {
    return no();
  }
  Status setKeywords(const std::string&, const std::vector<std::uint32_t>&,
                     const std::vector<std::string>&, const std::vector<std::string>&) override {
    return no();
  }
  Result<std::vector<std::uint32_t>> moveMessages(const std::string&, const std::vector<std::uint32_t>&,
                                                  const std::string&) override {
    return no();
  }
  Status deleteMessages(const std::string&, const std::vector<std::uint32_t>&) override { return no(); }
  Result<std::uint32_t> appendMessage(const std::string&, std::string_view, std::uint32_t) override {
    return no();
  }
  Status createFolder(const std::string&) override { return no(); }
  Status renameFolder(const std::string&, const std::string&) override { return no(); }
  Status deleteFolder(const std::string&) override { return no(); }

 protected:
  static Status no() { return Status::NotSupported("fake.unsupported", "not scripted in this test"); }
};

}  // namespace eas::testing
