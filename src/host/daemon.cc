#include "host/daemon.h"

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>

#include "host/apply_installed.h"

namespace graft::host {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

struct Listener {
  int fd = -1;
  std::string path;
  ~Listener() {
    if (fd >= 0) close(fd);
    if (!path.empty()) unlink(path.c_str());
  }
};

Status Listen(const std::string& dir, Listener& l) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Err("cannot create {}: {}", dir, ec.message());
  chmod(dir.c_str(), 0755);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::string path = dir + "/agent.sock";
  if (path.size() >= sizeof addr.sun_path) return Err("{}: path too long for a Unix socket", path);
  std::strcpy(addr.sun_path, path.c_str());
  unlink(path.c_str());  // a previous graftd's
  l.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l.fd < 0) return Err("socket: {}", std::strerror(errno));
  if (bind(l.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) < 0)
    return Err("cannot listen on {}: {}", path, std::strerror(errno));
  l.path = path;
  // Every process may ask for itself: graftd only ever applies installed
  // bundles, to the pid the kernel vouches for.
  chmod(path.c_str(), 0666);
  if (listen(l.fd, 128) < 0) return Err("listen on {}: {}", path, std::strerror(errno));
  return OkStatus();
}

// One agent's request: the peer's pid from SO_PEERCRED, the installed
// bundles applied to it, one line of answer.
void Serve(int conn, const DaemonOptions& opt, std::mutex& lock, userspace::BuildIdCache& cache) {
  ucred cred{};
  socklen_t len = sizeof cred;
  if (getsockopt(conn, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.pid <= 0) return;
  char req[64];
  pollfd p{conn, POLLIN, 0};
  if (poll(&p, 1, 1000) <= 0 || read(conn, req, sizeof req) <= 0) return;
  auto t0 = Clock::now();
  ApplyInstalledOptions ao;
  ao.store = opt.store;
  ao.kernel_records = opt.kernel_records;
  ao.only = {cred.pid};
  ao.timeout_seconds = opt.timeout_seconds;
  ao.allow_unsigned = opt.allow_unsigned;
  ao.apply_lock = &lock;
  ao.cache = &cache;
  ApplyInstalledResult r = ApplyInstalled(ao);
  double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
  std::string answer;
  if (r.failed.empty()) {
    answer = fmt::format("ok {}\n", r.applied.size());
  } else {
    std::string m = r.failed.front().message();
    std::replace(m.begin(), m.end(), '\n', ' ');  // one line for the agent
    answer = "error: " + m + "\n";
  }
  // The agent may have given up waiting and closed: no SIGPIPE for graftd.
  (void)send(conn, answer.data(), answer.size(), MSG_NOSIGNAL);
  if (opt.log) {
    for (const auto& a : r.applied) opt.log(fmt::format("new process: {} ({:.0f} ms)", a, ms));
    for (const auto& e : r.failed) opt.log(fmt::format("new process {}: {}", cred.pid, e.message()));
  }
}

void CatchUp(const DaemonOptions& opt, std::mutex& lock, userspace::BuildIdCache& cache) {
  RefreshAgentIndex(opt.agent_dir, opt.store, opt.allow_unsigned);
  ApplyInstalledOptions ao;
  ao.store = opt.store;
  ao.kernel_records = opt.kernel_records;
  ao.timeout_seconds = opt.timeout_seconds;
  ao.allow_unsigned = opt.allow_unsigned;
  ao.cancelled = opt.stop;
  ao.apply_lock = &lock;
  ao.cache = &cache;
  ApplyInstalledResult r = ApplyInstalled(ao);
  if (!opt.log) return;
  for (const auto& a : r.applied) opt.log(a);
  for (const auto& e : r.failed) opt.log(e.message());
}

}  // namespace

void RefreshAgentIndex(const std::string& agent_dir, const std::string& store, bool allow_unsigned) {
  if (!fs::is_directory(agent_dir)) return;
  (void)WriteAgentIndex(store, allow_unsigned, agent_dir + "/agent.index");
}

Status RunDaemon(const DaemonOptions& opt) {
  Listener l;
  GRAFT_TRY(WriteAgentIndex(opt.store, opt.allow_unsigned, opt.agent_dir + "/agent.index"));
  GRAFT_TRY(Listen(opt.agent_dir, l));
  if (opt.log) opt.log(fmt::format("listening on {} (store {})", l.path, opt.store));
  // Full passes (at start, then every interval) read every process and may
  // take seconds: they run beside the loop that serves new processes, which
  // must never wait for them. Applies take turns under `lock`.
  std::mutex lock, log_lock;
  // What the files of patched processes taught graftd, kept across requests
  // (bounded; keyed by build-id, so nothing goes stale).
  userspace::BuildIdCache cache;
  DaemonOptions locked = opt;
  if (opt.log)
    locked.log = [&](const std::string& m) {
      std::lock_guard<std::mutex> g(log_lock);
      opt.log(m);
    };
  std::atomic<bool> done{false};
  std::thread passes([&] {
    auto next = Clock::now(), next_update = Clock::now();
    while (!done && !(opt.stop && opt.stop())) {
      if (opt.update && Clock::now() >= next_update) {
        opt.update(locked.log);
        next_update = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                         std::chrono::duration<double>(opt.update_interval_seconds));
        next = Clock::now();  // the full pass brings what the update installed to every process
      }
      if (Clock::now() >= next) {
        CatchUp(locked, lock, cache);
        next = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                  std::chrono::duration<double>(opt.interval_seconds));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  });
  while (!(opt.stop && opt.stop())) {
    pollfd p{l.fd, POLLIN, 0};
    if (poll(&p, 1, 1000) > 0) {
      int conn = accept4(l.fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (conn >= 0) {
        Serve(conn, locked, lock, cache);
        close(conn);
      }
    }
  }
  done = true;
  passes.join();
  if (opt.log) opt.log("stopping");
  return OkStatus();
}

}  // namespace graft::host
