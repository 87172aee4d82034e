/* Test guest entry points: BSP start, AP trampoline, interrupt stubs, user-mode switch. */
#include "guest.h"

/* ---- BSP: entered in long mode (pemu's 64-bit boot protocol), %rsi = zero page ---- */
    .section .text.boot, "ax"
    .globl _start
_start:
    cli
    lea  bsp_stack_top(%rip), %rsp
    mov  %rsi, %rdi
    call kmain
1:  cli
    hlt
    jmp 1b

/* ---- AP trampoline at 0x8000: real mode -> protected mode -> long mode ---- */
    .section .trampoline, "ax"
    .code16
    .globl ap_trampoline
ap_trampoline:
    cli
    xor  %ax, %ax
    mov  %ax, %ds
    lgdtl tramp_gdtr
    mov  %cr0, %eax
    or   $1, %eax
    mov  %eax, %cr0
    ljmpl $0x08, $ap_pm32
    .code32
ap_pm32:
    mov  $0x10, %ax
    mov  %ax, %ds
    mov  %ax, %es
    mov  %ax, %ss
    mov  %cr4, %eax
    or   $0x20, %eax             /* PAE */
    mov  %eax, %cr4
    mov  boot_cr3, %eax
    mov  %eax, %cr3
    mov  $0xC0000080, %ecx       /* EFER.LME */
    rdmsr
    or   $0x100, %eax
    wrmsr
    mov  %cr0, %eax
    or   $0x80000000, %eax       /* PG */
    mov  %eax, %cr0
    ljmp $0x18, $ap_lm64
    .code64
ap_lm64:
    lgdt gdtr                    /* the kernel's GDT (KERNEL_CS = 0x10) */
    mov  $KERNEL_DS, %ax
    mov  %ax, %ds
    mov  %ax, %es
    mov  %ax, %ss
    mov  ap_stack_top, %rsp
    pushq $KERNEL_CS
    movabs $ap_long, %rax
    push %rax
    lretq
    .p2align 3
tramp_gdt:
    .quad 0
    .quad 0x00cf9a000000ffff     /* 0x08 code32 */
    .quad 0x00cf92000000ffff     /* 0x10 data */
    .quad 0x00af9a000000ffff     /* 0x18 code64 */
tramp_gdtr:
    .word tramp_gdtr - tramp_gdt - 1
    .long tramp_gdt

    .text
ap_long:
    call ap_main
1:  cli
    hlt
    jmp 1b

/* ---- interrupts ---- */
    .globl isr_timer
isr_timer:                       /* PIT via the 8259: count and EOI */
    push %rax
    lock incq ticks(%rip)
    mov  $0x20, %al
    out  %al, $0x20
    pop  %rax
    iretq

    .globl isr_default
isr_default:                     /* an unexpected interrupt: report and stop */
    pushq $0
    pushq $255
    jmp  exc_common

/* CPU exceptions 0-31: push a dummy error code where the CPU pushes none. */
    .irp v, 0,1,2,3,4,5,6,7,9,15,16,18,19,20,21,22,23,24,25,26,27,28,29,31
exc_\v: pushq $0
    pushq $\v
    jmp  exc_common
    .endr
    .irp v, 8,10,11,12,13,14,17,30
exc_\v: pushq $\v
    jmp  exc_common
    .endr
exc_common:                      /* stack: vector, error code, RIP, CS, RFLAGS, RSP, SS */
    push %rax
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    lea  72(%rsp), %rdi
    call exception               /* returns only for #BP */
    pop  %r11
    pop  %r10
    pop  %r9
    pop  %r8
    pop  %rdi
    pop  %rsi
    pop  %rdx
    pop  %rcx
    pop  %rax
    add  $16, %rsp
    iretq

    .section .rodata
    .globl exc_stubs
exc_stubs:
    .irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .quad exc_\v
    .endr
    .text

/* enter_user(rip, rsp, arg): iretq to CPL3; user_done's ud2 comes back here and returns. */
    .globl enter_user
enter_user:
    push %rbx
    push %rbp
    push %r12
    push %r13
    push %r14
    push %r15
    mov  %rsp, saved_ksp(%rip)
    pushq $(USER_DS | 3)
    push %rsi
    pushq $0x202                 /* IF=1 */
    pushq $(USER_CS | 3)
    push %rdi
    mov  %rdx, %rdi
    iretq

    .globl isr_ud
isr_ud:                          /* #UD: at user_done it is the user loop's exit, %rdi/%rsi results */
    cmpq $user_done, (%rsp)
    jne  exc_6
    mov  %rdi, sys_arg0(%rip)
    mov  %rsi, sys_arg1(%rip)
    mov  saved_ksp(%rip), %rsp
    pop  %r15
    pop  %r14
    pop  %r13
    pop  %r12
    pop  %rbp
    pop  %rbx
    sti
    ret

/* ---- user mode: time user_work(n) with rdtsc and hand both back ---- */
    .globl user_entry
user_entry:
    mov  %rdi, %rbx
    rdtsc
    shl  $32, %rdx
    or   %rdx, %rax
    mov  %rax, %r12
    mov  %rbx, %rdi
    call user_work
    mov  %rax, %r13
    rdtsc
    shl  $32, %rdx
    or   %rdx, %rax
    sub  %r12, %rax
    mov  %r13, %rdi
    mov  %rax, %rsi
user_done:
    ud2

    .data
saved_ksp: .quad 0
    .bss
    .p2align 12
    .space 16384
bsp_stack_top:
    .section .note.GNU-stack, "", @progbits
