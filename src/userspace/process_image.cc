// Files are opened through /proc/PID/map_files when possible so a library that
// was replaced on disk (a package upgrade) still reads as what is mapped.
#include "userspace/process_image.h"

#include <dirent.h>
#include <dlfcn.h>
#include <link.h>
#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <set>

#include "elf/build_id.h"

namespace graft::userspace {

Result<ProcessImage> ProcessImage::Read(pid_t pid, BuildIdCache* cache) {
  ProcessImage im;
  im.pid_ = pid;
  if (!cache) {
    im.own_cache_ = std::make_shared<BuildIdCache>();
    cache = im.own_cache_.get();
  }
  im.cache_ = cache;
  GRAFT_ASSIGN(im.maps_, process::ReadMaps(pid));
  return im;
}

std::string ProcessImage::OpenPath(const std::string& path) const {
  for (const process::Mapping& m : maps_)
    if (m.path == path) return fmt::format("/proc/{}/map_files/{:x}-{:x}", pid_, m.start, m.end);
  return path;
}

std::optional<std::string> ProcessImage::BuildIdOf(const std::string& path) {
  auto it = build_ids_.find(path);
  if (it != build_ids_.end()) return it->second;
  auto id = elf::ReadBuildId(OpenPath(path));
  if (!id.ok()) id = elf::ReadBuildId(path);
  return build_ids_[path] = id.ok() ? *id : std::optional<std::string>("");
}

Result<const elf::ObjectFile*> ProcessImage::File(const std::string& path) {
  auto it = files_.find(path);
  if (it != files_.end()) return it->second.get();
  GRAFT_ASSIGN(auto f, cache_->Object(BuildIdOf(path).value_or(""), OpenPath(path), path));
  return (files_[path] = std::move(f)).get();
}

// Bias from any mapping of the file: the mapped file offset corresponds to
// the section at that offset.
std::optional<LoadedObject> ProcessImage::Locate(const std::string& path, const elf::ObjectFile& f) const {
  LoadedObject lo;
  lo.path = path;
  bool found = false;
  for (const process::Mapping& mm : maps_) {
    if (mm.path != path) continue;
    if (!lo.lo || mm.start < lo.lo) lo.lo = mm.start;
    lo.hi = std::max(lo.hi, mm.end);
    if (found) continue;
    for (const elf::Section& s : f.sections()) {
      if (!s.alloc() || s.nobits() || s.addr == 0 || s.size == 0) continue;
      if (s.offset >= mm.offset && s.offset < mm.offset + (mm.end - mm.start)) {
        lo.bias = mm.start + (s.offset - mm.offset) - s.addr;
        found = true;
        break;
      }
    }
  }
  if (!found) return std::nullopt;
  return lo;
}

static bool IsObjectPath(const std::string& path) {
  return !path.empty() && path[0] == '/' && path.rfind("/memfd:", 0) != 0;
}

Result<std::vector<LoadedObject>> ProcessImage::Objects() {
  std::vector<LoadedObject> out;
  std::set<std::string> seen;
  for (const process::Mapping& m : maps_) {
    if (!IsObjectPath(m.path) || !seen.insert(m.path).second) continue;
    if (!BuildIdOf(m.path)) continue;  // not ELF: nothing to parse (it would be read whole)
    auto f = File(m.path);
    if (!f.ok()) continue;
    if (auto lo = Locate(m.path, **f)) out.push_back(*lo);
  }
  return out;
}

Result<std::optional<LoadedObject>> ProcessImage::FindByBuildId(const std::string& build_id) {
  std::set<std::string> seen;
  for (const process::Mapping& m : maps_) {
    if (!IsObjectPath(m.path) || !seen.insert(m.path).second) continue;
    // A file whose notes do not tell is parsed, as every file once was.
    std::optional<std::string> id = BuildIdOf(m.path);
    if (!id || (!id->empty() && *id != build_id)) continue;
    auto f = File(m.path);
    if (!f.ok() || (*f)->build_id() != build_id) continue;
    if (auto lo = Locate(m.path, **f)) return std::optional<LoadedObject>(*lo);
  }
  return std::optional<LoadedObject>();
}

Result<process::SyscallGadgets> ProcessImage::FindSyscallGadgets() {
  // The C library's code, as process::FindSyscallGadgets looks there first.
  for (const process::Mapping& m : maps_) {
    if (!m.exec() || !IsObjectPath(m.path) || m.path.find("libc.so") == std::string::npos) continue;
    std::string id = BuildIdOf(m.path).value_or("");
    if (id.empty()) break;
    uint64_t size = m.end - m.start;
    std::optional<GadgetOffsets> at = cache_->Gadgets(id, m.offset, size);
    if (!at) {
      GRAFT_ASSIGN(process::ProcessMemory * mem, Memory());
      auto bytes = mem->Read(m.start, size);
      if (!bytes.ok()) break;
      cache_->CountGadgetScan();
      process::SyscallGadgets g = process::ScanGadgets(*bytes, m.start);
      at = GadgetOffsets{g.syscall_ret ? g.syscall_ret - m.start + m.offset : 0,
                         g.sigreturn ? g.sigreturn - m.start + m.offset : 0};
      cache_->PutGadgets(id, m.offset, size, *at);
    }
    if (!at->syscall_ret || !at->sigreturn) break;
    process::SyscallGadgets g{at->syscall_ret - m.offset + m.start, at->sigreturn - m.offset + m.start};
    GRAFT_ASSIGN(process::ProcessMemory * mem, Memory());
    // The file's code as this process holds it: a debugger's breakpoint or
    // a patch may sit there, and then the full scan decides.
    if (process::GadgetsInPlace(*mem, g)) return g;
    break;
  }
  return process::FindSyscallGadgets(pid_, maps_);
}

Result<uint64_t> ProcessImage::LookupDynamic(const std::string& name) {
  GRAFT_ASSIGN(auto objs, Objects());
  std::optional<uint64_t> weak;
  for (const LoadedObject& o : objs) {
    GRAFT_ASSIGN(const elf::ObjectFile* f, File(o.path));
    for (const elf::Symbol& s : f->dynamic_symbols()) {
      if (s.name != name || !s.defined() || s.visibility == STV_HIDDEN || s.hidden_version) continue;
      if (s.type != STT_FUNC && s.type != STT_OBJECT && s.type != STT_GNU_IFUNC && s.type != STT_NOTYPE) continue;
      if (s.type == STT_GNU_IFUNC) return ResolveIfunc(name, o, s);
      if (s.bind == STB_GLOBAL) return s.value + o.bias;
      if (!weak) weak = s.value + o.bias;
    }
  }
  if (weak) return *weak;
  return Err("process {}: symbol '{}' is not exported by any loaded library", pid_, name);
}

// Loads `path` in a child process (as `pid`'s real user) and returns the
// offset from the library's load address of what dlsym gives for `name`.
static Result<uint64_t> ResolveInChild(const std::string& path, const std::string& name, pid_t pid) {
  if (path.find(" (deleted)") != std::string::npos) return Err("{} was deleted", path);
  uid_t uid = 0;
  gid_t gid = 0;
  {
    std::ifstream st("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(st, line)) {
      if (line.rfind("Uid:", 0) == 0) uid = std::stoul(line.substr(4));
      if (line.rfind("Gid:", 0) == 0) gid = std::stoul(line.substr(4));
    }
  }
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return Err("pipe: {}", std::strerror(errno));
  pid_t child = fork();
  if (child < 0) return Err("fork: {}", std::strerror(errno));
  if (child == 0) {
    close(fds[0]);
    uint64_t off = 0;
    if ((getuid() != 0 || (setgid(gid) == 0 && setuid(uid) == 0))) {
      if (void* h = dlopen(path.c_str(), RTLD_LAZY | RTLD_LOCAL)) {
        void* p = dlsym(h, name.c_str());
        Dl_info info;
        link_map* map = nullptr;
        if (p && dladdr1(p, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) && map)
          off = reinterpret_cast<uint64_t>(p) - map->l_addr;
      }
    }
    (void)!write(fds[1], &off, sizeof off);
    _exit(0);
  }
  close(fds[1]);
  uint64_t off = 0;
  pollfd pfd{fds[0], POLLIN, 0};
  bool got = poll(&pfd, 1, 5000) == 1 && read(fds[0], &off, sizeof off) == sizeof off;
  close(fds[0]);
  if (!got) kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  if (!got || !off) return Err("{} could not be resolved by loading {}", name, path);
  return off;
}

// The symbol of an IFUNC is its resolver. What the resolver picked is found
// where ld.so already stored it in this process (a GOT slot of any loaded
// object for that name, or the defining object's IRELATIVE slot), else by
// graft's own dynamic linker when graft has the very same file loaded: its
// resolver ran on the same CPU (only GLIBC_TUNABLES could make the process
// prefer another, equally valid, implementation).
Result<uint64_t> ProcessImage::ResolveIfunc(const std::string& name, const LoadedObject& def,
                                            const elf::Symbol& sym) {
  GRAFT_ASSIGN(const elf::ObjectFile* def_file, File(def.path));
  auto in_def_code = [&](uint64_t a) {
    if (a < def.lo || a >= def.hi || a == sym.value + def.bias) return false;
    for (const elf::Section& s : def_file->sections())  // a lazy slot still points at a PLT stub
      if (s.name.rfind(".plt", 0) == 0 && a - def.bias >= s.addr && a - def.bias < s.addr + s.size) return false;
    return true;
  };
  GRAFT_ASSIGN(auto objs, Objects());
  for (const LoadedObject& o : objs) {
    GRAFT_ASSIGN(const elf::ObjectFile* f, File(o.path));
    for (const elf::Relocation& r : f->dynamic_relocations()) {
      bool named = (r.type == R_X86_64_GLOB_DAT || r.type == R_X86_64_JUMP_SLOT) &&
                   r.symbol < f->dynamic_symbols().size() && f->dynamic_symbols()[r.symbol].name == name;
      bool own = r.type == R_X86_64_IRELATIVE && o.path == def.path && static_cast<uint64_t>(r.addend) == sym.value;
      if (!named && !own) continue;
      auto word = ReadWord(r.offset + o.bias);
      if (word.ok() && in_def_code(*word)) return *word;
    }
  }
  void* mine = dlsym(RTLD_DEFAULT, name.c_str());
  Dl_info info;
  link_map* map = nullptr;
  if (mine && dladdr1(mine, &info, reinterpret_cast<void**>(&map), RTLD_DL_LINKMAP) && map && info.dli_fname) {
    auto own_file = elf::ObjectFile::Open(info.dli_fname);
    if (own_file.ok() && !def_file->build_id().empty() && (*own_file)->build_id() == def_file->build_id()) {
      uint64_t resolved = reinterpret_cast<uint64_t>(mine) - map->l_addr + def.bias;
      if (in_def_code(resolved)) return resolved;
    }
  }
  // Last: let the library's own resolver answer, in a throwaway child of
  // graft running as the target's user (the library's constructors run
  // there, not in graft and not in the target): dlsym of an IFUNC returns
  // what the resolver picked on this CPU.
  if (auto off = ResolveInChild(def.path, name, pid_); off.ok()) {
    uint64_t resolved = *off + def.bias;
    if (in_def_code(resolved)) return resolved;
  }
  return Err("process {}: '{}' in {} is an IFUNC that the process has not resolved (nothing in it calls it "
             "through a GOT slot), and neither graft's own copy of the library nor a child loading it could "
             "resolve it; call the implementation the resolver picks directly", pid_, name, def.path);
}

Result<process::ProcessMemory*> ProcessImage::Memory() {
  if (!memory_) {
    GRAFT_ASSIGN(process::ProcessMemory mem, process::ProcessMemory::Open(pid_));
    memory_ = std::make_unique<process::ProcessMemory>(std::move(mem));
  }
  return memory_.get();
}

Result<uint64_t> ProcessImage::ReadWord(uint64_t address) {
  GRAFT_ASSIGN(process::ProcessMemory * mem, Memory());
  GRAFT_ASSIGN(std::vector<uint8_t> bytes, mem->Read(address, 8));
  if (bytes.size() != 8) return Err("process {}: cannot read 8 bytes at {:#x}", pid_, address);
  uint64_t v;
  std::memcpy(&v, bytes.data(), 8);
  return v;
}

std::vector<pid_t> ProcessesMapping(const std::string& build_id, BuildIdCache* cache) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == getpid()) continue;
    auto im = ProcessImage::Read(pid, cache);
    if (!im.ok()) continue;
    auto found = im->FindByBuildId(build_id);
    if (found.ok() && found->has_value()) out.push_back(pid);
  }
  closedir(d);
  return out;
}

void PrepareCache(pid_t pid, BuildIdCache& cache) {
  auto im = ProcessImage::Read(pid, &cache);
  if (!im.ok()) return;
  im->LoadObjects();
  (void)im->FindSyscallGadgets();
}

}  // namespace graft::userspace
