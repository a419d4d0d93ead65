#include "kernel/table_layout.h"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "base/subprocess.h"
#include "base/work_dir.h"
#include "elf/object_file.h"

namespace graft::kernel {

namespace fs = std::filesystem;

namespace {

// One unsigned long per value, in the order of kSections below; 0 when the
// kernel has no such table (no CONFIG_GENERIC_BUG, no CONFIG_JUMP_LABEL).
constexpr const char* kProbe = R"(// graft: entry layouts of this kernel's code tables
#include <linux/module.h>
#include <linux/stddef.h>
#include <linux/bug.h>
#include <linux/jump_label.h>
#include <asm/extable.h>
#include <asm/alternative.h>

const unsigned long graft_table_layout[] = {
	sizeof(struct exception_table_entry), (unsigned long)-1,
#ifdef CONFIG_GENERIC_BUG
	sizeof(struct bug_entry), (unsigned long)-1,
#else
	0, (unsigned long)-1,
#endif
	sizeof(struct alt_instr), offsetof(struct alt_instr, replacementlen),
#ifdef CONFIG_JUMP_LABEL
	sizeof(struct jump_entry), (unsigned long)-1,
#else
	0, (unsigned long)-1,
#endif
};
MODULE_LICENSE("GPL");
)";
constexpr const char* kSections[] = {"__ex_table", "__bug_table", ".altinstructions", "__jump_table"};

std::string Format(const TableLayouts& l) {
  std::string out;
  for (const TableSpec& t : l.tables) out += fmt::format("{} {} {}\n", t.name, t.entry_size, t.replacement_len_at);
  return out;
}

}  // namespace

const TableSpec* TableLayouts::For(const std::string& section) const {
  for (const TableSpec& t : tables)
    if (t.name == section) return &t;
  return nullptr;
}

Result<TableLayouts> ParseTableLayouts(const std::string& text) {
  TableLayouts l;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    TableSpec t;
    if (!(f >> t.name >> t.entry_size >> t.replacement_len_at)) return Err("bad table layout line '{}'", line);
    if (t.entry_size == 0) continue;  // the kernel has no such table
    if (t.replacement_len_at >= static_cast<int>(t.entry_size))
      return Err("table layout of {}: field at {} outside a {}-byte entry", t.name, t.replacement_len_at, t.entry_size);
    l.tables.push_back(t);
  }
  return l;
}

Result<TableLayouts> ReadTableLayouts(const std::string& headers, const std::string& release,
                                      const std::string& cache_dir) {
  std::string cached = cache_dir + "/table-layout-" + release;
  if (std::ifstream in(cached); in) {
    std::stringstream ss;
    ss << in.rdbuf();
    if (auto l = ParseTableLayouts(ss.str()); l.ok() && !l->tables.empty()) return l;
  }
  GRAFT_ASSIGN(auto dir, WorkDir::Make("", "graft-layout"));
  std::ofstream(dir->path() + "/graft_layout.c") << kProbe;
  std::ofstream(dir->path() + "/Kbuild") << "obj-m := graft_layout.o\n";
  std::string log = dir->path() + "/build.log";
  Status built = RunCommand(fmt::format("make -s -C '{}' M='{}' graft_layout.o", headers, dir->path()), dir->path(), log);
  if (!built.ok()) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (text.size() > 2000) text = "..." + text.substr(text.size() - 2000);
    return Err("cannot read the table layouts of kernel {} from its headers {} (a probe compiled with its "
               "kbuild failed):\n{}", release, headers, text);
  }
  GRAFT_ASSIGN(auto obj, elf::ObjectFile::Open(dir->path() + "/graft_layout.o"));
  std::string text;
  for (const elf::Symbol& s : obj->symbols()) {
    if (s.name != "graft_table_layout" || !s.defined() || s.shndx >= obj->sections().size()) continue;
    const auto& data = obj->sections()[s.shndx].data;
    size_t n = std::size(kSections);
    if (s.size != n * 16 || s.value + s.size > data.size())
      return Err("{}: the layout probe has {} bytes, not {}", obj->path(), s.size, n * 16);
    for (size_t i = 0; i < n; i++) {
      uint64_t size, at;
      std::memcpy(&size, &data[s.value + 16 * i], 8);
      std::memcpy(&at, &data[s.value + 16 * i + 8], 8);
      text += fmt::format("{} {} {}\n", kSections[i], size, static_cast<int64_t>(at));
    }
  }
  if (text.empty()) return Err("{}: the layout probe defines no graft_table_layout", obj->path());
  GRAFT_ASSIGN(TableLayouts l, ParseTableLayouts(text));
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  std::ofstream(cached) << Format(l);
  return l;
}

}  // namespace graft::kernel
