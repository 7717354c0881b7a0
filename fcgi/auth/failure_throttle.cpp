// The failure table: a header and `capacity` fixed-size slots, in private
// memory or in a file every worker maps MAP_SHARED.
//
// A slot is keyed by SHA-256(salt || key) truncated to 64 bits (0 marks an
// empty slot); the salt is random per table and lives in the header, so the
// file holds no user names or addresses. Lookup probes at most kProbe slots
// from the home slot (linear probing, no deletion: an empty slot ends the
// search). Inserting into a full probe window replaces its least valuable
// slot: unlocked and without attempts in flight first, then the one whose
// last activity is oldest; so the table never grows and a fresh lock-out
// survives a spray of new keys.
//
// One robust, process-shared mutex in the header guards everything; a
// process that dies holding it (EOWNERDEAD) leaves at worst one half-updated
// slot, and the next owner marks the mutex consistent and goes on.
#include "fcgi/auth/failure_throttle.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <functional>
#include <new>
#include <random>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/base/log.h"

namespace eas::auth {
namespace {

constexpr char kMagic[8] = {'E', 'A', 'S', 'T', 'H', 'R', 'O', '1'};
constexpr std::uint32_t kVersion = 1;
constexpr std::size_t kProbe = 32;
constexpr std::uint64_t kMaxCapacity = std::uint64_t{1} << 24;

struct Header {
  char magic[8];
  std::uint32_t version;
  std::uint32_t header_size;
  std::uint64_t file_size;
  std::uint64_t capacity;
  std::uint32_t slot_size;
  std::uint32_t times_per_slot;
  std::uint32_t exact;
  std::uint32_t mutex_size;
  unsigned char salt[32];
  char boot_id[40];  // a file of an earlier boot has meaningless monotonic times
  // Guarded by mutex:
  std::uint64_t used;
  std::uint64_t evictions;
  std::uint64_t owner_deaths;
  pthread_mutex_t mutex;
};
constexpr std::size_t kHeaderSize = (sizeof(Header) + 63) / 64 * 64;

// Followed by times_per_slot int64 failure times (exact mode: the failures
// within the window, oldest first, `n` of them; otherwise times[0] is the
// start of the current window and `n` its count).
struct SlotHead {
  std::uint64_t hash;
  std::int64_t locked_until_ms;
  std::int64_t last_ms;  // last failure or admission: eviction order
  std::int64_t pending_since_ms;
  std::uint32_t pending;  // admitted attempts not finished yet
  std::uint32_t n;
};

struct Geometry {
  std::uint64_t capacity = 0;
  std::uint32_t times = 0;
  bool exact = true;
  std::uint32_t slot_size = 0;
  std::uint64_t bytes = 0;
};

Geometry geometryOf(const ThrottlePolicy& p) {
  Geometry g;
  g.capacity = std::clamp<std::uint64_t>(p.max_entries, 1, kMaxCapacity);
  g.exact = p.max_failures <= kMaxExactFailures;
  g.times = g.exact ? static_cast<std::uint32_t>(std::max(1, p.max_failures)) : 1;
  g.slot_size = static_cast<std::uint32_t>(sizeof(SlotHead) + sizeof(std::int64_t) * g.times);
  g.bytes = kHeaderSize + g.capacity * g.slot_size;
  return g;
}

std::string bootId() {
  std::ifstream in("/proc/sys/kernel/random/boot_id");
  std::string id;
  std::getline(in, id);
  return id.substr(0, 39);
}

void randomBytes(unsigned char* out, std::size_t n) {
  if (RAND_bytes(out, static_cast<int>(n)) == 1) return;
  std::random_device rd;  // the OpenSSL RNG failing is unheard of; still salt
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<unsigned char>(rd());
}

// Fills a zeroed header. The magic goes last.
bool initHeader(Header* h, const Geometry& g, bool shared) {
  h->version = kVersion;
  h->header_size = static_cast<std::uint32_t>(kHeaderSize);
  h->file_size = g.bytes;
  h->capacity = g.capacity;
  h->slot_size = g.slot_size;
  h->times_per_slot = g.times;
  h->exact = g.exact ? 1 : 0;
  h->mutex_size = static_cast<std::uint32_t>(sizeof(pthread_mutex_t));
  randomBytes(h->salt, sizeof h->salt);
  const std::string boot = bootId();
  std::memcpy(h->boot_id, boot.data(), boot.size());
  pthread_mutexattr_t attr;
  if (pthread_mutexattr_init(&attr) != 0) return false;
  bool ok = pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST) == 0 &&
            (!shared || pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED) == 0) &&
            pthread_mutex_init(&h->mutex, &attr) == 0;
  pthread_mutexattr_destroy(&attr);
  std::memcpy(h->magic, kMagic, sizeof kMagic);
  return ok;
}

