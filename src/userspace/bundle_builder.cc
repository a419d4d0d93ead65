// graft build (objects): diff, verify the originals against the target,
// resolve every reference the target file can answer, and write the bundle.
// References that only the running process can answer (imports the target
// never called) stay symbolic and are looked up at apply time.
#include "userspace/bundle_builder.h"

#include <elf.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "bundle/bundle.h"
#include "diff/compare.h"
#include "diff/plan.h"
#include "diff/type_layout.h"
#include "elf/target_symbols.h"
#include "userspace/run_pre.h"
#include "userspace/tls_binding.h"
#include "userspace/symbol_source.h"

namespace graft::userspace {
namespace {

using bundle::Reloc;

class BundleResolver {
 public:
  BundleResolver(const diff::PatchPlan& plan, const elf::TargetSymbols& syms, TlsBinder& tls,
                 bool executable, const arch::Arch& arch, bundle::Bundle& out)
      : plan_(plan), syms_(syms), tls_(tls), executable_(executable), arch_(arch), out_(out) {}

  Status Resolve() {
    for (const diff::PlanSection& ps : plan_.sections) {
      bundle::Section s;
      s.name = ps.name;
      s.kind = static_cast<bundle::Section::Kind>(ps.kind);
      s.align = ps.align;
      s.size = ps.size;
      s.bytes = ps.bytes;
      out_.sections.push_back(std::move(s));
    }
    for (size_t i = 0; i < plan_.sections.size(); i++) {
      for (const diff::PlanReloc& pr : plan_.sections[i].relocs) {
        if (arch_.Classify(pr.type) == arch::RelocClass::kTls) {
          auto r = tls_.Bind(i, pr);
          if (!r.ok()) return r.error().context(fmt::format("'{}'", plan_.sections[i].name));
          if (*r) out_.sections[i].relocs.push_back(std::move(**r));
          continue;
        }
        GRAFT_ASSIGN(Reloc r, Bind(plan_.sections[i], pr));
        if (FarData(i, r)) {
          GRAFT_TRY(RouteThroughCell(i, r));
          continue;
        }
        GRAFT_TRY(Indirect(i, r));
        out_.sections[i].relocs.push_back(std::move(r));
      }
    }
    return OkStatus();
  }

 private:
  Result<Reloc> Bind(const diff::PlanSection& from, const diff::PlanReloc& pr) {
    Reloc r;
    r.offset = pr.offset;
    r.type = pr.type;
    r.addend = pr.addend;
    const diff::Referent& to = pr.to;
    r.symbol = to.name;
    bool branch = from.kind == diff::PlanSection::Kind::kText && arch_.IsBranchOperand(from.bytes, pr.offset);
    switch (to.kind) {
      case diff::Referent::Kind::kCopied:
        r.kind = Reloc::Kind::kSection;
        r.section = to.section;
        r.symbol = plan_.sections[to.section].name;
        return r;
      case diff::Referent::Kind::kExisting: {
        // A shared library calls its own exported functions through its PLT,
        // so that another library can interpose them; new code does the same.
        if (!to.local && to.function && branch) {
          if (auto plt = syms_.PltStub(to.name)) {
            r.kind = Reloc::Kind::kTarget;
            r.address = *plt;
            return r;
          }
        }
        if (to.replacement >= 0 && branch) {
          r.kind = Reloc::Kind::kSection;
          r.section = to.replacement;
          return r;
        }
        bool ambiguous = false;
        auto sym = to.local ? syms_.Find(to.name, to.file, &ambiguous) : syms_.FindGlobal(to.name);
        if (!sym)
          return Err("'{}' (from {}) is not in the target's symbol table; the target is stripped or "
                     "was built from other sources", to.name, to.file);
        if (ambiguous)
          return Err("several static '{}' exist in files named {} in the target; cannot tell which one "
                     "the patch means", to.name, to.file);
        if (sym->type == STT_GNU_IFUNC) return BindIfunc(std::move(r));
        r.kind = Reloc::Kind::kTarget;
        r.address = sym->value;
        return r;
      }
      case diff::Referent::Kind::kExternal: {
        if (auto def = syms_.FindGlobal(to.name)) {
          if (def->type == STT_GNU_IFUNC) return BindIfunc(std::move(r));
          r.kind = Reloc::Kind::kTarget;
          r.address = def->value;
          return r;
        }
        if (auto plt = syms_.PltStub(to.name); plt && branch) {
          r.kind = Reloc::Kind::kTarget;
          r.address = *plt;
          return r;
        }
        // Libraries are mapped far from a program, beyond what a 32-bit field
        // reaches: code is moved out of line (RouteThroughCell), data cannot be.
        if (executable_ && !branch && arch_.Classify(pr.type) != arch::RelocClass::kGotRelative &&
            arch_.FieldSize(pr.type) < 8 &&
            (from.kind != diff::PlanSection::Kind::kText || arch_.Classify(pr.type) != arch::RelocClass::kPcRelative))
          return Err("'{}' refers to '{}' with {}, but the target has no copy of it (it never used it), so it "
                     "lives in a shared library, out of reach of a 32-bit reference from the patch. Code built with "
                     "-fPIC reaches '{}' through the GOT, which a patch can (a program built that way can be "
                     "patched so); otherwise reach it through a pointer the program already has",
                     from.name, to.name, arch_.RelocName(pr.type), to.name);
        r.kind = Reloc::Kind::kExternal;
        return r;
      }
    }
    return Err("unreachable referent kind");
  }

