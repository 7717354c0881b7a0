// ConversationMode in pendingEmailChanges (what Sync and GetItemEstimate
// both use): under a FilterType cutoff, older added mail of a thread that
// has an added message inside the window is kept; the header blocks come in
// one UID FETCH, only when ConversationMode is set and something is older.
#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <vector>

#include "core/backends/mail_backend.h"
#include "core/commands/email_collection.h"
#include "storage/metadata_store.h"
#include "test/unit/core/testing/unsupported_mail_backend.h"

using namespace eas;

namespace {

constexpr std::int64_t kNow = 1796083200;  // 2026-12-01
constexpr std::int64_t kOld = kNow - 60 * 86400;

struct Msg {
  std::string headers;
  std::int64_t internal = kNow;
};

// Only the verbs ConversationMode uses; the rest answer fake.unsupported.
class FakeBackend final : public eas::testing::UnsupportedMailBackend {
 public:
  std::map<std::uint32_t, Msg> msgs;
  std::vector<std::vector<std::uint32_t>> fetches;  // UIDs of every fetchMessages
  std::vector<backend::FetchRequest> requests;
  bool fail_fetch = false;
  std::uint32_t new_from = 0;  // as with CONDSTORE: only UIDs >= this are `added`

  Result<backend::Changes> changesSince(const std::string&, const backend::Watermark&,
                                        const std::vector<backend::KnownItem>& known) override {
    backend::Changes c;
    c.state.uidValidity = 1;
    c.state.uidNext = msgs.empty() ? 1 : msgs.rbegin()->first + 1;
    for (const auto& [uid, m] : msgs) {
      bool is_known = false;
      for (const backend::KnownItem& k : known) is_known = is_known || k.uid == uid;
      if (!is_known && uid >= new_from) c.added.push_back(uid);
    }
    return c;
  }
  Result<std::vector<backend::MessageData>> fetchMessages(const std::string&,
                                                          const std::vector<std::uint32_t>& uids,
                                                          const backend::FetchRequest& what) override {
    fetches.push_back(uids);
    requests.push_back(what);
    if (fail_fetch) return Status::Unavailable("imap.unavailable", "fake down");
    std::vector<backend::MessageData> out;
    for (std::uint32_t uid : uids) {
      auto it = msgs.find(uid);
      if (it == msgs.end()) continue;
      backend::MessageData d;
      d.uid = uid;
      d.internalDate = it->second.internal;
      if (what.headers) d.headers = it->second.headers;
      out.push_back(std::move(d));
    }
    return out;
  }
  Result<std::vector<std::uint32_t>> searchMessages(const std::string&,
                                                    const backend::SearchCriteria& c) override {
    std::vector<std::uint32_t> out;
    for (const auto& [uid, m] : msgs)
      if ((!c.since || m.internal >= *c.since) && (!c.before || m.internal < *c.before))
        out.push_back(uid);
    return out;
  }
};

std::string hdr(const std::string& subject, const std::string& id, const std::string& refs = {},
                const std::string& irt = {}) {
  std::string h = "From: bob@example.test\r\nSubject: " + subject + "\r\n";
  if (!id.empty()) h += "Message-ID: <" + id + ">\r\n";
  if (!refs.empty()) h += "References: " + refs + "\r\n";
  if (!irt.empty()) h += "In-Reply-To: " + irt + "\r\n";
  return h + "\r\n";
}

std::vector<std::uint32_t> added(FakeBackend& b, bool conversation_mode,
                                 std::optional<std::int64_t> cutoff,
                                 const storage::SyncState& state = {}) {
  auto c = commands::pendingEmailChanges(b, "INBOX", state, cutoff, conversation_mode);
  REQUIRE(c.ok());
  return c->added;
}

using Uids = std::vector<std::uint32_t>;

}  // namespace

