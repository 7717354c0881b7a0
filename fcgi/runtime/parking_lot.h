// The worker's parking lot: every parked Ping of this process as a data
// object, driven by one event thread and a small executor, never by a
// thread per request.
//
//  - event thread: epoll over the parked requests' connections
//    (EPOLLRDHUP: nginx closed it, the request is freed), a min-heap of
//    heartbeat deadlines (epoll_wait's timeout), an eventfd to wake it when
//    a nearer deadline arrives or the lot shuts down. It does no I/O with a
//    backend.
//  - executor (a few threads): a woken request's re-check
//    (ParkedRequest::recheck), which talks to the store and IMAP, and the
//    answer it sends.
//  - notify()/endDevice()/park() come from any thread (request threads, the
//    notify client's thread) and only schedule work.
//
// A request is never re-checked by two threads at once: a wake that
// arrives during a re-check is remembered and runs right after it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/base/clock.h"
#include "core/base/status.h"
#include "core/commands/push.h"
#include "fcgi/notify/notify_client.h"

namespace eas::runtime {

struct ParkingLotOptions {
  int executor_threads = 2;
  std::size_t max_parked = 20000;  // [push] max_parked_per_worker; more: 503 at once
  Clock* clock = &Clock::real();   // deadlines; a ManualClock in tests (then call poke())
  // Called with (login, true) before each request parks and (login, false)
  // after it left, never under the lot's lock: the notify client's counted
  // watchUser/unwatchUser, so notifyd relays events only for parked users.
  std::function<void(const std::string& login, bool watch)> watch_hook;
  // Sibling workers (the children of this pid, normally the master's):
  // endDevice() also reaches their lots, over an abstract unix datagram
  // socket "@eas-fcgi-lot/<group>/<pid>" each lot binds, because a device's
  // next Ping may land on another worker. 0: this lot only.
  int sibling_group = 0;
};

class ParkingLot final : public commands::PushHub {
 public:
  explicit ParkingLot(ParkingLotOptions options = {});
  // shutdown(), then frees everything.
  ~ParkingLot() override;
  ParkingLot(const ParkingLot&) = delete;
  ParkingLot& operator=(const ParkingLot&) = delete;

  // Creates the epoll set and the eventfd and starts the threads.
  // Failure: runtime.parking_lot (errno text).
  Status start();

  void park(commands::PushWatch watch, std::unique_ptr<commands::DeferredReply> reply,
            std::unique_ptr<commands::ParkedRequest> request) override;
  void notify(const std::string& login, const std::string& folder) override;
  void endDevice(const std::string& login, const std::string& device_id) override;
  std::size_t parkedCount() const override;

  // Answers every parked request (recheck(kShutdown)), waits up to
  // `timeout_ms` for the answers, stops the threads. Later park() calls
  // answer at once. Idempotent.
  void shutdown(std::int64_t timeout_ms = 5000);

  // Makes the event thread look at the clock now (tests with a ManualClock).
  void poke();

  // The link to eas-notifyd: the lot registers each parked request's user
  // with it (watchUser/unwatchUser) and is destroyed with it (the client
  // goes first after the shutdown). REQUIRES: called before the first
  // park(), e.g. with a client whose handler calls notify().
  void attachNotifyClient(std::unique_ptr<notify::NotifyClient> client);

  // Counters for logs, tests and the benchmark.
  struct Stats {
    std::uint64_t parked = 0;        // park() calls accepted
    std::uint64_t answered = 0;      // replies sent
    std::uint64_t client_gone = 0;   // freed because the connection closed
    std::uint64_t spurious = 0;      // event re-checks that found nothing
    std::uint64_t superseded = 0;    // ended by a newer request of the device
    std::uint64_t rejected_full = 0; // refused: the lot was full
  };
  Stats stats() const;

 private:
  struct Entry;
  using EntryPtr = std::shared_ptr<Entry>;

  void eventLoop();
  void executorLoop();
  // REQUIRES: mu_ held. Starts a re-check, or remembers the reason when
  // one is running.
  void wakeLocked(const EntryPtr& e, commands::WakeReason why);
  void runCheck(EntryPtr e, commands::WakeReason why);
  // REQUIRES: mu_ held. Takes the entry out of every index and the epoll set.
  void detachLocked(Entry& e);
  void clientGone(std::uint64_t id);
  void runDueTimers();
  void signalEventThread();
  void watchHook(const std::string& login, bool watch);
  void endDeviceLocal(const std::string& login, const std::string& device_id);
  void tellSiblings(const std::string& login, const std::string& device_id);
  void readSiblingMessages();

  const ParkingLotOptions options_;
  int epoll_fd_ = -1;  // const after start()
  int event_fd_ = -1;  // const after start()
  int sibling_fd_ = -1;  // const after start(); -1 without a sibling group

  mutable std::mutex mu_;
  std::condition_variable work_cv_;   // executor: tasks_ not empty or stopping_
  std::condition_variable empty_cv_;  // shutdown: entries_ empty
  bool started_ = false;                                           // guarded by mu_
  bool stopping_ = false;                                          // guarded by mu_
  bool threads_stop_ = false;                                      // guarded by mu_
  std::uint64_t next_id_ = 1;                                      // guarded by mu_
  std::unordered_map<std::uint64_t, EntryPtr> entries_;            // guarded by mu_
  std::unordered_map<std::string, std::vector<std::uint64_t>> by_user_;  // guarded by mu_
  std::map<std::pair<std::string, std::string>, std::uint64_t> by_device_;  // guarded by mu_
  // Min-heap of (deadline ms, id); stale pairs are skipped when popped.
  std::priority_queue<std::pair<std::int64_t, std::uint64_t>,
                      std::vector<std::pair<std::int64_t, std::uint64_t>>, std::greater<>>
      timers_;                                                     // guarded by mu_
  std::deque<std::function<void()>> tasks_;                        // guarded by mu_
  Stats stats_;                                                    // guarded by mu_

  std::unique_ptr<notify::NotifyClient> notify_client_;  // set before the first park
  // The sibling workers' pids, re-read from /proc at most every 2 s (a scan
  // per Ping would cost more than the Ping).
  std::mutex siblings_mu_;
  std::vector<int> siblings_;            // guarded by siblings_mu_
  std::int64_t siblings_read_ms_ = -1;   // guarded by siblings_mu_
  std::thread event_thread_;
  std::vector<std::thread> executor_;
};

}  // namespace eas::runtime
