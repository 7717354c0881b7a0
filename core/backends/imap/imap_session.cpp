#include "core/backends/imap/imap_session.h"

#include <libetpan/libetpan.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>

#include "core/backends/imap/imap_util.h"
#include "core/base/log.h"

namespace eas::backend::imap {
namespace {

// --- small RAII for libetpan objects -------------------------------------

template <typename T, void (*F)(T*)>
struct Owned {
  T* p = nullptr;
  Owned() = default;
  explicit Owned(T* v) : p(v) {}
  ~Owned() { if (p != nullptr) F(p); }
  Owned(const Owned&) = delete;
  Owned& operator=(const Owned&) = delete;
  T* release() { T* v = p; p = nullptr; return v; }
  T* get() const { return p; }
};
using SetPtr = Owned<mailimap_set, mailimap_set_free>;
using FetchTypePtr = Owned<mailimap_fetch_type, mailimap_fetch_type_free>;

struct FetchList {
  clist* list = nullptr;
  ~FetchList() { if (list != nullptr) mailimap_fetch_list_free(list); }
};

std::string str(const char* s) { return s != nullptr ? std::string(s) : std::string(); }
std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool connectedOk(int r) {
  return r == MAILIMAP_NO_ERROR || r == MAILIMAP_NO_ERROR_AUTHENTICATED ||
         r == MAILIMAP_NO_ERROR_NON_AUTHENTICATED;
}

mailimap_set* makeSet(const std::vector<std::uint32_t>& uids) {
  mailimap_set* set = mailimap_set_new_empty();
  if (set == nullptr) return nullptr;
  for (const auto& [a, b] : uidRanges(uids)) {
    if (mailimap_set_add_interval(set, a, b) != MAILIMAP_NO_ERROR) {
      mailimap_set_free(set);
      return nullptr;
    }
  }
  return set;
}

// Ranges of a set the server sent; 0 as an upper bound (*) becomes UINT32_MAX.
std::vector<std::pair<std::uint32_t, std::uint32_t>> setRanges(const mailimap_set* set) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> out;
  if (set == nullptr || set->set_list == nullptr) return out;
  for (clistiter* it = clist_begin(set->set_list); it != nullptr; it = clist_next(it)) {
    auto* item = static_cast<mailimap_set_item*>(clist_content(it));
    std::uint32_t a = item->set_first, b = item->set_last;
    if (a == 0) a = UINT32_MAX;
    if (b == 0) b = UINT32_MAX;
    if (a > b) std::swap(a, b);
    out.emplace_back(a, b);
  }
  return out;
}

std::vector<std::uint32_t> expandSet(const mailimap_set* set, std::size_t limit) {
  std::vector<std::uint32_t> out;
  for (const auto& [a, b] : setRanges(set)) {
    for (std::uint64_t u = a; u <= b && out.size() < limit; ++u) out.push_back(static_cast<std::uint32_t>(u));
  }
  return out;
}

mailimap_flag_list* makeFlagList(std::uint32_t bits) {
  mailimap_flag_list* list = mailimap_flag_list_new_empty();
  if (list == nullptr) return nullptr;
  auto add = [list](mailimap_flag* f) {
    if (f == nullptr || mailimap_flag_list_add(list, f) != MAILIMAP_NO_ERROR) {
      if (f != nullptr) mailimap_flag_free(f);
      return false;
    }
    return true;
  };
  bool ok = true;
  if (bits & kFlagSeen) ok = ok && add(mailimap_flag_new_seen());
  if (bits & kFlagFlagged) ok = ok && add(mailimap_flag_new_flagged());
  if (bits & kFlagAnswered) ok = ok && add(mailimap_flag_new_answered());
  if (bits & kFlagDeleted) ok = ok && add(mailimap_flag_new_deleted());
  if (bits & kFlagDraft) ok = ok && add(mailimap_flag_new_draft());
  if (bits & kFlagForwarded) ok = ok && add(mailimap_flag_new_flag_keyword(::strdup("$Forwarded")));
  if (!ok) {
    mailimap_flag_list_free(list);
    return nullptr;
  }
  return list;
}

// --- conversions from libetpan's parse tree --------------------------------

void readFlags(const mailimap_msg_att_dynamic* dyn, std::uint32_t& bits,
               std::vector<std::string>& keywords) {
  bits = 0;
  keywords.clear();
  if (dyn == nullptr || dyn->att_list == nullptr) return;
  for (clistiter* it = clist_begin(dyn->att_list); it != nullptr; it = clist_next(it)) {
    auto* ff = static_cast<mailimap_flag_fetch*>(clist_content(it));
    if (ff->fl_type != MAILIMAP_FLAG_FETCH_OTHER || ff->fl_flag == nullptr) continue;
    const mailimap_flag* f = ff->fl_flag;
    switch (f->fl_type) {
      case MAILIMAP_FLAG_SEEN: bits |= kFlagSeen; break;
      case MAILIMAP_FLAG_FLAGGED: bits |= kFlagFlagged; break;
      case MAILIMAP_FLAG_ANSWERED: bits |= kFlagAnswered; break;
      case MAILIMAP_FLAG_DELETED: bits |= kFlagDeleted; break;
      case MAILIMAP_FLAG_DRAFT: bits |= kFlagDraft; break;
      case MAILIMAP_FLAG_KEYWORD: {
        const std::string kw = str(f->fl_data.fl_keyword);
        const std::uint32_t bit = flagBit(kw);
        if (bit != 0) bits |= bit; else if (!kw.empty()) keywords.push_back(kw);
        break;
      }
      default: break;  // \Recent, extension flags
    }
  }
}

std::int64_t toUnix(const mailimap_date_time* dt) {
  if (dt == nullptr) return 0;
  std::tm tm{};
  tm.tm_year = dt->dt_year - 1900;
  tm.tm_mon = dt->dt_month - 1;
  tm.tm_mday = dt->dt_day;
  tm.tm_hour = dt->dt_hour;
  tm.tm_min = dt->dt_min;
  tm.tm_sec = dt->dt_sec;
  // dt_zone is the zone as written, e.g. -0500 -> -500.
  const int zone = dt->dt_zone;
  const int offsetMinutes = (zone / 100) * 60 + zone % 100;
  return static_cast<std::int64_t>(timegm(&tm)) - offsetMinutes * 60;
}

std::vector<Address> addresses(const clist* list) {
  std::vector<Address> out;
  if (list == nullptr) return out;
  for (clistiter* it = clist_begin(const_cast<clist*>(list)); it != nullptr; it = clist_next(it)) {
    auto* a = static_cast<mailimap_address*>(clist_content(it));
    out.push_back({str(a->ad_personal_name), str(a->ad_mailbox_name), str(a->ad_host_name)});
  }
  return out;
}

Envelope envelope(const mailimap_envelope* e) {
  Envelope out;
  if (e == nullptr) return out;
  out.date = str(e->env_date);
  out.subject = str(e->env_subject);
  out.inReplyTo = str(e->env_in_reply_to);
  out.messageId = str(e->env_message_id);
  if (e->env_from) out.from = addresses(e->env_from->frm_list);
  if (e->env_sender) out.sender = addresses(e->env_sender->snd_list);
  if (e->env_reply_to) out.replyTo = addresses(e->env_reply_to->rt_list);
  if (e->env_to) out.to = addresses(e->env_to->to_list);
  if (e->env_cc) out.cc = addresses(e->env_cc->cc_list);
  if (e->env_bcc) out.bcc = addresses(e->env_bcc->bcc_list);
  return out;
}

std::vector<std::pair<std::string, std::string>> params(const mailimap_body_fld_param* p) {
  std::vector<std::pair<std::string, std::string>> out;
  if (p == nullptr || p->pa_list == nullptr) return out;
  for (clistiter* it = clist_begin(p->pa_list); it != nullptr; it = clist_next(it)) {
    auto* sp = static_cast<mailimap_single_body_fld_param*>(clist_content(it));
    out.emplace_back(lower(str(sp->pa_name)), str(sp->pa_value));
  }
  return out;
}

void fields(const mailimap_body_fields* f, BodyPart& part) {
  if (f == nullptr) return;
  part.params = params(f->bd_parameter);
  part.id = str(f->bd_id);
  part.description = str(f->bd_description);
  part.size = f->bd_size;
  if (f->bd_encoding != nullptr) {
    switch (f->bd_encoding->enc_type) {
      case MAILIMAP_BODY_FLD_ENC_7BIT: part.encoding = "7bit"; break;
      case MAILIMAP_BODY_FLD_ENC_8BIT: part.encoding = "8bit"; break;
      case MAILIMAP_BODY_FLD_ENC_BINARY: part.encoding = "binary"; break;
      case MAILIMAP_BODY_FLD_ENC_BASE64: part.encoding = "base64"; break;
      case MAILIMAP_BODY_FLD_ENC_QUOTED_PRINTABLE: part.encoding = "quoted-printable"; break;
      default: part.encoding = lower(str(f->bd_encoding->enc_value)); break;
    }
  }
}

void disposition(const mailimap_body_fld_dsp* d, BodyPart& part) {
  if (d == nullptr) return;
  part.disposition = lower(str(d->dsp_type));
  part.dispositionParams = params(d->dsp_attributes);
}

std::string childSection(const std::string& prefix, std::size_t index) {
  return prefix.empty() ? std::to_string(index) : prefix + "." + std::to_string(index);
}

// `section` is this node's part number; `prefix` is what its children extend
// (differs for the root: a single-part message is "1", its children none).
BodyPart bodyPart(const mailimap_body* b, const std::string& section, int depth) {
  BodyPart part;
  part.section = section;
  if (b == nullptr || depth > 64) return part;
  if (b->bd_type == MAILIMAP_BODY_MPART && b->bd_data.bd_body_mpart != nullptr) {
    const mailimap_body_type_mpart* m = b->bd_data.bd_body_mpart;
    part.type = "multipart";
    part.subtype = lower(str(m->bd_media_subtype));
    if (m->bd_ext_mpart != nullptr) {
      part.params = params(m->bd_ext_mpart->bd_parameter);
      disposition(m->bd_ext_mpart->bd_disposition, part);
    }
    // A multipart node has no part number of its own at the root ("");
    // nested, its children extend its number.
    std::size_t i = 1;
    for (clistiter* it = clist_begin(m->bd_list); it != nullptr; it = clist_next(it), ++i) {
      part.children.push_back(
          bodyPart(static_cast<mailimap_body*>(clist_content(it)), childSection(section, i), depth + 1));
    }
    return part;
  }
  if (b->bd_type != MAILIMAP_BODY_1PART || b->bd_data.bd_body_1part == nullptr) return part;
  const mailimap_body_type_1part* one = b->bd_data.bd_body_1part;
  if (part.section.empty()) part.section = "1";  // a single-part message's body is part 1
  switch (one->bd_type) {
    case MAILIMAP_BODY_TYPE_1PART_BASIC: {
      const mailimap_body_type_basic* basic = one->bd_data.bd_type_basic;
      const mailimap_media_basic* media = basic->bd_media_basic;
      switch (media->med_type) {
        case MAILIMAP_MEDIA_BASIC_APPLICATION: part.type = "application"; break;
        case MAILIMAP_MEDIA_BASIC_AUDIO: part.type = "audio"; break;
        case MAILIMAP_MEDIA_BASIC_IMAGE: part.type = "image"; break;
        case MAILIMAP_MEDIA_BASIC_MESSAGE: part.type = "message"; break;
        case MAILIMAP_MEDIA_BASIC_VIDEO: part.type = "video"; break;
        default: part.type = lower(str(media->med_basic_type)); break;
      }
      part.subtype = lower(str(media->med_subtype));
      fields(basic->bd_fields, part);
      break;
    }
    case MAILIMAP_BODY_TYPE_1PART_TEXT: {
      const mailimap_body_type_text* text = one->bd_data.bd_type_text;
      part.type = "text";
      part.subtype = lower(str(text->bd_media_text));
      fields(text->bd_fields, part);
      part.lines = text->bd_lines;
      break;
    }
    case MAILIMAP_BODY_TYPE_1PART_MSG: {
      const mailimap_body_type_msg* msg = one->bd_data.bd_type_msg;
      part.type = "message";
      part.subtype = "rfc822";
      fields(msg->bd_fields, part);
      part.lines = msg->bd_lines;
      // The embedded message's body: a multipart's children are N.1, N.2;
      // a single part is N.1.
      BodyPart inner = bodyPart(msg->bd_body, part.section, depth + 1);
      if (!inner.isMultipart()) inner.section = part.section + ".1";
      part.children.push_back(std::move(inner));
      break;
    }
    default: break;
  }
  if (one->bd_ext_1part != nullptr) disposition(one->bd_ext_1part->bd_disposition, part);
  return part;
}

std::optional<Section> sectionOf(const mailimap_section* s) {
  Section out;
  if (s == nullptr || s->sec_spec == nullptr) return out;
  const mailimap_section_spec* spec = s->sec_spec;
  auto msgtextKind = [](const mailimap_section_msgtext* t) -> std::optional<Section::Kind> {
    if (t == nullptr) return std::nullopt;
    if (t->sec_type == MAILIMAP_SECTION_MSGTEXT_HEADER) return Section::Kind::kHeader;
    if (t->sec_type == MAILIMAP_SECTION_MSGTEXT_TEXT) return Section::Kind::kText;
    return std::nullopt;
  };
  if (spec->sec_type == MAILIMAP_SECTION_SPEC_SECTION_MSGTEXT) {
    auto k = msgtextKind(spec->sec_data.sec_msgtext);
    if (!k) return std::nullopt;
    out.kind = *k;
    return out;
  }
  if (spec->sec_data.sec_part != nullptr && spec->sec_data.sec_part->sec_id != nullptr) {
    for (clistiter* it = clist_begin(spec->sec_data.sec_part->sec_id); it != nullptr; it = clist_next(it))
      out.part.push_back(*static_cast<std::uint32_t*>(clist_content(it)));
  }
  out.kind = Section::Kind::kPart;
  if (spec->sec_text != nullptr) {
    if (spec->sec_text->sec_type == MAILIMAP_SECTION_TEXT_MIME) {
      out.kind = Section::Kind::kMime;
    } else {
      auto k = msgtextKind(spec->sec_text->sec_msgtext);
      if (!k) return std::nullopt;
      out.kind = *k;
    }
  }
  return out;
}

void freeIds(clist* ids) {
  for (clistiter* it = clist_begin(ids); it != nullptr; it = clist_next(it)) std::free(clist_content(it));
  clist_free(ids);
}

mailimap_section* makeSection(const Section& s) {
  if (s.kind == Section::Kind::kAll) return mailimap_section_new(nullptr);
  if (s.part.empty()) {
    return s.kind == Section::Kind::kHeader ? mailimap_section_new_header()
                                            : mailimap_section_new_text();
  }
  clist* ids = clist_new();
  if (ids == nullptr) return nullptr;
  for (std::uint32_t n : s.part) {
    auto* v = static_cast<std::uint32_t*>(std::malloc(sizeof(std::uint32_t)));
    if (v == nullptr || clist_append(ids, v) != 0) {
      std::free(v);
      freeIds(ids);
      return nullptr;
    }
    *v = n;
  }
  mailimap_section_part* part = mailimap_section_part_new(ids);
  if (part == nullptr) {
    freeIds(ids);
    return nullptr;
  }
  mailimap_section* sec = nullptr;
  switch (s.kind) {
    case Section::Kind::kPart: sec = mailimap_section_new_part(part); break;
    case Section::Kind::kMime: sec = mailimap_section_new_part_mime(part); break;
    case Section::Kind::kHeader: sec = mailimap_section_new_part_header(part); break;
    case Section::Kind::kText: sec = mailimap_section_new_part_text(part); break;
    case Section::Kind::kAll: break;
  }
  if (sec == nullptr) mailimap_section_part_free(part);
  return sec;
}

bool addAtt(mailimap_fetch_type* type, mailimap_fetch_att* att) {
  if (att == nullptr) return false;
  if (mailimap_fetch_type_new_fetch_att_list_add(type, att) != MAILIMAP_NO_ERROR) {
    mailimap_fetch_att_free(att);
    return false;
  }
  return true;
}

bool addSection(mailimap_fetch_type* type, const Section& s, std::uint32_t offset,
                std::optional<std::uint32_t> length) {
  mailimap_section* sec = makeSection(s);
  if (sec == nullptr) return false;
  mailimap_fetch_att* att = nullptr;
  if (offset == 0 && !length) {
    att = mailimap_fetch_att_new_body_peek_section(sec);
  } else {
    const std::uint32_t len = length ? *length : UINT32_MAX - offset;
    att = mailimap_fetch_att_new_body_peek_section_partial(sec, offset, len);
  }
  if (att == nullptr) {
    mailimap_section_free(sec);
    return false;
  }
  return addAtt(type, att);
}

// --- TLS peer check (libetpan on Debian uses GnuTLS and verifies nothing) --

bool isIpLiteral(const std::string& host) {
  unsigned char buf[16];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

void sniCallback(struct mailstream_ssl_context* ctx, void* data) {
  const auto* host = static_cast<const std::string*>(data);
  if (!isIpLiteral(*host)) mailstream_ssl_set_server_name(ctx, const_cast<char*>(host->c_str()));
}

Status verifyPeer(mailstream* stream, const ImapConfig& config) {
  auto fail = [](std::string m) { return Status::Unavailable("imap.unavailable", std::move(m)); };
  carray* chain = mailstream_get_certificate_chain(stream);
  if (chain == nullptr) return fail("IMAP server sent no certificate");
  X509* leaf = nullptr;
  STACK_OF(X509)* rest = sk_X509_new_null();
  for (unsigned i = 0; i < carray_count(chain); ++i) {
    auto* der = static_cast<MMAPString*>(carray_get(chain, i));
    const unsigned char* p = reinterpret_cast<const unsigned char*>(der->str);
    X509* x = d2i_X509(nullptr, &p, static_cast<long>(der->len));
    if (x == nullptr) continue;
    if (i == 0) leaf = x;
    else if (rest == nullptr || sk_X509_push(rest, x) == 0) X509_free(x);
  }
  mailstream_certificate_chain_free(chain);
  X509_STORE* store = X509_STORE_new();
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  Status result = Status::Ok();
  if (leaf == nullptr || rest == nullptr || store == nullptr || ctx == nullptr) {
    result = fail("IMAP server certificate unreadable");
  } else if ((config.tlsCaFile.empty() ? X509_STORE_set_default_paths(store)
                                       : X509_STORE_load_locations(store, config.tlsCaFile.c_str(),
                                                                   nullptr)) != 1) {
    result = fail("cannot load CA file " + config.tlsCaFile);
  } else if (X509_STORE_CTX_init(ctx, store, leaf, rest) != 1) {
    result = fail("cannot initialise the certificate check");
  } else {
    X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx);
    X509_VERIFY_PARAM_set_purpose(param, X509_PURPOSE_SSL_SERVER);
    const int hostOk = isIpLiteral(config.host)
                           ? X509_VERIFY_PARAM_set1_ip_asc(param, config.host.c_str())
                           : X509_VERIFY_PARAM_set1_host(param, config.host.c_str(), 0);
    if (hostOk != 1) {
      result = fail("cannot set the host name to verify");
    } else if (X509_verify_cert(ctx) != 1) {
      result = fail(std::string("IMAP server certificate not trusted: ") +
                    X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
  }
  if (ctx != nullptr) X509_STORE_CTX_free(ctx);
  if (store != nullptr) X509_STORE_free(store);
  if (rest != nullptr) sk_X509_pop_free(rest, X509_free);
  if (leaf != nullptr) X509_free(leaf);
  return result;
}

bool containsCi(const std::string& hay, const char* needle) {
  return lower(hay).find(lower(needle)) != std::string::npos;
}

}  // namespace

// --- ImapSession ---------------------------------------------------------

ImapSession::ImapSession() = default;

ImapSession::~ImapSession() {
  if (imap_ != nullptr) {
    if (!broken_) (void)mailimap_logout(imap_);
    mailimap_free(imap_);
  }
}

std::uint64_t ImapSession::commandCount() const {
  return imap_ != nullptr ? static_cast<std::uint64_t>(imap_->imap_tag - tagBase_) : 0;
}

bool ImapSession::peerClosed() const {
  if (imap_ == nullptr || imap_->imap_stream == nullptr) return true;
  mailstream_low* low = mailstream_get_low(imap_->imap_stream);
  const int fd = low != nullptr ? mailstream_low_get_fd(low) : -1;
  if (fd < 0) return true;
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if ((p.revents & (POLLHUP | POLLERR)) != 0) return true;
  char c = 0;
  const ssize_t n = ::recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

Status ImapSession::check(int r, const char* what, const std::string& folder) {
  if (connectedOk(r)) return Status::Ok();
  const std::string text = imap_ != nullptr ? str(imap_->imap_response) : std::string();
  const std::string ctx = std::string(what) + (folder.empty() ? "" : " " + folder) + " for " +
                          login_ + " on " + where_ + " (libetpan " + std::to_string(r) +
                          (text.empty() ? "" : ", \"" + text + "\"") + ")";
  Status s;
  switch (r) {
    case MAILIMAP_ERROR_STREAM:
    case MAILIMAP_ERROR_CONNECTION_REFUSED:
    case MAILIMAP_ERROR_FATAL:
    case MAILIMAP_ERROR_SSL:
    case MAILIMAP_ERROR_DONT_ACCEPT_CONNECTION:
      broken_ = true;
      s = Status::Unavailable("imap.unavailable", ctx);
      break;
    case MAILIMAP_ERROR_PARSE:
    case MAILIMAP_ERROR_PROTOCOL:
      broken_ = true;
      // libetpan reports a response cut off by the peer closing the
      // connection as a parse error: that is a dropped connection.
      s = peerClosed() ? Status::Unavailable("imap.unavailable", ctx + ", connection closed")
                       : Status::Corruption("imap.protocol", ctx);
      break;
    case MAILIMAP_ERROR_MEMORY:
    case MAILIMAP_ERROR_BAD_STATE:
      broken_ = true;
      s = Status::Internal("imap.protocol", ctx);
      break;
    default:  // a tagged NO or BAD for this command
      if (containsCi(text, "already exists") || containsCi(text, "ALREADYEXISTS")) {
        s = Status::AlreadyExists("imap.already_exists", ctx);
      } else if (r == MAILIMAP_ERROR_SELECT || r == MAILIMAP_ERROR_EXAMINE ||
                 r == MAILIMAP_ERROR_STATUS || containsCi(text, "NONEXISTENT") ||
                 containsCi(text, "doesn't exist") || containsCi(text, "does not exist") ||
                 containsCi(text, "TRYCREATE")) {
        s = Status::NotFound("imap.no_such_folder", ctx);
      } else {
        s = Status::IOError("imap.refused", ctx);
      }
      break;
  }
  if (s.code() == StatusCode::kNotFound || s.code() == StatusCode::kAlreadyExists) {
    log::info(s.toString());
  } else {
    log::warn(s.toString());
  }
  return s;
}

Result<std::unique_ptr<ImapSession>> ImapSession::open(const ImapConfig& config,
                                                       const std::string& login,
                                                       const std::string& password) {
  std::unique_ptr<ImapSession> s(new ImapSession());
  s->login_ = login;
  s->where_ = config.host + ":" + std::to_string(config.port);
  Status st = s->connectAndLogin(config, password);
  if (!st.ok()) return st;
  return s;
}

Status ImapSession::connectAndLogin(const ImapConfig& config, const std::string& password) {
  auto unavailable = [this](std::string m) {
    broken_ = true;
    Status s = Status::Unavailable("imap.unavailable", m + " (" + where_ + ", user " + login_ + ")");
    log::warn(s.toString());
    return s;
  };
  if (config.port <= 0 || config.port > 65535) return unavailable("bad IMAP port");
  imap_ = mailimap_new(0, nullptr);
  if (imap_ == nullptr) return unavailable("out of memory");
  mailimap_set_timeout(imap_, config.timeoutSeconds > 0 ? config.timeoutSeconds : 30);
  const auto port = static_cast<std::uint16_t>(config.port);
  std::string host = config.host;
  int r = MAILIMAP_NO_ERROR;
  switch (config.tls) {
    case TlsMode::kNone:
      r = mailimap_socket_connect(imap_, host.c_str(), port);
      break;
    case TlsMode::kStartTls:
      r = mailimap_socket_connect(imap_, host.c_str(), port);
      if (connectedOk(r)) {
        r = mailimap_socket_starttls_with_callback(imap_, sniCallback, &host);
        if (r != MAILIMAP_NO_ERROR) return unavailable("STARTTLS failed (libetpan " + std::to_string(r) + ")");
      }
      break;
    case TlsMode::kImaps:
      r = mailimap_ssl_connect_with_callback(imap_, host.c_str(), port, sniCallback, &host);
      break;
  }
  if (!connectedOk(r)) return unavailable("cannot connect (libetpan " + std::to_string(r) + ")");
  if (config.tls != TlsMode::kNone && config.tlsVerify) {
    Status peer = verifyPeer(imap_->imap_stream, config);
    if (!peer.ok()) {
      broken_ = true;
      log::warn(peer.toString() + " (" + where_ + ")");
      return peer;
    }
  }
  r = mailimap_login(imap_, login_.c_str(), password.c_str());
  if (r == MAILIMAP_ERROR_LOGIN) {
    const std::string text = str(imap_->imap_response);
    broken_ = true;
    if (containsCi(text, "UNAVAILABLE") || containsCi(text, "Temporary"))
      return unavailable("server cannot authenticate now");
    Status s = Status::Unauthenticated("imap.auth_failed", "IMAP LOGIN refused for " + login_ + " on " + where_);
    log::info(s.toString());
    return s;
  }
  if (r != MAILIMAP_NO_ERROR) return check(r, "LOGIN");
  // Dovecot sends the post-login capabilities with the LOGIN OK; ask when not.
  if (imap_->imap_connection_info == nullptr || imap_->imap_connection_info->imap_capability == nullptr) {
    mailimap_capability_data* cap = nullptr;
    EAS_RETURN_IF_ERROR(check(mailimap_capability(imap_, &cap), "CAPABILITY"));
    if (cap != nullptr) mailimap_capability_data_free(cap);
  }
  move_ = mailimap_has_extension(imap_, "MOVE") != 0;
  uidplus_ = mailimap_has_extension(imap_, "UIDPLUS") != 0;
  const bool hasEnable = mailimap_has_enable(imap_) != 0;
  if (config.useCondstore && hasEnable &&
      (mailimap_has_qresync(imap_) != 0 || mailimap_has_condstore(imap_) != 0)) {
    // QRESYNC implies CONDSTORE and adds VANISHED (expunges by UID).
    const bool wantQresync = config.useQresync && mailimap_has_qresync(imap_) != 0;
    clist* caps = clist_new();
    struct mailimap_capability* c =
        caps ? mailimap_capability_new(MAILIMAP_CAPABILITY_NAME, nullptr,
                                       ::strdup(wantQresync ? "QRESYNC" : "CONDSTORE"))
             : nullptr;
    if (c == nullptr || clist_append(caps, c) != 0) {
      if (c != nullptr) mailimap_capability_free(c);
      if (caps != nullptr) clist_free(caps);
      return unavailable("out of memory");
    }
    mailimap_capability_data* req = mailimap_capability_data_new(caps);
    mailimap_capability_data* enabled = nullptr;
    const int er = mailimap_enable(imap_, req, &enabled);
    mailimap_capability_data_free(req);
    if (enabled != nullptr) mailimap_capability_data_free(enabled);
    EAS_RETURN_IF_ERROR(check(er, "ENABLE"));
    condstore_ = true;
    qresync_ = wantQresync;
  }
  tagBase_ = imap_->imap_tag;
  return Status::Ok();
}

Status ImapSession::noop() {
  Status s = check(mailimap_noop(imap_), "NOOP");
  if (s.ok()) stale_ = false;  // the view is up to date now
  return s;
}

Result<std::vector<FolderInfo>> ImapSession::list() {
  clist* result = nullptr;
  Status st = check(mailimap_list(imap_, "", "*", &result), "LIST");
  if (!st.ok()) return st;
  std::vector<FolderInfo> out;
  for (clistiter* it = result ? clist_begin(result) : nullptr; it != nullptr; it = clist_next(it)) {
    auto* mb = static_cast<mailimap_mailbox_list*>(clist_content(it));
    FolderInfo f;
    f.name = str(mb->mb_name);
    f.delimiter = mb->mb_delimiter;
    if (mb->mb_flag != nullptr) {
      if (mb->mb_flag->mbf_type == MAILIMAP_MBX_LIST_FLAGS_SFLAG) {
        switch (mb->mb_flag->mbf_sflag) {
          case MAILIMAP_MBX_LIST_SFLAG_NOSELECT: f.attributes.push_back("\\Noselect"); f.selectable = false; break;
          case MAILIMAP_MBX_LIST_SFLAG_MARKED: f.attributes.push_back("\\Marked"); break;
          case MAILIMAP_MBX_LIST_SFLAG_UNMARKED: f.attributes.push_back("\\Unmarked"); break;
          default: break;
        }
      }
      for (clistiter* o = mb->mb_flag->mbf_oflags ? clist_begin(mb->mb_flag->mbf_oflags) : nullptr;
           o != nullptr; o = clist_next(o)) {
        auto* of = static_cast<mailimap_mbx_list_oflag*>(clist_content(o));
        if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_NOINFERIORS) {
          f.attributes.push_back("\\Noinferiors");
        } else if (of->of_type == MAILIMAP_MBX_LIST_OFLAG_FLAG_EXT && of->of_flag_ext != nullptr) {
          std::string a = of->of_flag_ext;
          if (a.empty() || a[0] != '\\') a.insert(a.begin(), '\\');
          if (containsCi(a, "\\NonExistent") || containsCi(a, "\\Noselect")) f.selectable = false;
          f.attributes.push_back(std::move(a));
        }
      }
    }
    f.displayName = displayNameOf(f.name, f.delimiter);
    f.role = detectRole(f.name, f.delimiter, f.attributes);
    out.push_back(std::move(f));
  }
  if (result != nullptr) mailimap_list_result_free(result);
  resolveRoleConflicts(out);
  return out;
}

Result<FolderState> ImapSession::status(const std::string& folder) {
  mailimap_status_att_list* atts = mailimap_status_att_list_new_empty();
  if (atts == nullptr) return Status::Internal("imap.protocol", "out of memory");
  mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_MESSAGES);
  mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDNEXT);
  mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_UIDVALIDITY);
  if (condstore_) mailimap_status_att_list_add(atts, MAILIMAP_STATUS_ATT_HIGHESTMODSEQ);
  mailimap_mailbox_data_status* data = nullptr;
  const int r = mailimap_status(imap_, folder.c_str(), atts, &data);
  mailimap_status_att_list_free(atts);
  Status st = check(r, "STATUS", folder);
  if (!st.ok()) return st;
  FolderState state;
  bool haveValidity = false;
  for (clistiter* it = data && data->st_info_list ? clist_begin(data->st_info_list) : nullptr;
       it != nullptr; it = clist_next(it)) {
    auto* info = static_cast<mailimap_status_info*>(clist_content(it));
    switch (info->st_att) {
      case MAILIMAP_STATUS_ATT_MESSAGES: state.messages = info->st_value; break;
      case MAILIMAP_STATUS_ATT_UIDNEXT: state.uidNext = info->st_value; break;
      case MAILIMAP_STATUS_ATT_UIDVALIDITY: state.uidValidity = info->st_value; haveValidity = true; break;
      case MAILIMAP_STATUS_ATT_HIGHESTMODSEQ:
      case MAILIMAP_STATUS_ATT_EXTENSION:
        if (info->st_ext_data != nullptr &&
            info->st_ext_data->ext_type == MAILIMAP_CONDSTORE_TYPE_STATUS_INFO &&
            info->st_ext_data->ext_data != nullptr) {
          const auto* cs = static_cast<mailimap_condstore_status_info*>(info->st_ext_data->ext_data);
          // RFC 7162: 0 means the mailbox has no persistent modseqs.
          if (cs->cs_highestmodseq_value != 0) state.highestModseq = cs->cs_highestmodseq_value;
        }
        break;
      default: break;
    }
  }
  if (data != nullptr) mailimap_mailbox_data_status_free(data);
  if (!haveValidity) {
    Status s = Status::Corruption("imap.protocol", "STATUS " + folder + " without UIDVALIDITY");
    log::warn(s.toString());
    return s;
  }
  return state;
}

