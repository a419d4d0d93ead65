// The kernel's module signature in the `graft kernel` commands (kernel_sign_cmd.cc).
#pragma once

#include <CLI/CLI.hpp>

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "kernel/module_signing.h"

namespace graft::cli {

// --<prefix>key, --<prefix>cert, --<prefix>hash and --sign-file on `cmd`.
std::shared_ptr<kernel::KernelSignOptions> AddKernelSignOptions(CLI::App* cmd, const std::string& prefix);

void PrintKernelSignature(const std::string& module, const kernel::ModuleSignature& s);
nlohmann::json KernelSignatureJson(const kernel::ModuleSignature& s);  // null when unsigned

// `graft kernel sign-module`.
void RegisterKernelSignCommand(CLI::App* group);

}  // namespace graft::cli
