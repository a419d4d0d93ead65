#include "kernel/run_pre.h"

#include <elf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>

#include "userspace/run_pre.h"

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
// before the end of its instruction in the common case), a string literal by
// its bytes (the linker merges string sections: ".rodata.<fn>.str1.1" of the
// object is part of ".rodata.str1.1" in the module, at another offset), else
// the section.
// `to_end`: bytes from the field to the end of its instruction, where a
// PC-relative operand counts from (an immediate may follow the field).
std::string Named(const elf::ObjectFile& o, const elf::Relocation& r, const arch::Arch& arch, uint32_t to_end = 4) {
  const elf::Symbol& s = o.symbols()[r.symbol];
  if (!s.defined() || s.shndx >= o.sections().size()) return s.name;
  const elf::Section& section = o.sections()[s.shndx];
  const std::string& sec = section.name;
  int64_t at = static_cast<int64_t>(s.value) + r.addend + (arch.Classify(r.type) == arch::RelocClass::kPcRelative ? to_end : 0);
  // Literals are named by the assembler's local labels (".LC1"), which
  // number differently in every build, or by their section.
  if (section.merge_strings() && !section.exec()) {
    if (at < 0 || static_cast<uint64_t>(at) >= section.data.size()) return sec + "+out of range";
    std::string text;
    for (uint64_t k = at; k < section.data.size() && section.data[k]; k++) text += static_cast<char>(section.data[k]);
    return "string \"" + text + "\"";
  }
  if (s.type != STT_SECTION) return s.name;
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
    // Where each field's instruction ends, in the original's code (the
    // module's has the same instructions where run-pre passes).
    std::map<uint64_t, uint32_t> to_end;
    {
      std::vector<uint64_t> fields;
      for (const auto& [at, r] : ra) fields.push_back(at);
      const auto& code = orig.sections()[a->section].data;
      auto ends = arch.FieldToInstructionEnd(code.subspan(a->value, a->size), fields);
      if (ends.ok())
        for (auto [at, n] : *ends) to_end[at] = n;
    }
    auto named = [&](const elf::ObjectFile& o, const elf::Relocation& r, uint64_t at) {
      auto it = to_end.find(at);
      return Named(o, r, arch, it == to_end.end() ? 4 : it->second);
    };
    std::vector<bool> masked(a->size, false);
    auto mask = [&](uint64_t at, uint32_t type) {
      for (size_t k = 0; k < arch.FieldSize(type) && at + k < masked.size(); k++) masked[at + k] = true;
    };
    for (const auto& [at, r] : ra) {
      mask(at, r->type);
      auto it = rb.find(at);
      if (it != rb.end()) {
        if (it->second->type != r->type || named(orig, *r, at) != named(module, *it->second, at))
          return Err("{} at +{:#x} refers to {} in the original object but to {} in {}", what, at, named(orig, *r, at),
                     named(module, *it->second, at), module.path());
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
      if (landed != named(orig, *r, at))
        return Err("{} at +{:#x} calls {} in the original object but {} in {}", what, at, named(orig, *r, at),
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

std::vector<elf::Symbol> SymbolsFromMap(const std::vector<MapSymbol>& map, uint64_t kaslr, const elf::ObjectFile& image) {
  // Kernel addresses are randomized; per-CPU symbols are offsets (small).
  auto link = [&](uint64_t a) { return a >= 0xffff800000000000ull ? a - kaslr : a; };
  std::vector<uint64_t> starts;
  for (const MapSymbol& m : map) starts.push_back(link(m.address));
  std::sort(starts.begin(), starts.end());
  std::vector<elf::Symbol> out;
  for (const MapSymbol& m : map) {
    elf::Symbol s;
    s.index = out.size();
    s.name = m.name;
    s.value = link(m.address);
    s.type = m.text() ? STT_FUNC : STT_OBJECT;
    s.bind = m.local() ? STB_LOCAL : STB_GLOBAL;
    s.shndx = SHN_ABS;
    for (const elf::Section& sec : image.sections())
      if (sec.alloc() && s.value >= sec.addr && s.value < sec.addr + sec.size) s.shndx = sec.index;
    auto next = std::upper_bound(starts.begin(), starts.end(), s.value);
    s.size = next == starts.end() ? 0 : *next - s.value;
    out.push_back(std::move(s));
  }
  return out;
}

VmlinuxRunPre::VmlinuxRunPre(const diff::PatchPlan& plan, const elf::ObjectFile& image, bool sizes_exact,
                             std::string shown)
    : plan_(plan), image_(image), syms_(image), sizes_exact_(sizes_exact), shown_(std::move(shown)) {
  for (const auto& m : plan.originals) verifiers_.push_back(std::make_unique<userspace::RunPreVerifier>(*m, image, syms_));
}

VmlinuxRunPre::~VmlinuxRunPre() = default;

bool VmlinuxRunPre::SameCode(const std::string& name, const std::string& file, uint64_t address, std::string* why) {
  *why = fmt::format("no original object defines function '{}'", name);
  for (size_t pair = 0; pair < plan_.originals.size(); pair++) {
    const diff::ObjectModel& om = *plan_.originals[pair];
    if (!file.empty() && om.file() != file) continue;
    for (size_t e = 0; e < om.entities().size(); e++) {
      const diff::Entity& ent = om.entities()[e];
      if (ent.kind != diff::EntityKind::kFunction || ent.symbol != name) continue;
      uint64_t size = om.SectionOf(ent).size;
      // The image's own size when its symbols say; else (a symbol map) up to
      // the next symbol, less the int3/nop fill the object does not have.
      const elf::Symbol* at = syms_.FunctionAt(address);
      uint64_t target_size = at && at->value == address ? at->size : 0;
      if (!sizes_exact_ && target_size) {
        auto code = image_.bytes_at(address, target_size);
        auto own = om.SectionOf(ent).data;
        size_t fill = 0, own_fill = 0;
        while (fill < code.size() && (code[code.size() - 1 - fill] == 0xcc || code[code.size() - 1 - fill] == 0x90)) fill++;
        while (own_fill < own.size() && own[own.size() - 1 - own_fill] == 0xcc) own_fill++;
        if (fill > own_fill) target_size -= fill - own_fill;
      }
      if (image_.bytes_at(address, size).size() != size) {
        *why = fmt::format("{:#x} is not in the kernel image", address);
        return false;
      }
      std::string exact, layout;
      if (verifiers_[pair]->VerifyAt(static_cast<int>(e), address, &exact)) return true;
      // Debian builds without -ffunction-sections: the assembler may have
      // resolved a jump within the file to its short form.
      if (target_size && verifiers_[pair]->VerifyLayout(static_cast<int>(e), address, target_size, &layout)) return true;
      *why = target_size && target_size != size ? fmt::format("{} (instruction by instruction: {})", exact, layout) : exact;
      return false;
    }
  }
  return false;
}

Status VmlinuxRunPre::Verify(const SymbolBinder& binder) {
  for (const diff::PlanFunction& pf : plan_.replaced) {
    std::string file = pf.local ? pf.file : "";
    GRAFT_ASSIGN(int pos, binder.FunctionPosition(pf.name, file));
    GRAFT_ASSIGN(uint64_t address, binder.LinkAddress(pf.name, pos));
    std::string why;
    if (!SameCode(pf.name, file, address, &why))
      return Err("run-pre: function '{}'{} is not the code of the running kernel at {:#x} ({}): {}; the original "
                 "objects were not built from the sources and configuration of this kernel", pf.name,
                 pos ? fmt::format(" (position {})", pos) : "", address, shown_, why);
  }
  return OkStatus();
}

}  // namespace graft::kernel
