#include "policies/notices/notice_mailer.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <map>

#include "core/base/log.h"

namespace eas::policies {
namespace {

std::string oneLine(std::string_view v) {
  std::string out;
  for (char c : v) out.push_back(c == '\r' || c == '\n' ? ' ' : c);
  return out;
}

// RFC 5322 date-time in UTC.
std::string rfc5322Date(int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S +0000", &tm);
  return buf;
}

std::string base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const unsigned v = (static_cast<unsigned char>(in[i]) << 16) |
                       (static_cast<unsigned char>(in[i + 1]) << 8) |
                       static_cast<unsigned char>(in[i + 2]);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kAlphabet[(v >> s) & 63]);
  }
  if (i < in.size()) {
    unsigned v = static_cast<unsigned char>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<unsigned char>(in[i + 1]) << 8;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// RFC 2047 for a subject that is not plain ASCII.
std::string encodeSubject(const std::string& subject) {
  bool ascii = true;
  for (unsigned char c : subject) ascii = ascii && c >= 0x20 && c < 0x7f;
  if (ascii) return subject;
  return "=?UTF-8?B?" + base64(subject) + "?=";
}

std::string crlf(std::string_view body) {
  std::string out;
  out.reserve(body.size() + body.size() / 40);
  for (size_t i = 0; i < body.size(); ++i) {
    if (body[i] == '\r') continue;
    if (body[i] == '\n') out += "\r\n";
    else out.push_back(body[i]);
  }
  if (out.size() < 2 || out.compare(out.size() - 2, 2, "\r\n") != 0) out += "\r\n";
  return out;
}

std::map<std::string, std::string> parsePayload(std::string_view payload) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < payload.size()) {
    size_t nl = payload.find('\n', pos);
    if (nl == std::string_view::npos) nl = payload.size();
    const std::string_view line = payload.substr(pos, nl - pos);
    pos = nl + 1;
    const size_t eq = line.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

bool ccAdmin(std::string_view kind) {
  return kind == "wipe_confirmation" || kind == "policy_rejected";
}

// An exclusive, non-blocking flock for one round; released on destruction.
class RoundLock {
 public:
  explicit RoundLock(const std::string& path) {
    if (path.empty()) {
      held_ = true;
      return;
    }
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0) {
      error_ = "cannot open " + path;
      return;
    }
    held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
  }
  ~RoundLock() {
    if (fd_ >= 0) {
      if (held_) ::flock(fd_, LOCK_UN);
      ::close(fd_);
    }
  }
  bool held() const { return held_; }
  const std::string& error() const { return error_; }

 private:
  int fd_ = -1;
  bool held_ = false;
  std::string error_;
};

}  // namespace

Result<RenderedNotice> renderNotice(const storage::Notice& notice, const storage::Device* device,
                                    const NoticeMailerConfig& config) {
  auto tpl = loadNoticeTemplate(config.template_dir, notice.kind);
  if (!tpl.ok()) return tpl.status();
  const std::string& user = notice.ref.user;
  if (user.find('@') == std::string::npos || user.size() < 3)
    return Status::InvalidArgument("notice.no_recipient", "login '" + user + "' is no address");

  std::map<std::string, std::string> v = parsePayload(notice.payload);
  v["user"] = user;
  v["device_id"] = notice.ref.device_id;
  v["date"] = rfc5322Date(notice.created_at);
  v["admin"] = config.admin_address;
  v["admin_hint"] = config.admin_address.empty() ? "" : " (" + config.admin_address + ")";
  v["folder_hint"] = v.count("folder") && !v["folder"].empty() ? " (folder " + v["folder"] + ")" : "";
  if (device) {
    v["device_type"] = device->device_type;
    v["model"] = device->model;
    v["friendly_name"] = device->friendly_name;
    v["os"] = device->os;
    v["imei"] = device->imei;
    v["phone_number"] = device->phone_number;
    v["user_agent"] = device->user_agent;
  }

  for (auto& [k, value] : v) value = oneLine(value);  // every field is one line
  RenderedNotice r;
  r.subject = oneLine(fillPlaceholders(tpl->subject, v));
  r.to.push_back(oneLine(user));
  if (ccAdmin(notice.kind) && !config.admin_address.empty())
    r.cc.push_back(oneLine(config.admin_address));
  std::string m;
  m += "From: " + oneLine(config.from) + "\r\n";
  m += "To: " + r.to.front() + "\r\n";
  if (!r.cc.empty()) m += "Cc: " + r.cc.front() + "\r\n";
  m += "Subject: " + encodeSubject(r.subject) + "\r\n";
  m += "Date: " + rfc5322Date(notice.created_at) + "\r\n";
  const std::string from = oneLine(config.from);
  const size_t at = from.rfind('@');
  m += "Message-ID: <notice-" + std::to_string(notice.id) + "-" +
       std::to_string(notice.created_at) + "@" +
       (at == std::string::npos ? std::string("eas-fcgi") : from.substr(at + 1)) + ">\r\n";
  m += "Auto-Submitted: auto-generated\r\n";  // RFC 3834: no vacation replies to this
  m += "MIME-Version: 1.0\r\n";
  m += "Content-Type: text/plain; charset=UTF-8\r\n";
  m += "Content-Transfer-Encoding: 8bit\r\n\r\n";
  m += crlf(fillPlaceholders(tpl->body, v));
  r.message = std::move(m);
  return r;
}

