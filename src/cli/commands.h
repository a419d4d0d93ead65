// One registration function per command group; main.cc calls each. A command's
// callback prints its own output and throws CLI::RuntimeError(code) on failure
// after printing "graft: <message>" to stderr (see cli/output.h).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace graft::cli {

void RegisterUserspaceCommands(CLI::App& app);  // apply, revert, list, info, check
void RegisterBuildCommand(CLI::App& app);       // build (objects or source tree)
void RegisterCvssCommand(CLI::App& app);        // cvss
void RegisterAdvisoryCommands(CLI::App& app);   // advisories import|list|show|publish|policy
void RegisterScanCommands(CLI::App& app);       // scan, supported
void RegisterKernelCommands(CLI::App& app);     // kernel status|load|unload|info
void RegisterTrustCommands(CLI::App& app);      // keygen, sign, verify
void RegisterHostCommands(CLI::App& app);       // install, uninstall, apply-installed, status
void RegisterRepoCommands(CLI::App& app);       // repo add|promote|withdraw|policy|list
void RegisterUpdateCommands(CLI::App& app);     // channel add|remove|list, update

// Shared by command groups.
std::string DefaultAgentDir();  // $GRAFT_AGENT_DIR or /run/graft
// graftd's periodic update (update_cmd.cc): the followed channels, the
// kernel's installed patches, the agent's index.
std::function<void(const std::function<void(const std::string&)>&)> DaemonUpdate(bool allow_unsigned);

}  // namespace graft::cli