// Why a file cannot be used as is, or "" when it can.
std::string invalidReason(int fd, const struct stat& st, const Geometry& g) {
  if (st.st_size == 0) return "empty";
  if (static_cast<std::uint64_t>(st.st_size) < kHeaderSize) return "truncated";
  Header h;
  if (pread(fd, &h, sizeof h, 0) != static_cast<ssize_t>(sizeof h)) return "unreadable";
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) return "bad_magic";
  if (h.version != kVersion || h.header_size != kHeaderSize ||
      h.mutex_size != sizeof(pthread_mutex_t))
    return "version";
  if (h.capacity != g.capacity || h.slot_size != g.slot_size || h.times_per_slot != g.times ||
      h.exact != (g.exact ? 1u : 0u))
    return "geometry";
  if (h.file_size != g.bytes || static_cast<std::uint64_t>(st.st_size) < h.file_size)
    return "truncated";
  if (static_cast<std::uint64_t>(st.st_size) != h.file_size) return "size";
  if (std::string(h.boot_id, strnlen(h.boot_id, sizeof h.boot_id)) != bootId()) return "boot";
  return "";
}

std::string errnoText(int err) { return std::string(std::strerror(err)); }

class TableThrottle final : public FailureThrottle {
 public:
  // Takes a mapping of geometry `g` holding an initialised header.
  TableThrottle(void* base, const Geometry& g, const ThrottlePolicy& policy, bool shared)
      : policy_(policy),
        geometry_(g),
        shared_(shared),
        base_(static_cast<unsigned char*>(base)),
        header_(static_cast<Header*>(base)) {}
  ~TableThrottle() override { munmap(base_, geometry_.bytes); }
  TableThrottle(const TableThrottle&) = delete;
  TableThrottle& operator=(const TableThrottle&) = delete;

