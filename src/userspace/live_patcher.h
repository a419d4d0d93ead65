// Applying and reverting a bundle in one running process: the consistency
// model and the switch. See docs/safety.md for the model in prose.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "bundle/bundle.h"
#include "userspace/build_id_cache.h"
#include "userspace/patch_record.h"

namespace graft::userspace {

struct PatchOptions {
  double timeout_seconds = 10;  // total time to wait for patched functions to go idle
  bool dry_run = false;         // `graft check`: everything but the writes
  std::function<void(const std::string&)> progress;  // optional progress lines
  // Polled between attempts and while waiting: true stops the work at the
  // next safe point, undoing what was started (nothing changed).
  std::function<bool()> cancelled;
  // Look for return addresses into the code being switched saved outside
  // the threads' stacks (suspended coroutines; suspended_stacks.h).
  bool check_suspended = true;
  // Parsed files and gadget places kept across processes (build_id_cache.h);
  // null: this call reads what it needs itself.
  BuildIdCache* cache = nullptr;
};

struct PatchOutcome {
  pid_t pid = 0;
  int attempts = 0;
  double pause_ms = 0;  // longest time the threads were held stopped in one attempt
  PatchRecord record;
};

Result<PatchOutcome> ApplyToProcess(const bundle::Bundle& b, pid_t pid, const PatchOptions& opt);
Result<PatchOutcome> RevertFromProcess(const std::string& id, pid_t pid, const PatchOptions& opt);

// Runs `work` in a child process in its own session and returns what it
// returns: if graft is killed, the child still finishes the transaction so
// the target never stays half-switched. SIGINT/SIGTERM/SIGHUP to graft are
// passed on to the child, which stops at its next safe point and undoes what
// it started (InterruptRequested() is true there); the child also exits,
// which lets go of any thread that never reached a stop.
Result<std::string> RunDetached(const std::function<Result<std::string>()>& work);

}  // namespace graft::userspace
