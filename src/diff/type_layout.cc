// libdwfl, not bare libdw: in a relocatable object the string offsets in
// .debug_info are relocations, which only libdwfl applies.
#include "diff/type_layout.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <set>

namespace graft::diff {

namespace {

std::string NameOf(Dwarf_Die* die) {
  const char* n = dwarf_diename(die);
  return n ? n : "";
}

// "int", "struct foo *", "char[3]": enough to tell a member's type changed.
std::string TypeName(Dwarf_Die* die, int depth = 0) {
  Dwarf_Attribute attr;
  Dwarf_Die type;
  if (depth > 8 || !dwarf_attr_integrate(die, DW_AT_type, &attr) || !dwarf_formref_die(&attr, &type)) return "void";
  std::string name = NameOf(&type);
  switch (dwarf_tag(&type)) {
    case DW_TAG_pointer_type: return TypeName(&type, depth + 1) + " *";
    case DW_TAG_const_type: return "const " + TypeName(&type, depth + 1);
    case DW_TAG_volatile_type: return "volatile " + TypeName(&type, depth + 1);
    case DW_TAG_array_type: {
      std::string dims;
      Dwarf_Die sub;
      if (dwarf_child(&type, &sub) == 0) {
        do {
          Dwarf_Word upper = 0;
          Dwarf_Attribute ub;
          if (dwarf_attr(&sub, DW_AT_upper_bound, &ub) && dwarf_formudata(&ub, &upper) == 0)
            dims += "[" + std::to_string(upper + 1) + "]";
          else
            dims += "[]";
        } while (dwarf_siblingof(&sub, &sub) == 0);
      }
      return TypeName(&type, depth + 1) + dims;
    }
    case DW_TAG_structure_type: return "struct " + name;
    case DW_TAG_union_type: return "union " + name;
    case DW_TAG_enumeration_type: return "enum " + name;
    default: return name.empty() ? "?" : name;
  }
}

TypeLayout LayoutOf(Dwarf_Die* type) {
  TypeLayout l;
  Dwarf_Word size = 0;
  Dwarf_Attribute attr;
  if (dwarf_attr(type, DW_AT_byte_size, &attr)) dwarf_formudata(&attr, &size);
  l.size = size;
  Dwarf_Die m;
  if (dwarf_child(type, &m) != 0) return l;
  do {
    if (dwarf_tag(&m) != DW_TAG_member) continue;
    Dwarf_Word off = 0, bits = 0;
    std::string where;
    if (dwarf_attr(&m, DW_AT_data_member_location, &attr) && dwarf_formudata(&attr, &off) == 0)
      where = std::to_string(off);
    if (dwarf_attr(&m, DW_AT_data_bit_offset, &attr) && dwarf_formudata(&attr, &bits) == 0)
      where = fmt::format("bit {}", bits);
    Dwarf_Die mt;
    Dwarf_Word msize = 0;
    if (dwarf_attr_integrate(&m, DW_AT_type, &attr) && dwarf_formref_die(&attr, &mt)) {
      int s = dwarf_aggregate_size(&mt, &msize);
      if (s != 0) msize = 0;
    }
    std::string name = NameOf(&m);
    l.members.push_back(fmt::format("{}@{}:{}({})", name.empty() ? "<anonymous>" : name, where, TypeName(&m), msize));
  } while (dwarf_siblingof(&m, &m) == 0);
  return l;
}

void Walk(Dwarf_Die* die, std::map<std::string, TypeLayout>* out, int depth) {
  Dwarf_Die child;
  if (depth > 16 || dwarf_child(die, &child) != 0) return;
  do {
    int tag = dwarf_tag(&child);
    Dwarf_Attribute attr;
    bool declaration = dwarf_attr(&child, DW_AT_declaration, &attr) != nullptr;
    std::string name = NameOf(&child);
    if ((tag == DW_TAG_structure_type || tag == DW_TAG_union_type || tag == DW_TAG_class_type) && !declaration &&
        !name.empty()) {
      out->emplace((tag == DW_TAG_union_type ? "union " : "struct ") + name, LayoutOf(&child));
    } else if (tag == DW_TAG_typedef && !name.empty()) {
      Dwarf_Die t;
      if (dwarf_attr(&child, DW_AT_type, &attr) && dwarf_formref_die(&attr, &t) && NameOf(&t).empty() &&
          (dwarf_tag(&t) == DW_TAG_structure_type || dwarf_tag(&t) == DW_TAG_union_type))
        out->emplace("typedef " + name, LayoutOf(&t));
    }
    // Types declared inside functions or namespaces.
    if (tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block || tag == DW_TAG_namespace)
      Walk(&child, out, depth + 1);
  } while (dwarf_siblingof(&child, &child) == 0);
}

}  // namespace

Result<std::map<std::string, TypeLayout>> ReadTypeLayouts(const std::string& path, bool* has_dwarf) {
  if (has_dwarf) *has_dwarf = false;
  static const Dwfl_Callbacks callbacks = {
      .find_elf = dwfl_build_id_find_elf,
      .find_debuginfo = dwfl_standard_find_debuginfo,
      .section_address = dwfl_offline_section_address,
      .debuginfo_path = nullptr,  // the default search path
  };
  std::map<std::string, TypeLayout> out;
  Dwfl* dwfl = dwfl_begin(&callbacks);
  if (!dwfl) return Err("libdwfl: {}", dwfl_errmsg(-1));
  struct Close {
    Dwfl* d;
    ~Close() { dwfl_end(d); }
  } close{dwfl};
  Dwfl_Module* mod = dwfl_report_offline(dwfl, path.c_str(), path.c_str(), -1);
  if (!mod) return Err("{}: cannot read debug information: {}", path, dwfl_errmsg(-1));
  dwfl_report_end(dwfl, nullptr, nullptr);
  Dwarf_Addr bias = 0;
  Dwarf* dw = dwfl_module_getdwarf(mod, &bias);
  if (!dw) return out;  // no DWARF: nothing to compare
  if (has_dwarf) *has_dwarf = true;
  Dwarf_Off off = 0, next = 0;
  size_t header = 0;
  while (dwarf_nextcu(dw, off, &next, &header, nullptr, nullptr, nullptr) == 0) {
    Dwarf_Die cu;
    if (dwarf_offdie(dw, off + header, &cu)) Walk(&cu, &out, 0);
    off = next;
  }
  return out;
}

std::vector<std::string> LayoutChanges(const std::map<std::string, TypeLayout>& before,
                                       const std::map<std::string, TypeLayout>& after) {
  std::vector<std::string> changes;
  for (const auto& [name, a] : before) {
    auto it = after.find(name);
    if (it == after.end() || it->second == a) continue;
    const TypeLayout& b = it->second;
    std::vector<std::string> what;
    if (a.size != b.size) what.push_back(fmt::format("{} -> {} bytes", a.size, b.size));
    auto by_name = [](const TypeLayout& l) {
      std::map<std::string, std::string> m;
      for (const std::string& x : l.members) m.emplace(x.substr(0, x.find('@')), x);
      return m;
    };
    auto was = by_name(a), is = by_name(b);
    std::vector<std::string> added, removed, retyped;
    size_t moved = 0;
    for (const auto& [n, x] : is) {
      auto it = was.find(n);
      if (it == was.end()) added.push_back(x);
      else if (it->second != x && it->second.substr(it->second.find(':')) == x.substr(x.find(':'))) moved++;
      else if (it->second != x) retyped.push_back(it->second + " -> " + x);
    }
    for (const auto& [n, x] : was)
      if (!is.count(n)) removed.push_back(x);
    auto list = [](const char* verb, const std::vector<std::string>& v) {
      std::string out = verb;
      for (size_t i = 0; i < v.size() && i < 4; i++) out += (i ? ", " : " ") + v[i];
      if (v.size() > 4) out += fmt::format(" and {} more", v.size() - 4);
      return out;
    };
    if (!added.empty()) what.push_back(list("added", added));
    if (!removed.empty()) what.push_back(list("removed", removed));
    if (!retyped.empty()) what.push_back(list("changed", retyped));
    if (moved) what.push_back(fmt::format("{} member(s) moved", moved));
    if (what.empty()) what.push_back("members reordered");
    std::string line = name + ":";
    for (size_t i = 0; i < what.size(); i++) line += (i ? "; " : " ") + what[i];
    changes.push_back(line);
  }
  return changes;
}

Result<std::vector<std::string>> CheckLayoutChanges(const std::vector<std::pair<std::string, std::string>>& objects,
                                                    const std::vector<std::string>& allowed, const std::string& holder) {
  std::vector<std::string> refused, notes;
  for (const auto& [orig, patched] : objects) {
    std::string name = std::filesystem::path(orig).filename().string();
    bool dwarf_before = false, dwarf_after = false;
    GRAFT_ASSIGN(auto before, ReadTypeLayouts(orig, &dwarf_before));
    GRAFT_ASSIGN(auto after, ReadTypeLayouts(patched, &dwarf_after));
    if (!dwarf_before || !dwarf_after)
      notes.push_back(fmt::format("{} has no debug information (-g): struct layouts were not compared", name));
    for (const std::string& c : LayoutChanges(before, after)) {
      std::string type = c.substr(0, c.find(':'));
      if (std::find(allowed.begin(), allowed.end(), type) == allowed.end())
        refused.push_back(fmt::format("{} ({})", c, name));
    }
  }
  std::sort(notes.begin(), notes.end());  // the same on every run, whatever order the build compiled in
  if (refused.empty()) return notes;
  std::sort(refused.begin(), refused.end());
  refused.erase(std::unique(refused.begin(), refused.end()), refused.end());
  std::string list;
  for (const std::string& r : refused) list += "\n  " + r;
  return Err("the fix changes the layout of types {} may already hold objects of; code patched to the new "
             "layout would misread them (--allow-layout-change TYPE when no such object outlives the patch):{}",
             holder, list);
}

}  // namespace graft::diff