Result<std::uint32_t> ImapSession::select(const std::string& folder) {
  if (hasSelected_ && selected_ == folder && imap_->imap_selection_info != nullptr) {
    if (stale_) EAS_RETURN_IF_ERROR(noop());
    stale_ = false;
    return imap_->imap_selection_info->sel_uidvalidity;
  }
  stale_ = false;
  hasSelected_ = false;
  EAS_RETURN_IF_ERROR(check(mailimap_select(imap_, folder.c_str()), "SELECT", folder));
  selected_ = folder;
  hasSelected_ = true;
  return imap_->imap_selection_info != nullptr ? imap_->imap_selection_info->sel_uidvalidity : 0u;
}

namespace {

struct Parsed {
  std::uint32_t uid = 0;
  MessageData data;
  bool hasFlags = false;
};

// Collects the FETCH responses by UID; unsolicited ones (another session
// changed flags meanwhile) are merged, the last FLAGS winning.
void collect(clist* result, std::map<std::uint32_t, Parsed>& out,
             const std::vector<std::pair<Section, std::uint32_t>>* wanted) {
  for (clistiter* it = result ? clist_begin(result) : nullptr; it != nullptr; it = clist_next(it)) {
    auto* att = static_cast<mailimap_msg_att*>(clist_content(it));
    Parsed p;
    for (clistiter* i = clist_begin(att->att_list); i != nullptr; i = clist_next(i)) {
      auto* item = static_cast<mailimap_msg_att_item*>(clist_content(i));
      if (item->att_type == MAILIMAP_MSG_ATT_ITEM_DYNAMIC) {
        readFlags(item->att_data.att_dyn, p.data.flags, p.data.keywords);
        p.hasFlags = true;
        continue;
      }
      if (item->att_type != MAILIMAP_MSG_ATT_ITEM_STATIC || item->att_data.att_static == nullptr) continue;
      const mailimap_msg_att_static* s = item->att_data.att_static;
      switch (s->att_type) {
        case MAILIMAP_MSG_ATT_UID: p.uid = s->att_data.att_uid; break;
        case MAILIMAP_MSG_ATT_INTERNALDATE: p.data.internalDate = toUnix(s->att_data.att_internal_date); break;
        case MAILIMAP_MSG_ATT_RFC822_SIZE: p.data.size = s->att_data.att_rfc822_size; break;
        case MAILIMAP_MSG_ATT_ENVELOPE: p.data.envelope = envelope(s->att_data.att_env); break;
        case MAILIMAP_MSG_ATT_BODYSTRUCTURE:
          p.data.structure = bodyPart(s->att_data.att_bodystructure, "", 0);
          break;
        case MAILIMAP_MSG_ATT_BODY_SECTION: {
          const mailimap_msg_att_body_section* b = s->att_data.att_body_section;
          if (b == nullptr || wanted == nullptr) break;
          auto sec = sectionOf(b->sec_section);
          if (!sec) break;
          const std::string key = sectionString(*sec);
          std::string bytes = b->sec_body_part != nullptr ? std::string(b->sec_body_part, b->sec_length)
                                                          : std::string();
          if (p.data.sections.size() < wanted->size()) p.data.sections.resize(wanted->size());
          for (std::size_t k = 0; k < wanted->size(); ++k) {
            const auto& [w, offset] = (*wanted)[k];
            // The response names the origin only for a partial fetch.
            if (sectionString(w) == key && b->sec_origin_octet == offset) {
              p.data.sections[k] = std::move(bytes);
              break;
            }
          }
          break;
        }
        default: break;
      }
    }
    if (p.uid == 0) continue;  // an unsolicited FETCH without UID cannot be attributed
    p.data.uid = p.uid;
    auto [pos, inserted] = out.try_emplace(p.uid, std::move(p));
    if (inserted) continue;
    Parsed& m = pos->second;
    if (p.hasFlags) { m.data.flags = p.data.flags; m.data.keywords = p.data.keywords; m.hasFlags = true; }
    if (p.data.internalDate) m.data.internalDate = p.data.internalDate;
    if (p.data.size) m.data.size = p.data.size;
    if (p.data.envelope) m.data.envelope = std::move(p.data.envelope);
    if (p.data.structure) m.data.structure = std::move(p.data.structure);
    for (std::size_t k = 0; k < p.data.sections.size(); ++k) {
      if (m.data.sections.size() <= k) m.data.sections.resize(k + 1);
      if (!p.data.sections[k].empty()) m.data.sections[k] = std::move(p.data.sections[k]);
    }
  }
}

mailimap_fetch_type* uidFlagsType() {
  mailimap_fetch_type* type = mailimap_fetch_type_new_fetch_att_list_empty();
  if (type == nullptr) return nullptr;
  if (!addAtt(type, mailimap_fetch_att_new_uid()) || !addAtt(type, mailimap_fetch_att_new_flags())) {
    mailimap_fetch_type_free(type);
    return nullptr;
  }
  return type;
}

}  // namespace