  // An IFUNC's symbol is its resolver: the patch must reach what the
  // resolver chose, through the target's PLT stub for it or the GOT slot ld.so
  // filled with it (IRELATIVE).
  Result<Reloc> BindIfunc(Reloc r) {
    if (auto plt = syms_.PltStub(r.symbol)) {
      r.kind = Reloc::Kind::kTarget;
      r.address = *plt;
      return r;
    }
    if (auto slot = syms_.IfuncSlot(r.symbol)) {
      r.kind = Reloc::Kind::kTargetWord;
      r.address = *slot;
      return r;
    }
    return Err("'{}' is an IFUNC of the target that the target itself never calls, so no resolved address of it "
               "exists in the running program and graft does not run resolvers; call the implementation the "
               "resolver picks directly", r.symbol);
  }

  // A 32-bit PC-relative data reference of the main program's new code to a
  // variable of another library (one the program never used, so it has no
  // copy of it): out of reach from the patch mapping.
  bool FarData(size_t section, const Reloc& r) const {
    const bundle::Section& s = out_.sections[section];
    return executable_ && r.kind == Reloc::Kind::kExternal && s.kind == bundle::Section::Kind::kText &&
           !arch_.IsBranchOperand(s.bytes, r.offset) && arch_.Classify(r.type) == arch::RelocClass::kPcRelative &&
           arch_.FieldSize(r.type) == 4;
  }

  // Moves the instruction out of line into a thunk that reaches the variable
  // through a pointer cell of the patch's own, filled at apply time with the
  // variable's address in the process (like a GOT slot).
  Status RouteThroughCell(size_t section, const Reloc& r) {
    const std::string name = out_.sections[section].name;  // sections are added below: no references kept
    auto route = arch_.RouteThroughCell(out_.sections[section].bytes, r.offset);
    if (!route.ok())
      return Err("'{}' refers to '{}' with {}, but the target has no copy of it (it never used it), so it lives in a "
                 "shared library, out of reach of a 32-bit reference from the patch, and the instruction cannot be "
                 "moved out of line ({}). Build the fix with -fPIC to reach '{}' through the GOT",
                 name, r.symbol, arch_.RelocName(r.type), route.error().message(), r.symbol);
    for (const diff::PlanReloc& other : plan_.sections[section].relocs)
      if (other.offset != r.offset && other.offset >= route->start && other.offset < route->end)
        return Err("'{}': the instruction reading '{}' carries a second relocation; build the fix with -fPIC",
                   name, r.symbol);
    // The cell: one per variable and offset, shared by every access.
    int64_t operand = r.addend + route->operand_bias;
    std::string key = fmt::format("cell:{}:{}", r.symbol, operand);
    auto cell = indirect_.find(key);
    if (cell == indirect_.end()) {
      bundle::Section s;
      s.name = fmt::format("cell:{}{:+}", r.symbol, operand);
      s.kind = bundle::Section::Kind::kRodata;  // written once, when the patch is applied
      s.align = 8;
      s.bytes.assign(8, 0);
      s.size = 8;
      Reloc abs = r;
      abs.offset = 0;
      abs.type = R_X86_64_64;
      abs.addend = operand;
      s.relocs.push_back(abs);
      cell = indirect_.emplace(key, out_.sections.size()).first;
      out_.sections.push_back(std::move(s));
    }
    bundle::Section thunk;
    thunk.name = fmt::format("thunk:{}+{:#x}", name, route->start);
    thunk.kind = bundle::Section::Kind::kText;
    thunk.align = 16;
    thunk.bytes = route->thunk;
    thunk.size = thunk.bytes.size();
    auto pc32 = [](uint64_t offset, uint32_t to, int64_t addend) {
      Reloc x;
      x.offset = offset;
      x.type = R_X86_64_PC32;
      x.kind = Reloc::Kind::kSection;
      x.section = to;
      x.addend = addend;
      return x;
    };
    thunk.relocs.push_back(pc32(route->cell_field, cell->second, -4));
    thunk.relocs.push_back(pc32(route->back_field, static_cast<uint32_t>(section), static_cast<int64_t>(route->end) - 4));
    uint32_t thunk_index = static_cast<uint32_t>(out_.sections.size());
    out_.sections.push_back(std::move(thunk));
    bundle::Section& code = out_.sections[section];
    std::copy(route->entry.begin(), route->entry.end(), code.bytes.begin() + route->start);
    code.relocs.push_back(pc32(route->start + route->entry_field, thunk_index, -4));
    return OkStatus();
  }

