// Closing over references: starting from the functions whose code changed (or
// are new), follow every relocation; copy what is new or read-only and
// compiler-made, and bind everything else to the running program's own
// storage by name, because state must never be duplicated.
#include <elf.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <set>
#include <tuple>

#include "diff/compare.h"
#include "diff/eh_frame.h"
#include "diff/plan.h"
#include "diff/renamed_locals.h"

namespace graft::diff {
namespace {

struct PairState {
  const ObjectModel* orig;
  const ObjectModel* patched;
  std::map<int, int> counterpart;  // patched entity -> original entity
  std::set<int> changed;           // patched functions with new code
  std::set<int> added;             // patched entities with no original
  std::map<int, uint32_t> copied;  // patched entity -> plan section
  std::map<int, int> renamed;      // numbered static locals paired across builds (patched -> original)
};

class PlanBuilder {
 public:
  PlanBuilder(PatchPlan& plan, const arch::Arch& arch, const std::set<std::string>& ignore,
              const std::set<std::string>& ignore_any)
      : plan_(plan), arch_(arch), ignore_(ignore), ignore_any_(ignore_any) {}

  Status Diff(size_t pair_index);
  Status Close();
  Status CarryUnwindTables();

 private:
  Result<uint32_t> Copy(size_t pair, int entity);
  // `field_in_code`: the relocation is in `from`'s own section (false for its
  // unwind table), so a PC-relative operand counts from its instruction's end.
  Result<Referent> Bind(size_t pair, const Entity& from, const elf::Relocation& r, int64_t* addend,
                        bool field_in_code = true);
  bool Included(size_t pair, int entity) const {
    return pairs_[pair].changed.count(entity) || pairs_[pair].added.count(entity);
  }

 public:
  std::vector<PairState> pairs_;