namespace {
KnownItem knownItem(std::uint32_t uid, MessageData& m) {
  KnownItem k{uid, m.flags, std::move(m.keywords)};
  std::sort(k.keywords.begin(), k.keywords.end());
  return k;
}
}  // namespace

Result<std::vector<KnownItem>> ImapSession::fetchAllFlags() {
  FetchTypePtr type(uidFlagsType());
  SetPtr set(mailimap_set_new_interval(1, 0));
  if (!type.get() || !set.get()) return Status::Internal("imap.protocol", "out of memory");
  FetchList result;
  ++fetches_;
  EAS_RETURN_IF_ERROR(check(mailimap_uid_fetch(imap_, set.get(), type.get(), &result.list),
                            "UID FETCH 1:* (FLAGS)", selected_));
  std::map<std::uint32_t, Parsed> parsed;
  collect(result.list, parsed, nullptr);
  std::vector<KnownItem> out;
  out.reserve(parsed.size());
  for (auto& [uid, p] : parsed) out.push_back(knownItem(uid, p.data));
  return out;
}

Result<ImapSession::ModseqChanges> ImapSession::fetchChangedSince(std::uint64_t modseq) {
  FetchTypePtr type(uidFlagsType());
  SetPtr set(mailimap_set_new_interval(1, 0));
  if (!type.get() || !set.get()) return Status::Internal("imap.protocol", "out of memory");
  FetchList result;
  ModseqChanges out;
  ++fetches_;
  if (qresync_) {
    mailimap_qresync_vanished* vanished = nullptr;
    EAS_RETURN_IF_ERROR(check(mailimap_uid_fetch_qresync(imap_, set.get(), type.get(), modseq,
                                                         &result.list, &vanished),
                              "UID FETCH (CHANGEDSINCE VANISHED)", selected_));
    out.haveVanished = true;
    if (vanished != nullptr) {
      out.vanished = setRanges(vanished->qr_known_uids);
      mailimap_qresync_vanished_free(vanished);
    }
  } else {
    EAS_RETURN_IF_ERROR(check(mailimap_uid_fetch_changedsince(imap_, set.get(), type.get(), modseq,
                                                              &result.list),
                              "UID FETCH (CHANGEDSINCE)", selected_));
  }
  std::map<std::uint32_t, Parsed> parsed;
  collect(result.list, parsed, nullptr);
  for (auto& [uid, p] : parsed) {
    if (p.hasFlags) out.changed.push_back(knownItem(uid, p.data));
  }
  return out;
}

