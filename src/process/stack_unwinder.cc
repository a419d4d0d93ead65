// libdw does the CFI work; graft collects PCs and checks that each step was
// taken from frame descriptions: libdw falls back to frame-pointer guessing
// on x86-64 when a pc has no CFI, and a guessed chain must not pass for a
// reliable one. Frames past the first are return addresses, reported minus
// one to land inside the call instruction's function (a noreturn call may end
// a function).
#include "process/stack_unwinder.h"

#include <elf.h>
#include <elfutils/libdwfl.h>
#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace graft::process {

// An ELF image in memory holding only .eh_frame at its place relative to the
// mapping's start, so libdw can use it as the module's file.
struct StackUnwinder::Synthetic {
  ExtraUnwindTables tables;
  std::vector<uint8_t> image;
};

static std::vector<uint8_t> MakeCfiElf(const ExtraUnwindTables& t) {
  static const char kNames[] = "\0.eh_frame\0.shstrtab";
  const size_t eh_at = sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr);
  const size_t names_at = eh_at + t.eh_frame.size();
  const size_t sh_at = (names_at + sizeof kNames + 7) & ~size_t(7);
  std::vector<uint8_t> out(sh_at + 3 * sizeof(Elf64_Shdr), 0);
  Elf64_Ehdr eh{};
  memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_DYN;
  eh.e_machine = EM_X86_64;
  eh.e_version = EV_CURRENT;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_shoff = sh_at;
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = 1;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 3;
  eh.e_shstrndx = 2;
  Elf64_Phdr ph{};
  ph.p_type = PT_LOAD;
  ph.p_flags = PF_R | PF_X;
  ph.p_memsz = t.end - t.start;
  ph.p_align = 4096;
  Elf64_Shdr sh[3]{};
  sh[1].sh_name = 1;
  sh[1].sh_type = SHT_PROGBITS;
  sh[1].sh_flags = SHF_ALLOC;
  sh[1].sh_addr = t.eh_frame_address - t.start;
  sh[1].sh_offset = eh_at;
  sh[1].sh_size = t.eh_frame.size();
  sh[1].sh_addralign = 8;
  sh[2].sh_name = 11;
  sh[2].sh_type = SHT_STRTAB;
  sh[2].sh_offset = names_at;
  sh[2].sh_size = sizeof kNames;
  memcpy(out.data(), &eh, sizeof eh);
  memcpy(out.data() + sizeof eh, &ph, sizeof ph);
  memcpy(out.data() + eh_at, t.eh_frame.data(), t.eh_frame.size());
  memcpy(out.data() + names_at, kNames, sizeof kNames);
  memcpy(out.data() + sh_at, sh, sizeof sh);
  return out;
}

// Modules graft described itself get their synthetic image; the rest are
// found the usual way (files, or images read from memory for deleted ones).
static int FindElf(Dwfl_Module* mod, void** userdata, const char* name, Dwarf_Addr base, char** file_name,
                   Elf** elfp) {
  if (userdata && *userdata) {
    auto* s = static_cast<std::vector<uint8_t>*>(*userdata);
    *elfp = elf_memory(reinterpret_cast<char*>(s->data()), s->size());
    return -1;
  }
  return dwfl_linux_proc_find_elf(mod, userdata, name, base, file_name, elfp);
}

// Whether the ELF file at `path` has a .debug_frame section (from the
// section headers only); when unsure, yes.
static bool HasDebugFrame(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return true;
  Elf* e = elf_begin(fd, ELF_C_READ_MMAP, nullptr);
  size_t names;
  bool found = !e || elf_getshdrstrndx(e, &names) != 0;
  for (Elf_Scn* scn = nullptr; !found && (scn = elf_nextscn(e, scn));) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh)) {
      found = true;
      break;
    }
    const char* name = elf_strptr(e, names, sh.sh_name);
    found = name && (std::strcmp(name, ".debug_frame") == 0 || std::strcmp(name, ".zdebug_frame") == 0);
  }
  if (e) elf_end(e);
  close(fd);
  return found;
}