  // GOT loads get a slot of the bundle's own; calls to imports the target has
  // no PLT stub for get a veneer that jumps through an absolute address.
  Status Indirect(size_t section, Reloc& r) {
    arch::RelocClass cls = arch_.Classify(r.type);
    bool branch = out_.sections[section].kind == bundle::Section::Kind::kText &&
                  arch_.IsBranchOperand(out_.sections[section].bytes, r.offset);
    bool needs_got = cls == arch::RelocClass::kGotRelative;
    bool far = r.kind == Reloc::Kind::kExternal || r.kind == Reloc::Kind::kTargetWord;
    bool needs_veneer = !needs_got && branch && far;
    if (r.kind == Reloc::Kind::kTargetWord && !needs_got && !needs_veneer)
      return Err("{}: takes the address of IFUNC '{}' with {}, which cannot read the resolved address from "
                 "a GOT slot; compile the patch with -fPIC", out_.sections[section].name, r.symbol,
                 arch_.RelocName(r.type));
    if (!needs_got && !needs_veneer) return OkStatus();
    std::string key = fmt::format("{}:{}:{}:{}:{}", needs_got ? "got" : "veneer", int(r.kind), r.section,
                                  r.address, r.symbol);
    auto it = indirect_.find(key);
    if (it == indirect_.end()) {
      bundle::Section s;
      size_t literal = 0;
      if (needs_got) {
        s.name = "got:" + r.symbol;
        s.kind = bundle::Section::Kind::kRodata;
        s.bytes.assign(8, 0);
      } else {
        s.name = "veneer:" + r.symbol;
        s.kind = bundle::Section::Kind::kText;
        s.bytes = arch_.AbsoluteJumpVeneer(&literal);
      }
      s.align = 8;
      s.size = s.bytes.size();
      Reloc abs = r;
      abs.offset = literal;
      abs.type = R_X86_64_64;
      abs.addend = needs_got ? 0 : r.addend + 4;  // the call's -4 addend is PC bias, not part of the address
      if (needs_got) abs.addend = 0;
      s.relocs.push_back(abs);
      it = indirect_.emplace(key, out_.sections.size()).first;
      out_.sections.push_back(std::move(s));
    }
    // The instruction stays as compiled; it now reads our slot / calls our veneer.
    if (needs_got) {
      r.type = R_X86_64_PC32;
    }
    r.kind = Reloc::Kind::kSection;
    r.section = it->second;
    return OkStatus();
  }

