/* graft_call_as_caller(a0, a1, a2, fn, ret_in_caller): calls fn(a0, a1, a2)
 * so that fn's return address is `ret_in_caller`, a `ret` instruction inside
 * the object that called the agent's dlopen. glibc's dlopen takes its
 * caller from its return address (the caller's RUNPATH, $ORIGIN and link
 * namespace decide what a name means); through this, the caller it sees is
 * the program's, not the agent's. fn returns onto that `ret`, which pops the
 * address of the local `ret` below, which returns to our C caller.
 *
 * The CFI describes the stack as an unwinder finds it while fn runs: from
 * the jump on, CFA = rsp + 8 with the return address (the borrowed `ret`)
 * at rsp, and the borrowed `ret`'s own frame (a frameless function's last
 * instruction, CFA = rsp + 8) returns to label 1, whose row is the same. */
  .text
  .globl graft_call_as_caller
  .hidden graft_call_as_caller
  .type graft_call_as_caller, @function
graft_call_as_caller:
  .cfi_startproc
  lea 1f(%rip), %r11
  push %r11
  .cfi_adjust_cfa_offset 8
  push %r8
  .cfi_adjust_cfa_offset -8
  jmp *%rcx
1:
  ret
  .cfi_endproc
  .size graft_call_as_caller, .-graft_call_as_caller
  .section .note.GNU-stack,"",@progbits
