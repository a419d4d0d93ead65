// libdw does the CFI work; graft only collects PCs. Frames past the first are
// return addresses, so they are reported minus one to land inside the call
// instruction's function (a noreturn call may end a function).
#include "process/stack_unwinder.h"

#include <elfutils/libdwfl.h>

namespace graft::process {

static char* debuginfo_path = nullptr;
static const Dwfl_Callbacks kCallbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .section_address = nullptr,
    .debuginfo_path = &debuginfo_path,
};

Result<std::unique_ptr<StackUnwinder>> StackUnwinder::Create(pid_t pid) {
  std::unique_ptr<StackUnwinder> u(new StackUnwinder());
  u->pid_ = pid;
  Dwfl* dwfl = dwfl_begin(&kCallbacks);
  if (!dwfl) return Err("libdw: {}", dwfl_errmsg(-1));
  u->dwfl_ = dwfl;
  dwfl_report_begin(dwfl);
  int r = dwfl_linux_proc_report(dwfl, pid);
  dwfl_report_end(dwfl, nullptr, nullptr);
  if (r != 0) return Err("process {}: cannot read its modules for unwinding: {}", pid, dwfl_errmsg(-1));
  // Load every module's CFI now, while the process runs, so that none of that
  // work happens while its threads are held stopped.
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

static int CollectFrame(Dwfl_Frame* state, void* arg) {
  auto* st = static_cast<ThreadStack*>(arg);
  Dwarf_Addr pc;
  bool activation = false;
  if (!dwfl_frame_pc(state, &pc, &activation)) {
    st->complete = false;
    st->error = dwfl_errmsg(-1);
    return DWARF_CB_ABORT;
  }
  st->pcs.push_back(activation ? pc : pc - 1);
  return st->pcs.size() > 512 ? DWARF_CB_ABORT : DWARF_CB_OK;
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
    int r = dwfl_getthread_frames(dwfl, tid, CollectFrame, &st);
    if (r != 0 && st.error.empty()) {
      // libdw reports the outermost frame (no return address) as an error too.
      const char* msg = dwfl_errmsg(-1);
      st.error = msg ? msg : "";
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace graft::process
