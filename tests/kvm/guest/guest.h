/* Shared declarations of the test guest (kernel.c <-> entry.S). */
#ifndef GUEST_H
#define GUEST_H

/* Linux's x86-64 GDT layout (asm/segment.h): PVM hosts expect these selectors. */
#define KERNEL_CS 0x10
#define KERNEL_DS 0x18
#define USER32_CS 0x20
#define USER_DS   0x28
#define USER_CS   0x30
#define TSS_SEL   0x40

#ifndef __ASSEMBLER__
#include <stdint.h>

extern volatile uint64_t ticks;
extern volatile uint64_t sys_arg0, sys_arg1;
extern uint64_t boot_cr3;
extern uint64_t ap_stack_top;

void isr_timer(void);
void isr_ud(void);
void isr_default(void);
void enter_user(uint64_t rip, uint64_t rsp, uint64_t arg);
void user_entry(void);
uint64_t user_work(uint64_t n);
extern char ap_trampoline[];

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0,%1" :: "a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0,%1" :: "a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) { uint8_t v; __asm__ volatile("inb %1,%0" : "=a"(v) : "Nd"(port)); return v; }
static inline uint64_t rdtsc(void) { uint32_t lo, hi; __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi)); return ((uint64_t)hi << 32) | lo; }
static inline uint64_t rdmsr(uint32_t msr) { uint32_t lo, hi; __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr)); return ((uint64_t)hi << 32) | lo; }
static inline void wrmsr(uint32_t msr, uint64_t v) { __asm__ volatile("wrmsr" :: "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))); }
#endif /* __ASSEMBLER__ */
#endif
