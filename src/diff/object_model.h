// An object file seen as the things a patch is made of: functions, variables,
// constants and string pools ("entities", one per -ffunction-sections /
// -fdata-sections section), and relocations rewritten as references to
// entities rather than to section symbols whose numbering shifts between builds.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "arch/arch.h"
#include "elf/object_file.h"

namespace graft::diff {

enum class EntityKind {
  kFunction,
  kData,      // writable: state of the running program, never copied if it exists
  kConstant,  // read-only named object (const globals, static const locals)
  kAnonymous, // compiler-made read-only data: jump tables, CSWTCH, literal pools
  kStrings,   // mergeable string literals
};

struct Entity {
  std::string key;     // stable across builds: symbol name, numeric suffix of locals dropped when unique
  std::string symbol;  // symbol name as written in this object
  EntityKind kind = EntityKind::kAnonymous;
  uint32_t section = 0;
  uint64_t symbol_offset = 0;  // where the primary symbol sits in the section
  bool local = false;
  bool startup = false;        // .text.startup / .text.exit / referenced from init/fini arrays
  std::string parent;          // for "foo.cold" parts: "foo"
};

// What a relocation points at.
struct Reference {
  bool external = false;  // undefined in this object: lives elsewhere in the target or another library
  std::string name;       // external symbol name
  int entity = -1;        // index into ObjectModel::entities()
  int64_t offset = 0;     // from the entity's section start, before PC adjustment (sym.value + A)
};

// A place in an allocated section that holds no entity: a kernel table or
// out-of-line code (.altinstr_aux, __dyndbg, .static_call.text, ...).
struct RawPlace {
  uint32_t section = 0;
  std::string section_name;
  std::string symbol;     // the named symbol there (or covering it), if any
  int64_t offset = 0;     // from the section start (sym.value + A)
  int64_t into_symbol = 0;
};

// Where the piece of out-of-line code that starts at `offset` of `section`
// ends: at the next place of that section something outside it refers to,
// or the section end (.altinstr_aux holds one static_cpu_has() fallback per
// use, each reached by one jump).
uint64_t SnippetEnd(const elf::ObjectFile& obj, uint32_t section, uint64_t offset);

class ObjectModel {
 public:
  static Result<std::unique_ptr<ObjectModel>> Build(const elf::ObjectFile& obj, const arch::Arch& arch);

  const elf::ObjectFile& object() const { return obj_; }
  const arch::Arch& arch() const { return arch_; }
  const std::vector<Entity>& entities() const { return entities_; }
  const Entity* Find(const std::string& key) const;
  int EntityOfSection(uint32_t section) const;
  const elf::Section& SectionOf(const Entity& e) const { return obj_.sections()[e.section]; }
  const std::vector<elf::Relocation>& RelocsOf(const Entity& e) const {
    return obj_.relocations_for(e.section);
  }
  Reference Resolve(const elf::Relocation& r) const;
  // For a relocation Resolve cannot tie to an entity (entity -1, not external).
  std::optional<RawPlace> RawPlaceOf(const elf::Relocation& r) const;
  // Distance from a relocation field to the end of its instruction (0 in data).
  uint32_t PcAdjust(const Entity& e, uint64_t field_offset) const;
  // The NUL-terminated literal of a string-pool entity containing `offset`.
  std::string StringAt(const Entity& e, int64_t offset) const;
  // The entry of a mergeable constant section (.rodata.cst8, ...) containing
  // `offset`, as hex bytes and the offset into it.
  std::string ConstantAt(const Entity& e, int64_t offset) const;
  const std::string& file() const { return obj_.source_file(); }

 private:
  ObjectModel(const elf::ObjectFile& obj, const arch::Arch& arch) : obj_(obj), arch_(arch) {}
  Status Load();
  bool IsLabelTable(const elf::Section& s, const std::map<uint32_t, const elf::Symbol*>& primary) const;

  const elf::ObjectFile& obj_;
  const arch::Arch& arch_;
  std::vector<Entity> entities_;
  std::map<uint32_t, int> by_section_;
  std::map<std::string, int> by_key_;
  std::map<uint32_t, std::map<uint64_t, uint32_t>> pc_adjust_;  // section -> field -> insn end
};

std::string_view KindName(EntityKind k);

}  // namespace graft::diff