NoticeMailer::NoticeMailer(storage::MetadataStore& store, backend::MailSubmitter& submitter,
                           NoticeMailerConfig config)
    : store_(store), submitter_(submitter), config_(std::move(config)) {}

Result<DrainReport> NoticeMailer::drainOnce() {
  DrainReport report;
  RoundLock lock(config_.lock_file);
  if (!lock.error().empty()) return Status::Unavailable("notice.lock", lock.error());
  if (!lock.held()) {
    report.locked_out = true;
    return report;
  }
  auto pending = store_.pendingNotices(config_.batch);
  if (!pending.ok()) return pending.status();
  for (const storage::Notice& n : *pending) {
    auto device = store_.findDevice(n.ref);
    if (!device.ok() && !device.status().isNotFound()) return device.status();
    auto mail = renderNotice(n, device.ok() ? &device.value() : nullptr, config_);
    if (!mail.ok()) {
      log::warn("notices: dropping notice " + std::to_string(n.id) + " (" + n.kind + ") for " +
                n.ref.user + ": " + mail.status().toString());
      if (Status s = store_.removeNotice(n.id); !s.ok() && !s.isNotFound()) return s;
      ++report.dropped;
      continue;
    }
    backend::Submission sub;
    sub.envelope_from = oneLine(config_.from);
    sub.recipients = mail->to;
    sub.recipients.insert(sub.recipients.end(), mail->cc.begin(), mail->cc.end());
    sub.message = std::move(mail->message);
    const Status st = submitter_.submit(sub);
    if (st.ok() || st.reason() == "smtp.rejected" || st.reason() == "smtp.too_large") {
      if (!st.ok())
        log::warn("notices: SMTP refused notice " + std::to_string(n.id) + " (" + n.kind +
                  ") for " + n.ref.user + " for good: " + st.toString());
      // Removed after the server's answer; not found: another host sent it too.
      if (Status s = store_.removeNotice(n.id); !s.ok() && !s.isNotFound()) return s;
      ++(st.ok() ? report.sent : report.dropped);
      if (st.ok())
        log::info("notices: sent " + n.kind + " to " + n.ref.user +
                  (mail->cc.empty() ? "" : " cc " + mail->cc.front()));
      continue;
    }
    log::warn("notices: keeping " + std::to_string(pending->size() - report.sent - report.dropped) +
              " notice(s) for later: " + st.toString());
    report.kept = static_cast<int>(pending->size()) - report.sent - report.dropped;
    break;
  }
  return report;
}

NoticeMailerThread::NoticeMailerThread(NoticeMailer mailer, int64_t interval_ms)
    : mailer_(std::move(mailer)), interval_ms_(interval_ms), thread_([this] { run(); }) {}

NoticeMailerThread::~NoticeMailerThread() {
  {
    std::lock_guard<std::mutex> g(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

int NoticeMailerThread::rounds() const {
  std::lock_guard<std::mutex> g(mu_);
  return rounds_;
}

void NoticeMailerThread::run() {
  std::string last_error;  // a failure is logged when it starts, not every round
  std::unique_lock<std::mutex> lk(mu_);
  while (!stop_) {
    lk.unlock();
    auto r = mailer_.drainOnce();
    const std::string error = r.ok() ? std::string() : r.status().toString();
    if (!error.empty() && error != last_error) log::warn("notices: round failed: " + error);
    if (error.empty() && !last_error.empty()) log::info("notices: rounds work again");
    last_error = error;
    lk.lock();
    ++rounds_;
    cv_.wait_for(lk, std::chrono::milliseconds(interval_ms_), [this] { return stop_; });
  }
}

}  // namespace eas::policies
