// graftd (`graft daemon`): keeps every process running the installed
// patches. It serves the start-up agent (src/agent/agent.c) on a Unix socket:
// a process that starts mapping a patched build-id connects from its
// preloaded constructor, before any code of its own runs, and graftd applies
// the installed bundles to it (the peer's pid comes from the socket's
// credentials) and answers; the process then goes on, patched. It keeps the
// agent's index of patched build-ids current, and every `interval` applies
// whatever is still missing anywhere (processes the agent could not cover:
// static binaries, processes started while graftd was down). State lives on
// disk (the bundle store): a restarted graftd picks up where it was.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"

namespace graft::host {

struct DaemonOptions {
  std::string agent_dir = "/run/graft";  // agent.sock, agent.index
  std::string store;                     // installed bundles
  std::string kernel_records;
  double interval_seconds = 300;  // full catch-up pass
  double timeout_seconds = 10;    // per apply, for busy functions
  bool allow_unsigned = false;
  // Runs at start and then every update_interval_seconds, on the thread of
  // the full passes (the CLI fetches the followed channels and loads the
  // kernel's installed patches there; src/repo stands above src/host).
  std::function<void(const std::function<void(const std::string&)>& log)> update;
  double update_interval_seconds = 3600;
  std::function<bool()> stop;                    // polled at least once a second
  std::function<void(const std::string&)> log;  // one line per event
};

Status RunDaemon(const DaemonOptions& opt);

// Rewrites <agent_dir>/agent.index when graftd's directory exists (install
// and uninstall call it so that new processes see the change at once).
void RefreshAgentIndex(const std::string& agent_dir, const std::string& store, bool allow_unsigned);

}  // namespace graft::host