  std::int64_t lockedUntil(const std::vector<std::string>& keys, std::int64_t now,
                           std::size_t* key_index) override {
    if (!throttling()) return 0;
    const std::vector<std::uint64_t> hashes = hashesOf(keys);
    Guard g(*this);
    if (!g.ok()) return 0;
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      const SlotHead* s = find(hashes[i]);
      if (s != nullptr && now < s->locked_until_ms) {
        if (key_index != nullptr) *key_index = i;
        return s->locked_until_ms;
      }
    }
    return 0;
  }

  Admission admit(const std::vector<std::string>& keys, std::int64_t now) override {
    Admission a;
    if (!throttling()) return a;
    const std::vector<std::uint64_t> hashes = hashesOf(keys);
    Guard g(*this);
    if (!g.ok()) return a;  // fail open; Guard logged why
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      SlotHead* s = find(hashes[i]);
      if (s == nullptr) continue;
      if (s->pending > 0 && now - s->pending_since_ms >= policy_.reservation_timeout_ms)
        s->pending = 0;  // its process died mid-verification
      if (now < s->locked_until_ms) {
        a.kind = Admission::Kind::kLocked;
        a.key_index = i;
        a.locked_until_ms = s->locked_until_ms;
        return a;
      }
    }
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      SlotHead* s = find(hashes[i]);
      if (s != nullptr &&
          failuresInWindow(s, now) + static_cast<std::int64_t>(s->pending) >= policy_.max_failures + 1) {
        a.kind = Admission::Kind::kBusy;
        a.key_index = i;
        return a;
      }
    }
    for (std::uint64_t h : hashes) {
      SlotHead* s = findOrInsert(h, now);
      ++s->pending;
      s->pending_since_ms = now;
      s->last_ms = now;
    }
    return a;
  }

  Outcome finish(const std::vector<std::string>& keys, std::int64_t now, bool failed) override {
    Outcome out;
    out.failures.assign(keys.size(), 0);
    out.locked_now.assign(keys.size(), false);
    if (!throttling()) return out;
    const std::vector<std::uint64_t> hashes = hashesOf(keys);
    Guard g(*this);
    if (!g.ok()) return out;
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      SlotHead* s = failed ? findOrInsert(hashes[i], now) : find(hashes[i]);
      if (s == nullptr) continue;
      if (s->pending > 0) --s->pending;
      if (failed) {
        bool locked = false;
        out.failures[i] = record(s, now, &locked);
        out.locked_now[i] = locked;
      }
    }
    return out;
  }

  Stats stats() override {
    Stats st;
    st.capacity = static_cast<std::size_t>(geometry_.capacity);
    st.bytes = static_cast<std::size_t>(geometry_.bytes);
    st.shared = shared_;
    Guard g(*this);
    if (!g.ok()) return st;
    st.used = static_cast<std::size_t>(header_->used);
    st.evictions = header_->evictions;
    st.owner_deaths = header_->owner_deaths;
    return st;
  }

  void holdMutex() { (void)pthread_mutex_lock(&header_->mutex); }

 private:
  // Locks the table's mutex; recovers it when its owner died.
  class Guard {
   public:
    explicit Guard(TableThrottle& t) : t_(t) {
      const int rc = pthread_mutex_lock(&t_.header_->mutex);
      if (rc == EOWNERDEAD) {
        pthread_mutex_consistent(&t_.header_->mutex);
        ++t_.header_->owner_deaths;
        log::warn("auth: throttle state: a process died holding its lock; recovered");
        ok_ = true;
      } else if (rc == 0) {
        ok_ = true;
      } else {
        log::error("auth: throttle state unusable, not throttling (" + errnoText(rc) + ")");
      }
    }
    ~Guard() {
      if (ok_) pthread_mutex_unlock(&t_.header_->mutex);
    }
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
    bool ok() const { return ok_; }

   private:
    TableThrottle& t_;
    bool ok_ = false;
  };

  bool throttling() const { return policy_.max_failures > 0 && policy_.lockout_ms > 0; }

  std::vector<std::uint64_t> hashesOf(const std::vector<std::string>& keys) const {
    std::vector<std::uint64_t> out;
    out.reserve(keys.size());
    for (const std::string& k : keys) {
      std::string buf(reinterpret_cast<const char*>(header_->salt), sizeof header_->salt);
      buf += k;
      unsigned char md[EVP_MAX_MD_SIZE];
      unsigned int len = 0;
      std::uint64_t h = 0;
      if (EVP_Digest(buf.data(), buf.size(), md, &len, EVP_sha256(), nullptr) == 1 && len >= 8)
        std::memcpy(&h, md, sizeof h);
      else
        h = std::hash<std::string>()(buf);  // never seen; still a usable key
      out.push_back(h == 0 ? 1 : h);
    }
    return out;
  }

  SlotHead* slotAt(std::uint64_t index) {
    return reinterpret_cast<SlotHead*>(base_ + kHeaderSize + index * geometry_.slot_size);
  }
  static std::int64_t* timesOf(SlotHead* s) {
    return reinterpret_cast<std::int64_t*>(reinterpret_cast<unsigned char*>(s) + sizeof(SlotHead));
  }
  std::uint64_t probeLength() const { return std::min<std::uint64_t>(kProbe, geometry_.capacity); }

  SlotHead* find(std::uint64_t h) {
    const std::uint64_t home = h % geometry_.capacity;
    for (std::uint64_t i = 0; i < probeLength(); ++i) {
      SlotHead* s = slotAt((home + i) % geometry_.capacity);
      if (s->hash == h) return s;
      if (s->hash == 0) return nullptr;
    }
    return nullptr;
  }

  SlotHead* findOrInsert(std::uint64_t h, std::int64_t now) {
    const std::uint64_t home = h % geometry_.capacity;
    SlotHead* victim = nullptr;
    std::tuple<bool, bool, std::int64_t> victim_rank{};
    for (std::uint64_t i = 0; i < probeLength(); ++i) {
      SlotHead* s = slotAt((home + i) % geometry_.capacity);
      if (s->hash == h) return s;
      if (s->hash == 0) {
        ++header_->used;
        return reset(s, h);
      }
      const bool pending =
          s->pending > 0 && now - s->pending_since_ms < policy_.reservation_timeout_ms;
      const auto rank = std::make_tuple(now < s->locked_until_ms, pending, s->last_ms);
      if (victim == nullptr || rank < victim_rank) {
        victim = s;
        victim_rank = rank;
      }
    }
    ++header_->evictions;
    return reset(victim, h);
  }

  SlotHead* reset(SlotHead* s, std::uint64_t h) {
    std::memset(static_cast<void*>(s), 0, geometry_.slot_size);
    s->hash = h;
    return s;
  }

  // Failures of `s` that still count at `now` (exact mode: drops the rest).
  std::int64_t failuresInWindow(SlotHead* s, std::int64_t now) {
    std::int64_t* t = timesOf(s);
    if (!geometry_.exact)
      return s->n > 0 && now - t[0] < policy_.window_ms ? s->n : 0;
    const std::int64_t horizon = now - policy_.window_ms;
    std::uint32_t keep = 0;
    while (keep < s->n && t[keep] <= horizon) ++keep;
    if (keep > 0) {
      std::memmove(t, t + keep, sizeof(std::int64_t) * (s->n - keep));
      s->n -= keep;
    }
    return s->n;
  }

  // Counts a failure; returns the failures within the window, this one included.
  int record(SlotHead* s, std::int64_t now, bool* locked_now) {
    s->last_ms = now;
    std::int64_t* t = timesOf(s);
    std::int64_t count = 0;
    if (geometry_.exact) {
      count = failuresInWindow(s, now) + 1;
      if (count <= policy_.max_failures) t[s->n++] = now;  // n < max_failures <= times
    } else {
      if (s->n == 0 || now - t[0] >= policy_.window_ms) {
        t[0] = now;
        s->n = 0;
      }
      count = ++s->n;
    }
    if (count > policy_.max_failures) {
      s->locked_until_ms = now + policy_.lockout_ms;
      s->n = 0;  // the lock-out is the penalty; counting starts afresh after it
      *locked_now = true;
    }
    return static_cast<int>(count);
  }

  const ThrottlePolicy policy_;
  const Geometry geometry_;
  const bool shared_;
  unsigned char* const base_;
  Header* const header_;
};