 private:
  PatchPlan& plan_;
  const arch::Arch& arch_;
  const std::set<std::string>& ignore_;
  const std::set<std::string>& ignore_any_;
  std::vector<std::pair<size_t, int>> work_;
};

// Where in its target a relocation points, as the code means it: from the
// target's symbol, after the PC adjustment of an instruction operand (`call f`
// carries f-4 and means f). Table entries need none: `.long .Lcase-.Ltable`
// is nonzero for every case, `.quad .Lcase` is the case's offset.
static int64_t MeantOffset(const ObjectModel& m, const Entity& from, const elf::Relocation& r, int64_t offset,
                           bool field_in_code) {
  bool operand = field_in_code && from.kind == EntityKind::kFunction &&
                 m.arch().Classify(r.type) != arch::RelocClass::kAbsolute;
  return offset + (operand ? m.PcAdjust(from, r.offset) : 0);
}

Status PlanBuilder::Diff(size_t p) {
  PairState& st = pairs_[p];
  const ObjectModel& o = *st.orig;
  const ObjectModel& n = *st.patched;
  const std::string& obj = n.object().path();
  st.renamed = CorrelateRenamedLocals(o, n);
  std::set<int> claimed;  // originals paired by their renamed counterparts
  for (auto [pi, oi] : st.renamed) claimed.insert(oi);
  EntityComparator cmp(o, n, &st.renamed);
  std::set<int> changed_constants;
  for (size_t i = 0; i < n.entities().size(); i++) {
    const Entity& e = n.entities()[i];
    const Entity* oe = nullptr;
    if (auto rn = st.renamed.find(i); rn != st.renamed.end()) {
      oe = &o.entities()[rn->second];
    } else {
      oe = o.Find(e.key);
      if (oe && claimed.count(static_cast<int>(oe - o.entities().data()))) oe = nullptr;
    }
    if (!oe || oe->kind != e.kind) {
      if (e.kind == EntityKind::kFunction || e.kind == EntityKind::kData || e.kind == EntityKind::kConstant)
        st.added.insert(i);
      if (oe && oe->kind != e.kind)
        return Err("{}: {} changed from {} to {}; a running program's layout cannot change that way",
                   obj, e.symbol, KindName(oe->kind), KindName(e.kind));
      continue;
    }
    int oi = static_cast<int>(oe - o.entities().data());
    st.counterpart[i] = oi;
    std::string why;
    if (e.kind == EntityKind::kStrings || e.kind == EntityKind::kAnonymous) continue;
    if (cmp.Same(oi, i, &why)) continue;
    switch (e.kind) {
      case EntityKind::kFunction:
        st.changed.insert(i);
        break;
      case EntityKind::kData:
        return Err("{}: variable '{}' {}: its initial value, size or layout changed, but the running "
                   "program already holds its current value; a live patch cannot change it. "
                   "Keep the variable as it is (add a new one instead)", obj, e.symbol, why);
      case EntityKind::kConstant:
        changed_constants.insert(i);
        break;
      default:
        break;
    }
  }
  // A function that reads a changed constant behaves differently even if its
  // code did not change. A constant holding places inside a changed function
  // (a computed goto's label table) must point into the new code: it is
  // carried too, with the functions reading it. Cold parts travel with their
  // parent (it jumps into them, they jump back). Until nothing more changes.
  auto replaced = [&](int x) {
    const Entity* parent = n.entities()[x].parent.empty() ? nullptr : n.Find(n.entities()[x].parent);
    return st.changed.count(x) || (parent && st.changed.count(parent - n.entities().data()));
  };
  for (bool more = true; more;) {
    more = false;
    for (size_t i = 0; i < n.entities().size(); i++) {
      const Entity& e = n.entities()[i];
      if (st.added.count(i) || changed_constants.count(i)) continue;
      if (st.changed.count(i)) {
        const Entity* parent = e.parent.empty() ? nullptr : n.Find(e.parent);
        if (parent && st.changed.insert(parent - n.entities().data()).second) more = true;
        continue;
      }
      for (const elf::Relocation& r : n.RelocsOf(e)) {
        Reference ref = n.Resolve(r);
        if (ref.external || ref.entity < 0) continue;
        bool reads = e.kind == EntityKind::kFunction && changed_constants.count(ref.entity);
        const Entity& t = n.entities()[ref.entity];
        // Every place in a cold part is inside its function; nobody takes its address.
        bool into = (e.kind == EntityKind::kConstant || e.kind == EntityKind::kData) && replaced(ref.entity) &&
                    (!t.parent.empty() || MeantOffset(n, e, r, ref.offset - t.symbol_offset, false) != 0);
        if (into && e.kind == EntityKind::kData)
          return Err("{}: variable '{}' holds addresses inside '{}' (labels), whose code the patch replaces; the "
                     "running program's copy would keep sending the new code into the old. Make the table const",
                     obj, e.symbol, t.symbol);
        if (!reads && !into) continue;
        (e.kind == EntityKind::kFunction ? st.changed : changed_constants).insert(i);
        more = true;
        break;
      }
    }
  }
  for (int c : changed_constants) st.added.insert(c);  // carried as a fresh copy
  for (size_t i = 0; i < n.entities().size(); i++) {
    const Entity& e = n.entities()[i];
    if (e.parent.empty()) continue;
    const Entity* parent = n.Find(e.parent);
    if (parent && st.changed.count(parent - n.entities().data())) {
      st.changed.erase(i);
      st.added.insert(i);  // new copy, no redirect: only the new parent reaches it
    }
  }
  auto constants = [&](int i) { return ConstantOnlyChanges(o, st.counterpart.at(i), n, i); };
  for (auto it = st.changed.begin(); it != st.changed.end();) {
    const Entity& e = n.entities()[*it];
    if (ignore_any_.count(e.symbol)) {
      plan_.ignored.push_back(fmt::format("{} (marked in the source)", e.symbol));
      it = st.changed.erase(it);
      continue;
    }
    if (!ignore_.count(e.symbol)) {
      ++it;
      continue;
    }
    auto c = st.counterpart.count(*it) ? constants(*it) : std::nullopt;
    if (!c)
      return Err("{}: function '{}' changed in more than constants; --ignore-function only leaves out "
                 "functions whose sole difference is constants such as __LINE__", obj, e.symbol);
    plan_.ignored.push_back(fmt::format("{} ({})", e.symbol, FormatConstantChanges(*c)));
    it = st.changed.erase(it);
  }
  for (auto it = st.changed.begin(); it != st.changed.end();) {
    const Entity& e = n.entities()[*it];
    if (!e.startup) {
      ++it;
      continue;
    }
    auto c = st.counterpart.count(*it) ? constants(*it) : std::nullopt;
    // Kernel init code (.init.text) is freed once the kernel or module has
    // started: when only constants moved in it (__LINE__ of a WARN), there is
    // nothing to patch and nothing to ask the operator.
    if (c && n.SectionOf(e).name.rfind(".init.text", 0) == 0) {
      plan_.ignored.push_back(fmt::format("{} (init code, freed after boot: {})", e.symbol, FormatConstantChanges(*c)));
      it = st.changed.erase(it);
      continue;
    }
    return Err("{}: function '{}' changed, but it runs only at program start or exit (main, "
               "constructors, destructors); patching it would not affect the running process{}",
               obj, e.symbol,
               c ? fmt::format(". Only constants differ in it ({}): if they are line numbers (__LINE__) moved by "
                               "the fix, --ignore-function {} leaves it out", FormatConstantChanges(*c), e.symbol)
                 : "");
  }
  for (int i : st.changed) work_.push_back({p, i});
  for (int i : st.added)
    if (n.entities()[i].kind == EntityKind::kFunction) work_.push_back({p, i});
  return OkStatus();
}

Result<uint32_t> PlanBuilder::Copy(size_t p, int entity) {
  PairState& st = pairs_[p];
  auto it = st.copied.find(entity);
  if (it != st.copied.end()) return it->second;
  const ObjectModel& n = *st.patched;
  const Entity& e = n.entities()[entity];
  const elf::Section& s = n.SectionOf(e);
  PlanSection ps;
  ps.name = e.symbol.empty() ? s.name : e.symbol;
  ps.align = s.align;
  ps.size = s.size;
  ps.pair = p;
  ps.source_section = e.section;
  if (!s.nobits()) ps.bytes.assign(s.data.begin(), s.data.end());
  ps.kind = s.exec() ? PlanSection::Kind::kText
            : s.nobits() ? PlanSection::Kind::kBss
            : s.write() ? PlanSection::Kind::kData
                        : PlanSection::Kind::kRodata;
  uint32_t idx = plan_.sections.size();
  plan_.sections.push_back(std::move(ps));
  st.copied[entity] = idx;
  if (e.kind == EntityKind::kFunction) {
    if (st.changed.count(entity) && st.counterpart.count(entity)) {
      const Entity& oe = st.orig->entities()[st.counterpart[entity]];
      plan_.replaced.push_back({oe.symbol, st.orig->file(), oe.local, idx, p, st.counterpart[entity], {}});
      if (auto c = ConstantOnlyChanges(*st.orig, st.counterpart[entity], n, entity))
        plan_.replaced.back().constants_only = std::move(*c);
    } else {
      plan_.added.push_back(e.symbol);
    }
  } else if (e.kind == EntityKind::kData || e.kind == EntityKind::kConstant) {
    plan_.new_data.push_back(e.symbol);
  }
  for (const elf::Relocation& r : n.RelocsOf(e)) {
    int64_t addend = r.addend;
    GRAFT_ASSIGN(Referent to, Bind(p, e, r, &addend));
    plan_.sections[idx].relocs.push_back({r.offset, r.type, addend, to});
  }
  return idx;
}

// Finds the patched object (and entity) that defines global `name`, if any.
static std::pair<int, int> DefinedIn(const std::vector<PairState>& pairs, const std::string& name) {
  for (size_t p = 0; p < pairs.size(); p++) {
    const Entity* e = pairs[p].patched->Find(name);
    if (e && !e->local) return {static_cast<int>(p), static_cast<int>(e - pairs[p].patched->entities().data())};
  }
  return {-1, -1};
}

Result<Referent> PlanBuilder::Bind(size_t p, const Entity& from, const elf::Relocation& r, int64_t* addend,
                                   bool field_in_code) {
  PairState& st = pairs_[p];
  const ObjectModel& n = *st.patched;
  const std::string& obj = n.object().path();
  arch::RelocClass cls = arch_.Classify(r.type);
  if (arch_.TlsAccessOf(r.type) == arch::TlsAccess::kUnsupported)
    return Err("{}: '{}' reaches thread-local storage through {}, which graft does not rewrite; compile "
               "with -mtls-dialect=gnu (no TLS descriptors)", obj, from.symbol, arch_.RelocName(r.type));
  if (cls == arch::RelocClass::kUnsupported)
    return Err("{}: '{}' has relocation type {} which graft does not handle", obj, from.symbol, r.type);
  Reference ref = n.Resolve(r);
  int owner = static_cast<int>(p), entity = ref.entity;
  Referent to;
  if (ref.external) {
    auto [dp, de] = DefinedIn(pairs_, ref.name);
    if (dp < 0) {
      to.kind = Referent::Kind::kExternal;
      to.name = ref.name;
      return to;
    }
    owner = dp;
    entity = de;
    ref.offset = pairs_[dp].patched->entities()[de].symbol_offset + r.addend;
  }
  if (entity < 0) {
    // Not a function or variable: a place in a kernel table or out-of-line code.
    std::optional<RawPlace> place = ref.external ? std::nullopt : n.RawPlaceOf(r);
    if (place && (place->section_name == ".altinstr_aux" || place->section_name == "__dyndbg")) {
      to.kind = Referent::Kind::kRaw;
      to.section = place->section;
      to.place = MeantOffset(n, from, r, place->offset, field_in_code);
      *addend = place->offset;
      return to;
    }
    // A named symbol there exists in the running program as it is: a static
    // call trampoline (`call __SCT__tp_func_x`, a tracepoint's), whose code
    // the kernel keeps pointing at the current target.
    if (place && !place->symbol.empty() && place->symbol.rfind("__SCT__", 0) == 0) {
      to.kind = Referent::Kind::kExisting;
      to.name = place->symbol;
      to.file = n.file();
      for (const elf::Symbol& s : n.object().symbols())
        if (s.name == place->symbol && s.shndx == place->section) to.local = s.local();
      *addend = place->into_symbol;
      return to;
    }
    std::string name = place ? place->section_name : "?";
    return Err("{}: '{}' references section {}{}, which graft cannot follow", obj, from.symbol, name,
               place && !place->symbol.empty() ? " (" + place->symbol + ")" : "");
  }
  PairState& os = pairs_[owner];
  const Entity& t = os.patched->entities()[entity];
  *addend = ref.offset - static_cast<int64_t>(t.symbol_offset);
  // A place inside a replaced function (a jump-table entry, a computed-goto
  // label, a branch back from its cold part) exists only in the new copy's
  // layout; the old code at that offset is other instructions, or the old
  // behaviour. Only the entry keeps the old address (function pointers).
  bool interior = t.kind == EntityKind::kFunction && os.changed.count(entity) &&
                  MeantOffset(n, from, r, *addend, field_in_code) != 0;
  // Variables whose identity does not matter get a copy of their own rather
  // than a binding the running kernel may not be able to resolve (numbered
  // statics repeat by the hundred in vmlinux's kallsyms, with no file):
  // - zero-size ones hold nothing and code only passes their address on. A
  //   lockdep key (`static struct lock_class_key __key` of mutex_init(),
  //   init_waitqueue_head(), ...) is zero-size when the kernel has no lockdep
  //   (Debian's), and then nothing ever looks at that address;
  // - WARN_ONCE()/printk_once() flags (.data.once): a fresh one can at most
  //   print that one warning once more.
  const elf::Section& ts = os.patched->SectionOf(t);
  bool identityless = t.kind == EntityKind::kData && t.local &&
                      (ts.size == 0 || ts.name.rfind(".data.once", 0) == 0);
  bool copy = os.added.count(entity) || t.kind == EntityKind::kStrings || t.kind == EntityKind::kAnonymous ||
              (os.changed.count(entity) && t.kind != EntityKind::kFunction) || interior || identityless;
  if (copy && (os.patched->SectionOf(t).flags & SHF_TLS))
    return Err("{}: '{}' uses thread-local variable '{}', which the running program does not have: threads "
               "that already exist have no storage for a new one. Keep the fix to existing thread-local "
               "variables (or a new global guarded by a lock)", obj, from.symbol, t.symbol);
  if (copy) {
    if (!os.copied.count(entity)) work_.push_back({static_cast<size_t>(owner), entity});
    GRAFT_ASSIGN(uint32_t idx, Copy(owner, entity));
    to.kind = Referent::Kind::kCopied;
    to.section = idx;
    *addend = ref.offset;
    return to;
  }
  // Exists in the running program: bind by the ORIGINAL object's name, since
  // the static-local suffix may differ in the patched build.
  auto cp = os.counterpart.find(entity);
  if (cp == os.counterpart.end())
    return Err("{}: '{}' references '{}', which is in neither build", obj, from.symbol, t.symbol);
  const Entity& oe = os.orig->entities()[cp->second];
  to.kind = Referent::Kind::kExisting;
  to.name = oe.symbol;
  to.file = os.orig->file();
  to.local = oe.local;
  to.function = t.kind == EntityKind::kFunction;
  // A section holding several named variables (the kernel's __tracepoints:
  // every tracepoint a file defines): by the one the reference lands in, so
  // that the binding does not depend on how they are laid out.
  if (t.kind == EntityKind::kData && !oe.local) {
    const elf::ObjectFile& po = os.patched->object();
    for (const elf::Symbol& v : po.symbols()) {
      if (v.shndx != t.section || v.type != STT_OBJECT || v.local() || v.name == t.symbol || v.size == 0 ||
          ref.offset < static_cast<int64_t>(v.value) || ref.offset >= static_cast<int64_t>(v.value + v.size))
        continue;
      to.name = v.name;
      *addend = ref.offset - static_cast<int64_t>(v.value);
      break;
    }
  }
  if (os.changed.count(entity)) {
    GRAFT_ASSIGN(uint32_t idx, Copy(owner, entity));
    to.replacement = idx;
  }
  return to;
}

// In the order found (pairs, then entities in section order), so the
// plan's sections come out the same on every run.
Status PlanBuilder::Close() {
  for (size_t next = 0; next < work_.size(); next++) {
    auto [p, e] = work_[next];
    GRAFT_TRY(Copy(p, e));
  }
  work_.clear();
  return OkStatus();
}

// Frame descriptions of every copied function, from the patched objects'
// .eh_frame: each needed CIE once, each FDE with its CIE pointer rewritten,
// pc_begin tied to the copy, LSDA and personality references bound like any
// other reference (the LSDA tables get copied, DW.ref.* cells are bound).
Status PlanBuilder::CarryUnwindTables() {
  PlanSection out;
  out.name = ".eh_frame";
  out.kind = PlanSection::Kind::kRodata;
  out.align = 8;
  size_t fdes = 0;
  for (size_t p = 0; p < pairs_.size(); p++) {
    PairState& st = pairs_[p];
    const ObjectModel& n = *st.patched;
    const elf::ObjectFile& obj = n.object();
    const elf::Section* eh = obj.section_named(".eh_frame");
    if (!eh || eh->size == 0) continue;
    GRAFT_ASSIGN(auto records, ParseEhFrame(eh->data));
    std::vector<elf::Relocation> relocs = obj.relocations_for(eh->index);
    std::sort(relocs.begin(), relocs.end(), [](auto& a, auto& b) { return a.offset < b.offset; });
    std::map<uint64_t, uint64_t> cie_at;  // offset in .eh_frame -> offset in out
    auto copy = [&](const EhRecord& r, const Entity& owner, int fn_section) -> Result<uint64_t> {
      uint64_t at = out.bytes.size();
      out.bytes.insert(out.bytes.end(), eh->data.begin() + r.offset, eh->data.begin() + r.offset + r.size);
      for (const elf::Relocation& rel : relocs) {
        if (rel.offset < r.offset || rel.offset >= r.offset + r.size) continue;
        uint64_t where = at + (rel.offset - r.offset);
        if (!r.cie && rel.offset == r.offset + 8) {  // pc_begin: the new code
          Referent to;
          to.kind = Referent::Kind::kCopied;
          to.section = static_cast<uint32_t>(fn_section);
          out.relocs.push_back({where, rel.type, n.Resolve(rel).offset, to});
          continue;
        }
        int64_t addend = rel.addend;
        auto to = Bind(p, owner, rel, &addend, /*field_in_code=*/false);
        if (!to.ok()) return to.error().context(fmt::format("unwind table of {}", owner.symbol));
        out.relocs.push_back({where, rel.type, addend, *to});
      }
      return at;
    };
    for (const EhRecord& r : records) {
      if (r.cie) continue;
      auto pc = std::find_if(relocs.begin(), relocs.end(), [&](auto& rel) { return rel.offset == r.offset + 8; });
      if (pc == relocs.end()) continue;
      Reference ref = n.Resolve(*pc);
      if (ref.external || ref.entity < 0 || !st.copied.count(ref.entity)) continue;
      const Entity& fn = n.entities()[ref.entity];
      if (fn.kind != EntityKind::kFunction) continue;
      auto cie = std::find_if(records.begin(), records.end(), [&](auto& c) { return c.cie && c.offset == r.cie_offset; });
      if (cie == records.end()) return Err("{}: .eh_frame FDE at +{:#x} has no CIE", obj.path(), r.offset);
      if (!cie_at.count(cie->offset)) {
        GRAFT_ASSIGN(uint64_t at, copy(*cie, fn, -1));
        cie_at[cie->offset] = at;
      }
      GRAFT_ASSIGN(uint64_t at, copy(r, fn, static_cast<int>(st.copied[ref.entity])));
      uint32_t pointer = static_cast<uint32_t>(at + 4 - cie_at[cie->offset]);
      memcpy(&out.bytes[at + 4], &pointer, 4);
      fdes++;
    }
  }
  if (!fdes) return OkStatus();
  out.bytes.resize(out.bytes.size() + 4, 0);  // terminator
  out.size = out.bytes.size();
  plan_.eh_frame_section = static_cast<int>(plan_.sections.size());
  plan_.sections.push_back(std::move(out));
  PlanSection object;
  object.name = "unwind registration";
  object.kind = PlanSection::Kind::kBss;
  object.align = 16;
  object.size = 64;
  plan_.unwind_object_section = static_cast<int>(plan_.sections.size());
  plan_.sections.push_back(std::move(object));
  return Close();  // LSDA tables found above
}

}  // namespace

Result<PatchPlan> MakePatchPlan(const std::vector<ObjectPair>& pairs, const arch::Arch& arch,
                                const std::set<std::string>& ignore, const std::set<std::string>& ignore_any) {
  // Callers pass the objects in the order a parallel build happened to
  // compile them; by path, the plan (the functions `graft build` lists, the
  // bundle's layout) is the same for every build of the same fix.
  std::vector<ObjectPair> sorted = pairs;
  std::stable_sort(sorted.begin(), sorted.end(), [](const ObjectPair& x, const ObjectPair& y) {
    return std::tie(x.patched->path(), x.original->path()) < std::tie(y.patched->path(), y.original->path());
  });
  PatchPlan plan;
  PlanBuilder b(plan, arch, ignore, ignore_any);
  for (const ObjectPair& op : sorted) {
    GRAFT_ASSIGN(auto o, ObjectModel::Build(*op.original, arch));
    GRAFT_ASSIGN(auto n, ObjectModel::Build(*op.patched, arch));
    b.pairs_.push_back({o.get(), n.get(), {}, {}, {}, {}, {}});
    plan.originals.push_back(std::move(o));
    plan.patched.push_back(std::move(n));
  }
  for (size_t p = 0; p < pairs.size(); p++) GRAFT_TRY(b.Diff(p));
  GRAFT_TRY(b.Close());
  GRAFT_TRY(b.CarryUnwindTables());
  std::stable_sort(plan.replaced.begin(), plan.replaced.end(), [](const PlanFunction& x, const PlanFunction& y) {
    return std::tie(x.pair, x.name, x.file) < std::tie(y.pair, y.name, y.file);
  });
  if (plan.replaced.empty() && plan.added.empty())
    return Err("no function changed between the original and patched objects: nothing to patch");
  return plan;
}

}  // namespace graft::diff
