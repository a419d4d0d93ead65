#include "kernel/run_pre.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

namespace graft::kernel {

namespace {

struct Function {
  uint32_t section = 0;
  uint64_t value = 0, size = 0;
};

// The function `name` (of source `file` when several share the name).
std::optional<Function> FindFunction(const elf::ObjectFile& o, const std::string& name, const std::string& file) {
  std::optional<Function> found;
  int matches = 0;
  for (const elf::Symbol& s : o.symbols()) {
    if (s.type != STT_FUNC || !s.defined() || s.name != name) continue;
    if (!file.empty() && s.local() && s.file != file && matches) continue;
    found = Function{s.shndx, s.value, s.size};
    matches++;
    if (!file.empty() && s.file == file) break;
  }
  return found;
}

// The named function or object covering `addr` in section `shndx`.
std::string SymbolAt(const elf::ObjectFile& o, uint32_t shndx, uint64_t addr) {
  for (const elf::Symbol& s : o.symbols())
    if (s.shndx == shndx && (s.type == STT_FUNC || s.type == STT_OBJECT) && addr >= s.value && addr < s.value + std::max<uint64_t>(s.size, 1))
      return s.name;
  return "";
}

// The symbol a relocation names: its own name; for a section symbol the
// function or object at the referenced offset (a PC-relative field is 4 bytes
// before the end of its instruction in the common case), else the section
// (string pools renumber between builds: any ".rodata.str*" is one class).
std::string Named(const elf::ObjectFile& o, const elf::Relocation& r, const arch::Arch& arch) {
  const elf::Symbol& s = o.symbols()[r.symbol];
  if (s.type != STT_SECTION || s.shndx >= o.sections().size()) return s.name;
  const std::string& sec = o.sections()[s.shndx].name;
  if (sec.rfind(".rodata.str", 0) == 0) return ".rodata.str";
  int64_t at = r.addend + (arch.Classify(r.type) == arch::RelocClass::kPcRelative ? 4 : 0);
  std::string n = at >= 0 ? SymbolAt(o, s.shndx, at) : "";
  return n.empty() ? sec : n;
}

std::map<uint64_t, const elf::Relocation*> RelocsIn(const elf::ObjectFile& o, const Function& f) {
  std::map<uint64_t, const elf::Relocation*> out;
  for (const elf::Relocation& r : o.relocations_for(f.section))
    if (r.offset >= f.value && r.offset < f.value + f.size) out[r.offset - f.value] = &r;
  return out;
}

}  // namespace

Status VerifyAgainstModule(const diff::PatchPlan& plan, const elf::ObjectFile& module, const arch::Arch& arch) {
  for (const diff::PlanFunction& pf : plan.replaced) {
    const elf::ObjectFile& orig = plan.originals[pf.pair]->object();
    auto a = FindFunction(orig, pf.name, pf.local ? pf.file : "");
    auto b = FindFunction(module, pf.name, pf.local ? pf.file : "");
    std::string what = fmt::format("run-pre: function '{}'", pf.name);
    if (!a) return Err("{} is not in the original object {}", what, orig.path());
    if (!b)
      return Err("{} is not in the running module's file {}: the patch was built from another version of the "
                 "module", what, module.path());
    if (a->size != b->size)
      return Err("{} is {} bytes in the original object but {} bytes in {}: the original object was not built "
                 "from the source and configuration of the module that runs", what, a->size, b->size, module.path());
    auto ra = RelocsIn(orig, *a), rb = RelocsIn(module, *b);
    std::vector<bool> masked(a->size, false);
    auto mask = [&](uint64_t at, uint32_t type) {
      for (size_t k = 0; k < arch.FieldSize(type) && at + k < masked.size(); k++) masked[at + k] = true;
    };
    for (const auto& [at, r] : ra) {
      mask(at, r->type);
      auto it = rb.find(at);
      if (it != rb.end()) {
        if (it->second->type != r->type || Named(orig, *r, arch) != Named(module, *it->second, arch))
          return Err("{} at +{:#x} refers to {} in the original object but to {} in {}", what, at, Named(orig, *r, arch),
                     Named(module, *it->second, arch), module.path());
        continue;
      }
      // Resolved by the assembler in the module (a call within one .text):
      // the displacement must land on the symbol the original names.
      arch::RelocClass cls = arch.Classify(r->type);
      const auto& bytes = module.sections()[b->section].data;
      if (cls != arch::RelocClass::kPcRelative || arch.FieldSize(r->type) != 4 || b->value + at + 4 > bytes.size())
        return Err("{} at +{:#x}: the original object has a relocation the module file does not", what, at);
      int32_t disp;
      std::memcpy(&disp, bytes.data() + b->value + at, 4);
      // S + A - P = disp, so S = P + disp - A.
      uint64_t target = b->value + at + disp - r->addend;
      std::string landed = SymbolAt(module, b->section, target);
      if (landed != Named(orig, *r, arch))
        return Err("{} at +{:#x} calls {} in the original object but {} in {}", what, at, Named(orig, *r, arch),
                   landed.empty() ? "something else" : landed, module.path());
    }
    for (const auto& [at, r] : rb)
      if (!ra.count(at)) return Err("{} at +{:#x}: the module file has a relocation the original object does not", what, at);
    const auto& da = orig.sections()[a->section].data;
    const auto& db = module.sections()[b->section].data;
    for (uint64_t k = 0; k < a->size; k++)
      if (!masked[k] && da[a->value + k] != db[b->value + k])
        return Err("{} differs at +{:#x} from the running module's file {}: the original object was not built from "
                   "the source and configuration of the module that runs", what, k, module.path());
  }
  return OkStatus();
}

}  // namespace graft::kernel
