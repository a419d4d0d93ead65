// Builds a kernel live patch module from original and patched objects of
// the patched object's translation units (compiled by kbuild with
// -ffunction-sections -fdata-sections): the shared diff engine decides what
// changed and what the new code needs, patch_object writes the new code,
// a generated klp_patch source and the kernel's own kbuild (from the headers
// package of the target kernel) link them into a module, and klp_convert
// rewrites its references to unexported symbols into livepatch relocations.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace graft::kernel {

// One patched object of the running kernel (one klp_object): vmlinux or a
// module, and the translation units of it that the fix changes.
struct KernelBuildTarget {
  std::string object = "vmlinux";  // vmlinux or a module's name
  std::string target_module;       // that module's .ko (its symbols; its vermagic names the kernel)
  std::vector<std::pair<std::string, std::string>> objects;  // (original, patched)
};

struct KernelBuildRequest {
  std::vector<KernelBuildTarget> targets;  // one or more; a fix spanning vmlinux and modules has several
  std::string kernel_release;      // default: the target module's, else the running kernel's
  std::string headers;             // default: /usr/src/linux-headers-<release>
  std::string system_map;          // default: /boot/System.map-<release>
  std::string name;                // module name; default from the output file
  std::vector<std::string> cves;
  std::string description;
  std::string output;              // the .ko to write
  std::string work_dir;            // kept when given, else a temporary directory
  std::vector<std::string> ignored_functions;
  std::vector<std::string> allowed_layout_changes;  // "struct NAME" whose layout may change
  std::function<void(const std::string&)> progress;
};

struct KernelBuildSummary {
  std::string name, output, kernel_release;
  std::string object;                    // the patched objects, comma-separated ("vmlinux,nf_tables")
  std::vector<std::string> replaced;     // "name" or "name,sympos" (object-qualified "mod:name" when several)
  std::vector<std::string> added;        // new functions
  std::vector<std::string> klp_symbols;  // resolved by the livepatch core
  std::vector<std::string> dropped;      // special sections left out
  std::vector<std::string> cves;
  std::vector<std::string> notes;        // e.g. objects without debug information
  int orc_entries = 0;
  std::map<std::string, int> tables;     // carried entries: __ex_table, __bug_table, .altinstructions
  int klp_relocations = 0;
  double seconds = 0;
};

Result<KernelBuildSummary> BuildKernelLivePatch(const KernelBuildRequest& req);

// Refuses a linked live patch whose modpost log (`log`) shows undefined
// symbols other than livepatch ones: the kernel would not load it.
Status CheckModpostLog(const std::string& log, const std::string& release);

// Module names: lower-case letters, digits and '_', at most 55 characters.
Status ValidateModuleName(const std::string& name);

}  // namespace graft::kernel