void* mapFile(int fd, std::uint64_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  return p == MAP_FAILED ? nullptr : p;
}

// A new, initialised table file at a temporary name beside `path`, renamed
// onto it: other processes see the old file or the complete new one.
Result<void*> replaceFile(const std::string& path, const Geometry& g) {
  unsigned char rnd[8];
  randomBytes(rnd, sizeof rnd);
  std::uint64_t tag = 0;
  std::memcpy(&tag, rnd, sizeof tag);
  const std::string tmp = path + ".tmp." + std::to_string(getpid()) + "." + std::to_string(tag);
  const int fd = open(tmp.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return Status::IOError("auth.throttle_open", "create " + tmp + ": " + errnoText(errno));
  void* base = nullptr;
  std::string failed;
  if (ftruncate(fd, static_cast<off_t>(g.bytes)) != 0) {
    failed = "ftruncate: " + errnoText(errno);
  } else if ((base = mapFile(fd, g.bytes)) == nullptr) {
    failed = "mmap: " + errnoText(errno);
  } else if (!initHeader(static_cast<Header*>(base), g, true)) {
    failed = "mutex init";
  } else if (rename(tmp.c_str(), path.c_str()) != 0) {
    failed = "rename: " + errnoText(errno);
  }
  close(fd);
  if (failed.empty()) return base;
  if (base != nullptr) munmap(base, g.bytes);
  unlink(tmp.c_str());
  return Status::IOError("auth.throttle_open", path + ": " + failed);
}

}  // namespace

