// easctl notices ...: the queue of notice mails (policies/notices) — list it,
// or send it now (what the workers do every [smtp] notice_interval_seconds;
// for a server that runs them with notice_interval_seconds = 0, from cron).
#include <charconv>
#include <ctime>
#include <ostream>

#include "core/backends/smtp/smtp_submitter.h"
#include "policies/easctl/easctl.h"
#include "policies/easctl/output.h"
#include "policies/easctl/store_option.h"
#include "policies/notices/notice_mailer.h"

namespace eas::easctl {
namespace {

std::string isoTime(int64_t t) {
  const std::time_t tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string oneLine(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(c == '\n' ? ';' : c);
  if (!out.empty() && out.back() == ';') out.pop_back();
  return out;
}

int noticesList(const Args& args, Io& io) {
  int code = kExitFailed;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto pending = store->pendingNotices(100000);
  if (!pending.ok()) return failed(io, "listing notices", pending.status());
  Table t{{"id", "user", "device", "kind", "queued", "fields"}, {}};
  for (const storage::Notice& n : *pending)
    t.rows.push_back({std::to_string(n.id), n.ref.user, n.ref.device_id, n.kind,
                      isoTime(n.created_at), oneLine(n.payload)});
  if (args.has("json"))
    printJson(io.out, t);
  else
    printTable(io.out, t);
  return kExitOk;
}

int noticesSend(const Args& args, Io& io) {
  backend::smtp::SmtpOptions smtp;
  if (!args.get("smtp-host").empty()) smtp.host = args.get("smtp-host");
  if (!args.get("smtp-port").empty()) {
    const std::string p = args.get("smtp-port");
    int port = 0;
    auto [ptr, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || ptr != p.data() + p.size() || port < 1 || port > 65535)
      return usage(io, "--smtp-port must be 1..65535, not '" + p + "'");
    smtp.port = port;
  }
  policies::NoticeMailerConfig config;
  if (!args.get("from").empty()) config.from = args.get("from");
  config.admin_address = args.get("admin");
  config.template_dir = args.get("templates");
  config.lock_file = args.get("lock");
  int code = kExitFailed;
  auto store = openStoreOption(args, io, &code);
  if (!store) return code;
  auto submitter = backend::smtp::makeSmtpSubmitter(smtp);
  policies::NoticeMailer mailer(*store, *submitter, config);
  auto report = mailer.drainOnce();
  if (!report.ok()) return failed(io, "sending notices", report.status());
  if (report->locked_out) {
    io.err << "easctl: another process is sending notices (lock " << config.lock_file
           << " held); nothing done\n";
    return kExitFailed;
  }
  io.out << report->sent << " sent, " << report->dropped << " dropped, " << report->kept
         << " kept for later\n";
  return report->kept > 0 ? kExitFailed : kExitOk;
}

}  // namespace

CommandGroup noticesCommands() {
  return {"notices",
          "notice mails to users (quarantine, policy not accepted, wipe confirmation, folder "
          "push request)",
          {
              {"list", "--store URL [--json]", "the queued notices, oldest first", {"store"},
               {"json"}, noticesList},
              {"send",
               "--store URL [--smtp-host H] [--smtp-port P] [--from ADDR] [--admin ADDR] "
               "[--templates DIR] [--lock FILE]",
               "send the queue now (as the workers do; use the same --lock as their [smtp] "
               "notice_lock_file to never send alongside them); exit 1 if some stay queued",
               {"store", "smtp-host", "smtp-port", "from", "admin", "templates", "lock"}, {},
               noticesSend},
          }};
}

}  // namespace eas::easctl
