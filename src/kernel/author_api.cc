#include "kernel/author_api.h"

#include <elf.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>

namespace graft::kernel {

namespace fs = std::filesystem;

namespace {

// The records are const function pointers in sections named for what they
// declare; the section name is the whole protocol between header and graft.
constexpr char kCallbackPrefix[] = ".graft.callbacks.";
constexpr char kIgnoreSection[] = ".graft.ignore.functions";

const char kHeader[] = R"HEADER(/* SPDX-License-Identifier: GPL-2.0 */
/*
 * graft/livepatch.h: what a kernel fix built by `graft kernel build` may
 * declare. Written by graft into its work directory (or by `graft kernel
 * header --dir DIR`) and found through -I; the original source never needs it.
 *
 * Callbacks (see the kernel's Documentation/livepatch/callbacks.rst): one of
 * each kind per patch, run by the livepatch core for the object the fixed
 * file belongs to (vmlinux, or the module, also when the module is loaded
 * after the patch). Define the function in the fixed file and name it:
 *
 *	static int my_check(struct klp_object *obj) { return ok ? 0 : -EINVAL; }
 *	GRAFT_PRE_PATCH(my_check);	// non-zero: the patch is not applied
 *	GRAFT_POST_PATCH(fn);		// void fn(struct klp_object *obj)
 *	GRAFT_PRE_UNPATCH(fn);		// void fn(struct klp_object *obj)
 *	GRAFT_POST_UNPATCH(fn);		// void fn(struct klp_object *obj)
 *
 * A cumulative patch (graft kernel build --replace) replacing earlier ones
 * runs only its own callbacks: it takes over their state (shadow variables)
 * and its post-unpatch callback must release that state too.
 *
 * GRAFT_IGNORE_FUNCTION(fn): fn changed (typically because a function it
 * inlines changed) but must keep running its original code: the patch does
 * not replace it, and new code calling it calls the original.
 *
 * Shadow variables (Documentation/livepatch/shadow-vars.rst): data the fix
 * attaches to objects the kernel already holds, whose layout cannot change.
 * klp_shadow_get/alloc/get_or_alloc/free/free_all are the kernel's, exported
 * to GPL modules; the helpers below only add the type. Storage is zeroed
 * when no constructor is given. Pick ids unique to the fix and free what was
 * attached when the patch goes (a post-unpatch callback calling
 * klp_shadow_free_all), or the memory stays allocated.
 */
#ifndef GRAFT_LIVEPATCH_H
#define GRAFT_LIVEPATCH_H

#ifdef __KERNEL__
#include <linux/livepatch.h>
#else
struct klp_object;
#endif

#define __GRAFT_RECORD(section, name) \
	__attribute__((__used__, __section__(section))) name

#define GRAFT_PRE_PATCH(fn) \
	static int (*const __GRAFT_RECORD(".graft.callbacks.pre_patch", __graft_pre_patch_##fn))(struct klp_object *) = fn
#define GRAFT_POST_PATCH(fn) \
	static void (*const __GRAFT_RECORD(".graft.callbacks.post_patch", __graft_post_patch_##fn))(struct klp_object *) = fn
#define GRAFT_PRE_UNPATCH(fn) \
	static void (*const __GRAFT_RECORD(".graft.callbacks.pre_unpatch", __graft_pre_unpatch_##fn))(struct klp_object *) = fn
#define GRAFT_POST_UNPATCH(fn) \
	static void (*const __GRAFT_RECORD(".graft.callbacks.post_unpatch", __graft_post_unpatch_##fn))(struct klp_object *) = fn

#define GRAFT_IGNORE_FUNCTION(fn) \
	static void *const __GRAFT_RECORD(".graft.ignore.functions", __graft_ignore_##fn) = (void *)(fn)

#ifdef __KERNEL__
/* The shadow TYPE attached to OBJ under ID, or NULL. */
#define graft_shadow_get(obj, id, type) ((type *)klp_shadow_get((obj), (id)))
/* The shadow TYPE of OBJ under ID, attached (zeroed) if it has none; NULL
 * only when the allocation fails. */
#define graft_shadow_get_or_zalloc(obj, id, type, gfp) \
	((type *)klp_shadow_get_or_alloc((obj), (id), sizeof(type), (gfp), NULL, NULL))
#endif

#endif /* GRAFT_LIVEPATCH_H */
)HEADER";

// The function a record's relocation names: the symbol itself, or (the
// assembler rewrites references to static functions) the function at the
// relocation's addend in the named section.
const elf::Symbol* TargetFunction(const elf::ObjectFile& o, const elf::Relocation& r) {
  if (r.symbol >= o.symbols().size()) return nullptr;
  const elf::Symbol& s = o.symbols()[r.symbol];
  if (s.type == STT_FUNC) return &s;
  if (s.type != STT_SECTION) return nullptr;
  for (const elf::Symbol& f : o.symbols())
    if (f.type == STT_FUNC && f.shndx == s.shndx && static_cast<int64_t>(f.value) == r.addend) return &f;
  return nullptr;
}

}  // namespace

const std::string& AuthorApiHeader() {
  static const std::string text = kHeader;
  return text;
}

Result<std::string> WriteAuthorApiHeader(const std::string& dir) {
  std::error_code ec;
  fs::create_directories(fs::path(dir) / "graft", ec);
  if (ec) return Err("cannot create {}/graft: {}", dir, ec.message());
  std::string path = (fs::path(dir) / "graft" / "livepatch.h").string();
  std::ofstream f(path, std::ios::trunc);
  f << AuthorApiHeader();
  if (!f.flush()) return Err("cannot write {}", path);
  return "-I" + fs::absolute(dir).string();
}

Result<AuthorDeclarations> ReadAuthorDeclarations(const std::vector<const elf::ObjectFile*>& fixed) {
  AuthorDeclarations d;
  std::set<std::string> ignored;
  for (const elf::ObjectFile* o : fixed) {
    for (const elf::Section& sec : o->sections()) {
      bool callback = sec.name.starts_with(kCallbackPrefix);
      if (!callback && sec.name != kIgnoreSection) continue;
      std::string kind = callback ? sec.name.substr(sizeof kCallbackPrefix - 1) : "";
      if (callback && std::find(CallbackKinds().begin(), CallbackKinds().end(), kind) == CallbackKinds().end())
        return Err("{}: section {} declares an unknown callback kind '{}' (graft knows {})", o->path(), sec.name,
                   kind, fmt::join(CallbackKinds(), ", "));
      for (const elf::Relocation& r : o->relocations_for(sec.index)) {
        const elf::Symbol* fn = TargetFunction(*o, r);
        if (!fn)
          return Err("{}: a record in {} does not name a function of this file; GRAFT_* macros take the name "
                     "of a function defined in the fixed file", o->path(), sec.name);
        if (!callback) {
          // Every name of it: module_init() makes init_module an alias, and
          // the diff may know the function by either.
          for (const elf::Symbol& alias : o->symbols())
            if (alias.type == STT_FUNC && alias.shndx == fn->shndx && alias.value == fn->value &&
                ignored.insert(alias.name).second)
              d.ignored_functions.push_back(alias.name);
          continue;
        }
        auto [it, fresh] = d.callbacks.emplace(kind, fn->name);
        if (!fresh && it->second != fn->name)
          return Err("{}: two {} callbacks, {} and {}: the livepatch core runs one per patched object; call "
                     "both from one function", o->path(), kind, it->second, fn->name);
      }
    }
  }
  for (const auto& [kind, fn] : d.callbacks)
    if (ignored.count(fn)) return Err("{} is both a {} callback and ignored (GRAFT_IGNORE_FUNCTION)", fn, kind);
  return d;
}

std::string CallbackDeclarations(const std::map<std::string, std::string>& symbols) {
  std::string s;
  for (const auto& [kind, sym] : symbols)
    s += std::string(kind == "pre_patch" ? "int " : "void ") + sym + "(struct klp_object *obj);\n";
  return s;
}

std::string CallbacksMember(const std::map<std::string, std::string>& symbols) {
  if (symbols.empty()) return "";
  std::string s = ", .callbacks = {";
  bool first = true;
  for (const std::string& kind : CallbackKinds()) {
    auto it = symbols.find(kind);
    if (it == symbols.end()) continue;
    s += std::string(first ? " " : ", ") + "." + kind + " = " + it->second;
    first = false;
  }
  return s + " }";
}

}  // namespace graft::kernel
