#include "userspace/symbol_source.h"

#include <elf.h>

#include <algorithm>
#include <filesystem>

namespace graft::userspace {

std::string DebugFileFor(const std::string& build_id, const std::string& root) {
  if (build_id.size() < 3) return "";
  return root + "/.build-id/" + build_id.substr(0, 2) + "/" + build_id.substr(2) + ".debug";
}

// Why `cand` does not describe `target`'s code; "" when it does.
static std::string Mismatch(const elf::ObjectFile& target, const elf::ObjectFile& cand, std::string* how) {
  if (cand.symbols().empty()) return "it has no symbol table either";
  bool debug_file = true;  // code sections present only as NOBITS: objcopy --only-keep-debug
  for (const elf::Section& s : target.sections()) {
    if (!s.alloc() || s.nobits() || s.name == ".note.gnu.build-id") continue;
    const elf::Section* c = cand.section_named(s.name);
    if (c && !c->nobits()) debug_file = false;
  }
  for (const elf::Section& s : target.sections()) {
    if (!s.alloc()) continue;
    const elf::Section* c = cand.section_named(s.name);
    if (!c) return fmt::format("it has no section {}", s.name);
    if (c->addr != s.addr || c->size != s.size)
      return fmt::format("section {} is at {:#x} ({} bytes) there, at {:#x} ({} bytes) in the target", s.name,
                         c->addr, c->size, s.addr, s.size);
    if (debug_file || s.nobits() || s.name == ".note.gnu.build-id") continue;
    if (c->data.size() != s.data.size()) return fmt::format("section {} differs in size", s.name);
    auto diff = std::mismatch(s.data.begin(), s.data.end(), c->data.begin());
    if (diff.first != s.data.end())
      return fmt::format("section {} differs from byte {:#x} on", s.name, diff.first - s.data.begin());
  }
  if (debug_file) {
    if (cand.build_id() != target.build_id())
      return fmt::format("it is a debug file for build-id {}, not {}", cand.build_id(), target.build_id());
    *how = "debug file of the same build-id";
  } else {
    *how = "every mapped section identical to the target's";
  }
  return "";
}

Result<std::string> AdoptSymbolSource(elf::ObjectFile& target, const std::vector<std::string>& candidates,
                                      bool named) {
  std::vector<std::string> refused;
  std::string their_compiler;
  for (const std::string& path : candidates) {
    if (path.empty() || !std::filesystem::exists(path)) continue;
    auto cand = elf::ObjectFile::Open(path);
    if (!cand.ok()) {
      refused.push_back(fmt::format("{}: {}", path, cand.error().message()));
      continue;
    }
    std::string how;
    std::string why = Mismatch(target, **cand, &how);
    if (why.empty()) {
      target.AdoptSymbols(**cand);
      return fmt::format("symbols from {} ({})", path, how);
    }
    refused.push_back(fmt::format("{}: {}", path, why));
    if (their_compiler.empty()) their_compiler = (*cand)->Comment();
  }
  std::string ours = target.Comment();
  std::string hint;
  if (!their_compiler.empty() && ours.empty())
    hint = fmt::format(". The candidate was built by \"{}\"; the target does not name its compiler (its .comment "
                       "was stripped): try another one with --compiler gcc-N (the package's .buildinfo names the one "
                       "the distribution used)", their_compiler);
  else if (!their_compiler.empty() && their_compiler != ours)
    hint = fmt::format(". The target was built by \"{}\", the candidate by \"{}\": build with that compiler "
                       "(--compiler)", ours, their_compiler);
  if (named)
    return Err("{} is stripped and {}{}", target.path(),
               refused.empty() ? "the --symbols file does not exist" : refused.front(), hint);
  if (refused.empty())
    return Err("{}: has no symbol table (stripped), and no symbol source was found: install its debug file ({}), "
               "or give --symbols with an unstripped build of the same sources (a source build offers the "
               "binaries it linked)", target.path(), DebugFileFor(target.build_id()));
  return Err("{}: has no symbol table (stripped), and none of the {} candidate(s) reproduces its code: {}{}; "
             "another compiler or other flags are the usual cause", target.path(), refused.size(),
             fmt::format("{}", fmt::join(refused, "; ")), hint);
}

}  // namespace graft::userspace