std::unique_ptr<FailureThrottle> makeInProcessThrottle(const ThrottlePolicy& policy) {
  const Geometry g = geometryOf(policy);
  void* base = mmap(nullptr, g.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED || !initHeader(static_cast<Header*>(base), g, false))
    throw std::bad_alloc();  // start-up only
  return std::make_unique<TableThrottle>(base, g, policy, false);
}

Result<std::unique_ptr<FailureThrottle>> openSharedThrottle(const std::string& path,
                                                            const ThrottlePolicy& policy) {
  const Geometry g = geometryOf(policy);
  // The file can be replaced between open() and flock(): retry on the new one.
  for (int attempt = 0; attempt < 8; ++attempt) {
    const int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0)
      return Status::IOError("auth.throttle_open", "open " + path + ": " + errnoText(errno));
    struct Closer {
      int fd;
      // Unlock explicitly: a mapping of the file keeps its open file
      // description alive, and with it a flock that close() alone would
      // leave held for the life of the process (every later opener hangs).
      ~Closer() {
        flock(fd, LOCK_UN);
        close(fd);
      }
    } closer{fd};
    if (flock(fd, LOCK_EX) != 0)
      return Status::IOError("auth.throttle_open", "flock " + path + ": " + errnoText(errno));
    struct stat st {}, at_path{};
    if (fstat(fd, &st) != 0)
      return Status::IOError("auth.throttle_open", "fstat " + path + ": " + errnoText(errno));
    if (stat(path.c_str(), &at_path) != 0 || at_path.st_ino != st.st_ino ||
        at_path.st_dev != st.st_dev)
      continue;
    if (st.st_uid != geteuid())
      return Status::PermissionDenied("auth.throttle_owner",
                                      path + " belongs to uid " + std::to_string(st.st_uid));
    if ((st.st_mode & 0777) != 0600 && fchmod(fd, 0600) != 0)
      return Status::IOError("auth.throttle_open", "chmod " + path + ": " + errnoText(errno));
    const std::string why = invalidReason(fd, st, g);
    void* base = nullptr;
    if (why.empty()) {
      base = mapFile(fd, g.bytes);
      if (base == nullptr)
        return Status::IOError("auth.throttle_open", "mmap " + path + ": " + errnoText(errno));
    } else {
      // Still holding the old file's flock: a process racing us waits, then
      // sees that the path names another file and starts over.
      if (why == "empty")
        log::info("auth: throttle state path=" + path + " created");
      else
        log::warn("auth: throttle state path=" + path + " recreated reason=" + why);
      Result<void*> fresh = replaceFile(path, g);
      if (!fresh.ok()) return fresh.status();
      base = fresh.value();
    }
    return std::unique_ptr<FailureThrottle>(
        std::make_unique<TableThrottle>(base, g, policy, true));
  }
  return Status::IOError("auth.throttle_open", path + " keeps being replaced");
}

void holdMutexForTesting(FailureThrottle& throttle) {
  if (auto* t = dynamic_cast<TableThrottle*>(&throttle)) t->holdMutex();
}

}  // namespace eas::auth