Result<std::vector<std::uint32_t>> ImapSession::searchAllUids() {
  mailimap_search_key* key = mailimap_search_key_new_all();
  if (key == nullptr) return Status::Internal("imap.protocol", "out of memory");
  clist* result = nullptr;
  const int r = mailimap_uid_search(imap_, nullptr, key, &result);
  mailimap_search_key_free(key);
  EAS_RETURN_IF_ERROR(check(r, "UID SEARCH ALL", selected_));
  std::vector<std::uint32_t> out;
  for (clistiter* it = result ? clist_begin(result) : nullptr; it != nullptr; it = clist_next(it))
    out.push_back(*static_cast<std::uint32_t*>(clist_content(it)));
  if (result != nullptr) mailimap_search_result_free(result);
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

mailimap_date* imapDate(std::int64_t unix_seconds) {
  const std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  return mailimap_date_new(tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900);
}

// libetpan takes ownership of the strings it is given.
char* ownedCopy(const std::string& s) { return strdup(s.c_str()); }

}  // namespace

Result<std::vector<std::uint32_t>> ImapSession::search(const SearchCriteria& c) {
  mailimap_search_key* all = mailimap_search_key_new_multiple_empty();
  if (all == nullptr) return Status::Internal("imap.protocol", "out of memory");
  bool ok = true;
  bool any = false;
  auto add = [&](mailimap_search_key* k) {
    if (k == nullptr || mailimap_search_key_multiple_add(all, k) != MAILIMAP_NO_ERROR) {
      if (k != nullptr) mailimap_search_key_free(k);
      ok = false;
    }
    any = true;
  };
  if (c.since) add(mailimap_search_key_new_since(imapDate(*c.since)));
  if (c.before) add(mailimap_search_key_new_before(imapDate(*c.before)));
  if (!c.text.empty()) add(mailimap_search_key_new_text(ownedCopy(c.text)));
  if (!c.subject.empty()) add(mailimap_search_key_new_subject(ownedCopy(c.subject)));
  if (!c.body.empty()) add(mailimap_search_key_new_body(ownedCopy(c.body)));
  if (c.undeleted_only)
    add(mailimap_search_key_new(MAILIMAP_SEARCH_KEY_UNDELETED, nullptr, nullptr, nullptr, nullptr,
                                nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                                nullptr, nullptr, nullptr, 0, nullptr, nullptr, nullptr, nullptr,
                                nullptr, nullptr, 0, nullptr, nullptr, nullptr));
  if (!any) add(mailimap_search_key_new_all());
  if (!ok) {
    mailimap_search_key_free(all);
    return Status::Internal("imap.protocol", "out of memory");
  }
  const bool text = !c.text.empty() || !c.subject.empty() || !c.body.empty();
  clist* result = nullptr;
  const int r = mailimap_uid_search(imap_, text ? "UTF-8" : nullptr, all, &result);
  mailimap_search_key_free(all);
  EAS_RETURN_IF_ERROR(check(r, "UID SEARCH", selected_));
  std::vector<std::uint32_t> out;
  for (clistiter* it = result ? clist_begin(result) : nullptr; it != nullptr; it = clist_next(it))
    out.push_back(*static_cast<std::uint32_t*>(clist_content(it)));
  if (result != nullptr) mailimap_search_result_free(result);
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::vector<MessageData>> ImapSession::fetch(const std::vector<std::uint32_t>& uids,
                                                    const FetchRequest& what) {
  std::vector<std::pair<Section, std::uint32_t>> wanted;
  for (const SectionRequest& r : what.sections) {
    auto sec = parseSection(r.section);
    if (!sec) return Status::InvalidArgument("imap.bad_section", "bad section \"" + r.section + "\"");
    wanted.emplace_back(*sec, r.offset);
  }
  if (what.headers) wanted.emplace_back(Section{{}, Section::Kind::kHeader}, 0);
  FetchTypePtr type(mailimap_fetch_type_new_fetch_att_list_empty());
  SetPtr set(makeSet(uids));
  if (!type.get() || !set.get()) return Status::Internal("imap.protocol", "out of memory");
  bool ok = addAtt(type.get(), mailimap_fetch_att_new_uid()) &&
            addAtt(type.get(), mailimap_fetch_att_new_flags()) &&
            addAtt(type.get(), mailimap_fetch_att_new_internaldate()) &&
            addAtt(type.get(), mailimap_fetch_att_new_rfc822_size());
  if (ok && what.envelope) ok = addAtt(type.get(), mailimap_fetch_att_new_envelope());
  if (ok && what.bodyStructure) ok = addAtt(type.get(), mailimap_fetch_att_new_bodystructure());
  for (std::size_t k = 0; ok && k < what.sections.size(); ++k)
    ok = addSection(type.get(), wanted[k].first, what.sections[k].offset, what.sections[k].length);
  if (ok && what.headers) ok = addSection(type.get(), wanted.back().first, 0, std::nullopt);
  if (!ok) return Status::Internal("imap.protocol", "out of memory");
  FetchList result;
  ++fetches_;
  EAS_RETURN_IF_ERROR(check(mailimap_uid_fetch(imap_, set.get(), type.get(), &result.list),
                            "UID FETCH", selected_));
  std::map<std::uint32_t, Parsed> parsed;
  collect(result.list, parsed, &wanted);
  std::vector<std::uint32_t> asked = uids;
  std::sort(asked.begin(), asked.end());
  std::vector<MessageData> out;
  out.reserve(parsed.size());
  for (auto& [uid, p] : parsed) {
    // Only what was asked: `N:*` style answers and unsolicited FETCHes are dropped.
    if (!std::binary_search(asked.begin(), asked.end(), uid)) continue;
    MessageData d = std::move(p.data);
    d.sections.resize(wanted.size());
    if (what.headers) {
      d.headers = std::move(d.sections.back());
      d.sections.pop_back();
    }
    out.push_back(std::move(d));
  }
  return out;
}

Status ImapSession::storeFlagList(mailimap_set* set, mailimap_flag_list* list, bool add) {
  mailimap_store_att_flags* att = add ? mailimap_store_att_flags_new_add_flags_silent(list)
                                      : mailimap_store_att_flags_new_remove_flags_silent(list);
  if (att == nullptr) {
    mailimap_flag_list_free(list);
    return Status::Internal("imap.protocol", "out of memory");
  }
  const int r = mailimap_uid_store(imap_, set, att);
  mailimap_store_att_flags_free(att);
  return check(r, "UID STORE", selected_);
}

Status ImapSession::store(const std::vector<std::uint32_t>& uids, std::uint32_t flags, bool add) {
  SetPtr set(makeSet(uids));
  mailimap_flag_list* list = makeFlagList(flags);
  if (!set.get() || list == nullptr) {
    if (list != nullptr) mailimap_flag_list_free(list);
    return Status::Internal("imap.protocol", "out of memory");
  }
  return storeFlagList(set.get(), list, add);
}

Status ImapSession::storeKeywords(const std::vector<std::uint32_t>& uids,
                                  const std::vector<std::string>& keywords, bool add) {
  if (uids.empty() || keywords.empty()) return Status::Ok();
  for (const std::string& k : keywords) {
    // ATOM-CHAR only: libetpan sends the keyword verbatim.
    bool ok = !k.empty() && k[0] != '\\';
    for (unsigned char c : k) {
      ok = ok && c > 0x20 && c < 0x7f &&
           std::string_view("(){%*\"\\]").find(static_cast<char>(c)) == std::string_view::npos;
    }
    if (!ok) return Status::InvalidArgument("imap.refused", "not an IMAP keyword: " + k);
  }
  SetPtr set(makeSet(uids));
  mailimap_flag_list* list = mailimap_flag_list_new_empty();
  if (!set.get() || list == nullptr) {
    if (list != nullptr) mailimap_flag_list_free(list);
    return Status::Internal("imap.protocol", "out of memory");
  }
  for (const std::string& k : keywords) {
    char* dup = ::strdup(k.c_str());
    mailimap_flag* f = dup != nullptr ? mailimap_flag_new_flag_keyword(dup) : nullptr;
    if (f == nullptr || mailimap_flag_list_add(list, f) != MAILIMAP_NO_ERROR) {
      if (f != nullptr) mailimap_flag_free(f);
      else ::free(dup);
      mailimap_flag_list_free(list);
      return Status::Internal("imap.protocol", "out of memory");
    }
  }
  return storeFlagList(set.get(), list, add);
}

Result<std::vector<std::uint32_t>> ImapSession::move(const std::vector<std::uint32_t>& uids,
                                                     const std::string& to) {
  SetPtr set(makeSet(uids));
  if (!set.get()) return Status::Internal("imap.protocol", "out of memory");
  std::vector<std::uint32_t> out(uids.size(), 0);
  std::uint32_t validity = 0;
  mailimap_set* src = nullptr;
  mailimap_set* dst = nullptr;
  if (move_ && uidplus_) {
    EAS_RETURN_IF_ERROR(check(mailimap_uidplus_uid_move(imap_, set.get(), to.c_str(), &validity, &src, &dst),
                              "UID MOVE", to));
  } else if (move_) {
    EAS_RETURN_IF_ERROR(check(mailimap_uid_move(imap_, set.get(), to.c_str()), "UID MOVE", to));
  } else if (uidplus_) {
    // COPY, then flag and expunge exactly these UIDs (UID EXPUNGE needs UIDPLUS).
    EAS_RETURN_IF_ERROR(check(mailimap_uidplus_uid_copy(imap_, set.get(), to.c_str(), &validity, &src, &dst),
                              "UID COPY", to));
    EAS_RETURN_IF_ERROR(store(uids, kFlagDeleted, true));
    EAS_RETURN_IF_ERROR(expunge(uids));
  } else {
    return Status::NotSupported("imap.protocol", "server has neither MOVE nor UIDPLUS");
  }
  if (src != nullptr && dst != nullptr) {
    const std::vector<std::uint32_t> a = expandSet(src, 1u << 20), b = expandSet(dst, 1u << 20);
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
      for (std::size_t k = 0; k < uids.size(); ++k) {
        if (uids[k] == a[i]) out[k] = b[i];
      }
    }
  }
  if (src != nullptr) mailimap_set_free(src);
  if (dst != nullptr) mailimap_set_free(dst);
  return out;
}