  const diff::PatchPlan& plan_;
  const elf::TargetSymbols& syms_;
  TlsBinder& tls_;
  bool executable_;  // the main program: shared libraries are mapped far from it
  const arch::Arch& arch_;
  bundle::Bundle& out_;
  std::map<std::string, uint32_t> indirect_;
};

}  // namespace

// Refuses a fix that changes a struct or union layout (from the objects'
// DWARF), unless the operator allowed that type.
// Returns notes for objects it could not check (no DWARF).
Result<std::vector<std::string>> CheckTypeLayouts(const BundleRequest& req) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < req.original_objects.size(); i++)
    pairs.emplace_back(req.original_objects[i], req.patched_objects[i]);
  return diff::CheckLayoutChanges(pairs, req.allowed_layout_changes, "the running program");
}

// The process's unwinder finds code through the loaded objects' unwind
// tables; the patch's own are registered at apply time. Without any (objects
// built with -fno-asynchronous-unwind-tables), a C++ exception reaching a
// patched function would find no frame information and terminate the
// program: such a patch for a target that throws is refused.
Status CheckUnwinding(const BundleRequest& req, const elf::ObjectFile& target, const diff::PatchPlan& plan) {
  if (req.allow_unwind_gap || plan.eh_frame_section >= 0) return OkStatus();
  static const std::set<std::string_view> kThrowing = {"__cxa_throw", "__gxx_personality_v0",
                                                       "_Unwind_RaiseException", "_Unwind_Resume"};
  for (const auto* table : {&target.dynamic_symbols(), &target.symbols()})
    for (const auto& sym : *table)
      if (kThrowing.count(sym.name))
        return Err("{} unwinds C++ exceptions ({}), but the patched objects carry no unwind tables (built with "
                   "-fno-asynchronous-unwind-tables?): an exception passing through a patched function would "
                   "terminate the program. Rebuild with unwind tables, or --allow-unwind-gap when no exception "
                   "can cross the changed functions",
                   req.target, sym.name);
  return OkStatus();
}