TEST_CASE("a reply inside the window pulls its older original in, once", "[conversation]") {
  FakeBackend b;
  b.msgs[1] = {hdr("Plans", "orig@example.test"), kOld};
  b.msgs[2] = {hdr("Unrelated", "other@example.test"), kOld};
  b.msgs[3] = {hdr("Re: Plans", "reply@example.test", "<orig@example.test>"), kNow - 3600};
  b.msgs[4] = {hdr("Re: Plans", "reply2@example.test", "<orig@example.test> <reply@example.test>"),
               kNow - 60};
  const auto cutoff = commands::emailFilterCutoff(3, kNow);

  SECTION("without ConversationMode only the window") {
    CHECK(added(b, false, cutoff) == Uids{3, 4});
    CHECK(b.fetches.empty());
  }
  SECTION("with it the original too, from one header-only fetch") {
    CHECK(added(b, true, cutoff) == Uids{1, 3, 4});
    REQUIRE(b.fetches.size() == 1);
    CHECK(b.fetches[0] == Uids{1, 2, 3, 4});
    CHECK(b.requests[0].headers);
    CHECK_FALSE(b.requests[0].envelope);
    CHECK_FALSE(b.requests[0].bodyStructure);
    CHECK(b.requests[0].sections.empty());
  }
  SECTION("the device already holds the original: not sent again") {
    storage::SyncState state;
    state.watermark.uidvalidity = 1;
    storage::ItemEntry e;
    e.server_id = "1:1";
    e.backend_id = "1";
    state.items.push_back(e);
    CHECK(added(b, true, cutoff, state) == Uids{3, 4});
  }
}

TEST_CASE("threads found through In-Reply-To alone", "[conversation]") {
  FakeBackend b;
  b.msgs[5] = {hdr("Question", "q@example.test"), kOld};
  b.msgs[6] = {hdr("Re: Question", "a@example.test", "", "<q@example.test>"), kNow};
  CHECK(added(b, true, commands::emailFilterCutoff(1, kNow)) == Uids{5, 6});
}

TEST_CASE("ConversationMode changes nothing without a FilterType or with nothing older",
          "[conversation]") {
  FakeBackend b;
  b.msgs[1] = {hdr("Plans", "orig@example.test"), kOld};
  b.msgs[2] = {hdr("Re: Plans", "reply@example.test", "<orig@example.test>"), kNow};
  CHECK(added(b, true, std::nullopt) == Uids{1, 2});
  CHECK(b.fetches.empty());
  b.msgs.erase(1);
  CHECK(added(b, true, commands::emailFilterCutoff(3, kNow)) == Uids{2});
  CHECK(b.fetches.empty());
  // Everything older, nothing in the window: nothing to pull a thread in by.
  b.msgs[2].internal = kOld;
  CHECK(added(b, true, commands::emailFilterCutoff(3, kNow)).empty());
  CHECK(b.fetches.empty());
}

TEST_CASE("a failed header fetch is the backend's error", "[conversation]") {
  FakeBackend b;
  b.msgs[1] = {hdr("Plans", "orig@example.test"), kOld};
  b.msgs[2] = {hdr("Re: Plans", "reply@example.test", "<orig@example.test>"), kNow};
  b.fail_fetch = true;
  auto c = commands::pendingEmailChanges(b, "INBOX", {}, commands::emailFilterCutoff(3, kNow), true);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().reason() == "imap.unavailable");
}

TEST_CASE("a new reply alone in `added` (CONDSTORE) still pulls its old original in",
          "[conversation]") {
  FakeBackend b;
  b.msgs[1] = {hdr("Plans", "orig@example.test"), kOld};
  b.msgs[2] = {hdr("Unrelated", "other@example.test"), kOld};
  b.msgs[3] = {hdr("Re: Plans", "reply@example.test", "<orig@example.test>"), kNow};
  b.new_from = 3;  // 1 and 2 were left out by an earlier Sync and are unchanged since
  const auto cutoff = commands::emailFilterCutoff(3, kNow);
  CHECK(added(b, false, cutoff) == Uids{3});
  CHECK(added(b, true, cutoff) == Uids{1, 3});
  REQUIRE(b.fetches.size() == 1);
  CHECK(b.fetches[0] == Uids{1, 2, 3});
}