Status ImapSession::expunge(const std::vector<std::uint32_t>& uids) {
  if (!uidplus_) return Status::NotSupported("imap.protocol", "UID EXPUNGE needs UIDPLUS");
  SetPtr set(makeSet(uids));
  if (!set.get()) return Status::Internal("imap.protocol", "out of memory");
  return check(mailimap_uid_expunge(imap_, set.get()), "UID EXPUNGE", selected_);
}

Result<std::uint32_t> ImapSession::append(const std::string& folder, std::string_view message,
                                          std::uint32_t flags) {
  mailimap_flag_list* list = makeFlagList(flags);
  if (list == nullptr) return Status::Internal("imap.protocol", "out of memory");
  std::uint32_t validity = 0, uid = 0;
  const int r = uidplus_ ? mailimap_uidplus_append(imap_, folder.c_str(), list, nullptr, message.data(),
                                                   message.size(), &validity, &uid)
                         : mailimap_append(imap_, folder.c_str(), list, nullptr, message.data(),
                                           message.size());
  mailimap_flag_list_free(list);
  EAS_RETURN_IF_ERROR(check(r, "APPEND", folder));
  return uid;
}

Status ImapSession::create(const std::string& name) {
  return check(mailimap_create(imap_, name.c_str()), "CREATE", name);
}

Status ImapSession::rename(const std::string& from, const std::string& to) {
  if (hasSelected_ && selected_ == from) hasSelected_ = false;
  return check(mailimap_rename(imap_, from.c_str(), to.c_str()), "RENAME", from);
}

Status ImapSession::remove(const std::string& name) {
  if (hasSelected_ && selected_ == name && mailimap_has_extension(imap_, "UNSELECT") != 0) {
    // Leave the folder first: some servers refuse to delete the selected one.
    EAS_RETURN_IF_ERROR(check(mailimap_custom_command(imap_, "UNSELECT"), "UNSELECT", name));
    hasSelected_ = false;
  }
  return check(mailimap_delete(imap_, name.c_str()), "DELETE", name);
}

}  // namespace eas::backend::imap