// A separate debug file serves the unwinder only through .debug_frame (x86-64
// code unwinds from .eh_frame, which the file itself has). For a file with a
// build-id, only the distribution's /usr/lib/debug/.build-id/ file is looked
// at, and opened only when it has .debug_frame: libdw would inflate every
// compressed DWARF section of it (tens of milliseconds for the C library's,
// in every process), and where none is on disk it would load the debuginfod
// client (and with DEBUGINFOD_URLS set, download one) while graft prepares a
// switch. Files without a build-id are looked up as libdw always does.
static int FindDebuginfo(Dwfl_Module* mod, void** userdata, const char* modname, Dwarf_Addr base,
                         const char* file_name, const char* debuglink_file, GElf_Word debuglink_crc,
                         char** debuginfo_file_name) {
  const unsigned char* bits = nullptr;
  GElf_Addr vaddr;
  int len = dwfl_module_build_id(mod, &bits, &vaddr);
  if (len > 1) {
    std::string hex;
    for (int i = 0; i < len; i++) hex += fmt::format("{:02x}", bits[i]);
    std::string path = "/usr/lib/debug/.build-id/" + hex.substr(0, 2) + "/" + hex.substr(2) + ".debug";
    if (access(path.c_str(), R_OK) != 0 || !HasDebugFrame(path)) return -1;
  }
  return dwfl_standard_find_debuginfo(mod, userdata, modname, base, file_name, debuglink_file, debuglink_crc,
                                      debuginfo_file_name);
}

static char* debuginfo_path = nullptr;
static const Dwfl_Callbacks kCallbacks = {
    .find_elf = FindElf,
    .find_debuginfo = FindDebuginfo,
    .section_address = nullptr,
    .debuginfo_path = &debuginfo_path,
};

Result<std::unique_ptr<StackUnwinder>> StackUnwinder::Create(pid_t pid, std::vector<ExtraUnwindTables> extra) {
  std::unique_ptr<StackUnwinder> u(new StackUnwinder());
  u->pid_ = pid;
  for (ExtraUnwindTables& t : extra) {
    auto s = std::make_unique<Synthetic>();
    s->image = MakeCfiElf(t);
    s->tables = std::move(t);
    u->synthetic_.push_back(std::move(s));
  }
  Dwfl* dwfl = dwfl_begin(&kCallbacks);
  if (!dwfl) return Err("libdw: {}", dwfl_errmsg(-1));
  u->dwfl_ = dwfl;
  dwfl_report_begin(dwfl);
  int r = dwfl_linux_proc_report(dwfl, pid);
  dwfl_report_end(dwfl, nullptr, nullptr);
  if (r != 0) return Err("process {}: cannot read its modules for unwinding: {}", pid, dwfl_errmsg(-1));
  // Hand graft's own mappings their tables, then load every module's CFI
  // now, while the process runs, so that none of that work happens while
  // its threads are held stopped.
  dwfl_getmodules(
      dwfl,
      [](Dwfl_Module*, void** userdata, const char*, Dwarf_Addr start, void* arg) -> int {
        for (auto& s : static_cast<StackUnwinder*>(arg)->synthetic_)
          if (s->tables.start == start) *userdata = &s->image;
        return DWARF_CB_OK;
      },
      u.get(), 0);
  dwfl_getmodules(
      dwfl,
      [](Dwfl_Module* mod, void**, const char*, Dwarf_Addr, void*) -> int {
        Dwarf_Addr bias;
        dwfl_module_getelf(mod, &bias);
        dwfl_module_eh_cfi(mod, &bias);
        dwfl_module_dwarf_cfi(mod, &bias);
        return DWARF_CB_OK;
      },
      nullptr, 0);
  return u;
}

StackUnwinder::~StackUnwinder() {
  if (dwfl_) dwfl_end(static_cast<Dwfl*>(dwfl_));
}

// Whether libdw can unwind out of `pc` from frame descriptions.
static bool HasCfi(Dwfl* dwfl, Dwarf_Addr pc) {
  Dwfl_Module* mod = dwfl_addrmodule(dwfl, pc);
  if (!mod) return false;
  for (bool eh : {true, false}) {
    Dwarf_Addr bias = 0;
    Dwarf_CFI* cfi = eh ? dwfl_module_eh_cfi(mod, &bias) : dwfl_module_dwarf_cfi(mod, &bias);
    Dwarf_Frame* frame = nullptr;
    if (cfi && dwarf_cfi_addrframe(cfi, pc - bias, &frame) == 0) {
      free(frame);
      return true;
    }
  }
  return false;
}