Result<BuildSummary> BuildBundle(const BundleRequest& req) {
  if (req.original_objects.empty()) return Err("no original objects given (--orig)");
  if (req.original_objects.size() != req.patched_objects.size())
    return Err("{} original objects but {} patched ones: give one --patched per --orig, in the same order",
               req.original_objects.size(), req.patched_objects.size());
  GRAFT_ASSIGN(auto target, elf::ObjectFile::Open(req.target));
  if (target->relocatable()) return Err("{}: the target must be a linked executable or shared library", req.target);
  GRAFT_ASSIGN(const arch::Arch* arch, arch::ArchFor(target->machine()));
  if (target->build_id().empty())
    return Err("{}: has no GNU build-id; relink with -Wl,--build-id so patches can be matched to it",
               req.target);
  std::string symbol_source;
  if (target->symbols().empty()) {
    std::vector<std::string> candidates;
    if (!req.symbols.empty()) {
      candidates = {req.symbols};
    } else {
      candidates = {DebugFileFor(target->build_id())};
      candidates.insert(candidates.end(), req.symbol_candidates.begin(), req.symbol_candidates.end());
    }
    GRAFT_ASSIGN(symbol_source, AdoptSymbolSource(*target, candidates, !req.symbols.empty()));
  } else if (!req.symbols.empty()) {
    return Err("{} has its own symbol table; --symbols is for stripped targets", req.target);
  }
  elf::TargetSymbols syms(*target);

  std::vector<std::unique_ptr<elf::ObjectFile>> files;
  std::vector<diff::ObjectPair> pairs;
  for (size_t i = 0; i < req.original_objects.size(); i++) {
    GRAFT_ASSIGN(auto o, elf::ObjectFile::Open(req.original_objects[i]));
    GRAFT_ASSIGN(auto n, elf::ObjectFile::Open(req.patched_objects[i]));
    pairs.push_back({o.get(), n.get()});
    files.push_back(std::move(o));
    files.push_back(std::move(n));
  }
  GRAFT_ASSIGN(diff::PatchPlan plan,
               diff::MakePatchPlan(pairs, *arch, {req.ignored_functions.begin(), req.ignored_functions.end()}));
  GRAFT_ASSIGN(std::vector<std::string> notes, CheckTypeLayouts(req));
  GRAFT_TRY(CheckUnwinding(req, *target, plan));

  bundle::Bundle b;
  b.id = req.id.empty() ? std::filesystem::path(req.output).stem().string() : req.id;
  GRAFT_TRY(bundle::ValidateId(b.id));
  b.description = req.description;
  b.cves = req.cves;
  b.supersedes = req.supersedes;
  b.target_name = std::filesystem::path(req.target).filename().string();
  b.target_build_id = target->build_id();
  b.added = plan.added;
  b.new_data = plan.new_data;

  // Run-pre: every replaced function, as the original object has it, must be
  // exactly what the target runs.
  std::vector<std::string> mismatches;
  std::vector<std::unique_ptr<RunPreVerifier>> verifiers;
  for (auto& m : plan.originals) verifiers.push_back(std::make_unique<RunPreVerifier>(*m, *target, syms));
  for (const diff::PlanFunction& f : plan.replaced) {
    bool ambiguous = false;
    auto sym = f.local ? syms.Find(f.name, f.file, &ambiguous) : syms.FindGlobal(f.name);
    const diff::ObjectModel& om = *plan.originals[f.pair];
    const auto& sec = om.SectionOf(om.entities()[f.orig_entity]);
    if (!sym) {
      mismatches.push_back(fmt::format("{} ({}): not found in {}", f.name, f.file, req.target));
      continue;
    }
    if (ambiguous) {
      mismatches.push_back(fmt::format("{} ({}): several functions of that name in files named {}", f.name,
                                       f.file, f.file));
      continue;
    }
    std::string why, layout_why;
    // Byte for byte first; else instruction by instruction, since a target
    // built without -ffunction-sections may encode branches and padding
    // differently.
    bool same_size = sym->size == sec.size;
    if (!(same_size && verifiers[f.pair]->VerifyAt(f.orig_entity, sym->value, &why)) &&
        !verifiers[f.pair]->VerifyLayout(f.orig_entity, sym->value, sym->size, &layout_why)) {
      if (same_size)
        mismatches.push_back(fmt::format("{}: {}", f.name, why));
      else
        mismatches.push_back(fmt::format("{}: {} bytes in the original object but {} in the target ({})", f.name,
                                         sec.size, sym->size, layout_why));
      continue;
    }
    auto code = target->bytes_at(sym->value, sym->size);
    size_t need = arch->EntryPatchOffset(code) + arch->JumpSize();
    if (sym->size < need) {
      mismatches.push_back(fmt::format("{}: only {} bytes long, too short for the {}-byte redirect", f.name,
                                       sym->size, need));
      continue;
    }
    bundle::Function bf;
    bf.name = f.name;
    bf.address = sym->value;
    bf.size = sym->size;
    bf.section = f.section;
    bf.expected.assign(code.begin(), code.end());
    b.functions.push_back(std::move(bf));
  }
  if (!mismatches.empty()) {
    std::string list;
    for (const std::string& m : mismatches) list += "\n  " + m;
    return Err("run-pre verification failed against {}: the original objects do not reproduce the "
               "target's code, so the patch was not built for this binary (other sources, compiler "
               "or flags?):{}", req.target, list);
  }
  elf::TargetTls tls(*target);
  TlsBinder tls_binder(req.target, syms, tls, *arch, b);
  BundleResolver resolver(plan, syms, tls_binder, tls.main_executable(), *arch, b);
  GRAFT_TRY(resolver.Resolve());
  b.eh_frame_section = plan.eh_frame_section;
  b.unwind_object_section = plan.unwind_object_section;

  BuildSummary summary;
  summary.id = b.id;
  summary.target_build_id = b.target_build_id;
  summary.symbol_source = symbol_source;
  for (const auto& f : b.functions) summary.replaced.push_back(f.name);
  for (const diff::PlanFunction& f : plan.replaced) {
    if (f.constants_only.empty()) continue;
    summary.constants_only.push_back(fmt::format("{} ({})", f.name, diff::FormatConstantChanges(f.constants_only)));
  }
  summary.ignored = plan.ignored;
  summary.notes = std::move(notes);
  summary.unwind_tables = plan.eh_frame_section >= 0;
  summary.added = b.added;
  summary.new_data = b.new_data;
  for (const auto& s : b.sections) summary.code_bytes += s.size;
  GRAFT_TRY(bundle::WriteFile(b, req.output));
  return summary;
}

}  // namespace graft::userspace
