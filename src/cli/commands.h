// One registration function per command group; main.cc calls each. A command's
// callback prints its own output and throws CLI::RuntimeError(code) on failure
// after printing "graft: <message>" to stderr (see cli/output.h).
#pragma once

#include <CLI/CLI.hpp>

namespace graft::cli {

void RegisterUserspaceCommands(CLI::App& app);  // apply, revert, list, info, check
void RegisterBuildCommand(CLI::App& app);       // build (objects or source tree)
void RegisterCvssCommand(CLI::App& app);        // cvss
void RegisterAdvisoryCommands(CLI::App& app);   // advisories import|list|show|publish|policy
void RegisterScanCommands(CLI::App& app);       // scan, supported
void RegisterKernelCommands(CLI::App& app);     // kernel status|load|unload|info
void RegisterTrustCommands(CLI::App& app);      // keygen, sign, verify

}  // namespace graft::cli