namespace {

// One thread's walk: where frames go, and the process's initial stack
// pointer (/proc/PID/stat "startstack") for the main thread.
struct Walk {
  ThreadStack* st;
  uint64_t entry_sp = 0;  // 0: not the main thread, or unknown
  bool at_entry = false;  // the walk reached the process's entry frame
};

uint64_t StartStack(pid_t pid) {
  std::ifstream in(fmt::format("/proc/{}/stat", pid));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');  // the command name may hold spaces
  if (close == std::string::npos) return 0;
  std::istringstream fields(text.substr(close + 2));
  std::string f;
  // Field 28 (startstack); fields(…) starts at field 3 (state).
  for (int i = 3; i <= 28 && fields >> f; i++)
    if (i == 28) return std::strtoull(f.c_str(), nullptr, 10);
  return 0;
}

}  // namespace

static int CollectFrame(Dwfl_Frame* state, void* arg) {
  auto* walk = static_cast<Walk*>(arg);
  auto* st = walk->st;
  Dwarf_Addr pc;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) {
    st->error = dwfl_errmsg(-1);
    return DWARF_CB_ABORT;
  }
  uint64_t at = activation ? pc : pc - 1;
  st->pcs.push_back(at);
  st->activation.push_back(activation);
  Dwarf_Word sp = 0;
  // DWARF register 7 is %rsp on x86-64.
  if (dwfl_frame_reg(state, 7, &sp) != 0) sp = 0;
  st->sps.push_back(sp);
  // The dynamic loader's entry code (_start/_dl_start_user, assembly without
  // frame descriptions) is the outermost frame of a process whose
  // constructors are running — graftd's start-up agent waits there. It is
  // recognised by its stack pointer, the process's initial one (aligned down
  // to 16 bytes before the call into the constructors): nothing is outside it.
  if (walk->entry_sp && st->pcs.size() > 1 && sp && sp <= walk->entry_sp && walk->entry_sp - sp < 16) {
    walk->at_entry = true;
    return DWARF_CB_ABORT;
  }
  if (!HasCfi(dwfl_thread_dwfl(dwfl_frame_thread(state)), at)) {
    st->error = fmt::format("no frame description for pc {:#x} (code without unwind tables: JIT code, "
                            "hand-written assembly, or memory graft does not know)", at);
    return DWARF_CB_ABORT;
  }
  if (st->pcs.size() >= StackUnwinder::kMaxFrames) {
    st->error = fmt::format("the stack is deeper than {} frames", StackUnwinder::kMaxFrames);
    return DWARF_CB_ABORT;
  }
  return DWARF_CB_OK;
}

Result<std::vector<ThreadStack>> StackUnwinder::Unwind(const std::vector<pid_t>& tids) {
  Dwfl* dwfl = static_cast<Dwfl*>(dwfl_);
  if (!attached_) {
    int r = dwfl_linux_proc_attach(dwfl, pid_, true);
    if (r != 0) return Err("process {}: libdw cannot attach for unwinding: {}", pid_, r < 0 ? dwfl_errmsg(-1) : strerror(r));
    attached_ = true;
  }
  std::vector<ThreadStack> out;
  for (pid_t tid : tids) {
    ThreadStack st;
    st.tid = tid;
    // 0: the walk ended where the CFI marks the outermost frame; -1: libdw
    // could not go on; DWARF_CB_ABORT: CollectFrame stopped it.
    Walk walk{&st, tid == pid_ ? StartStack(pid_) : 0};
    int r = dwfl_getthread_frames(dwfl, tid, CollectFrame, &walk);
    st.complete = (r == 0 || walk.at_entry) && st.error.empty();
    if (!st.complete && st.error.empty()) {
      const char* msg = dwfl_errmsg(-1);
      st.error = msg && *msg ? msg : "unwinding stopped early";
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace graft::process
