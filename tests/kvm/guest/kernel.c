/* The KVM test guest's kernel: serial output, PIT interrupts through the 8259,
   a trip to user mode, an MMIO write, SMP bring-up with INIT/SIPI, ACPI power-off.
   Command line (zero page cmd_line_ptr): "smp=N loops=N mmio=ADDR reboot=1". */
#include "guest.h"

volatile uint64_t ticks;
volatile uint64_t sys_arg0, sys_arg1;
uint64_t boot_cr3;
uint64_t ap_stack_top;
static volatile int cpus_up = 1;
static volatile int print_lock;

static uint64_t gdt[10];
static struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr_val;
static uint8_t tss[104] __attribute__((aligned(16)));
static uint64_t idt[512] __attribute__((aligned(16)));
static uint64_t pml4[512] __attribute__((aligned(4096)));
static uint64_t pdpt[512] __attribute__((aligned(4096)));

static uint64_t pd[4][512] __attribute__((aligned(4096)));
static uint8_t kstack0[8192] __attribute__((aligned(16)));
static uint8_t user_stack[16384] __attribute__((aligned(16)));
static uint8_t ap_stacks[8][4096] __attribute__((aligned(16)));

/* lgdt from the AP trampoline needs a symbol; keep the descriptor in a known place. */
__asm__(".globl gdtr\n.set gdtr, gdtr_val");

/* ---- serial (16550 at 0x3f8, polled) ---- */
static void putc_(char c)
{
    while (!(inb(0x3f8 + 5) & 0x20))
        ;
    outb(0x3f8, c);
}
static void puts_(const char *s) { while (*s) { if (*s == '\n') putc_('\r'); putc_(*s++); } }
static void putu(uint64_t v)
{
    char b[21]; int i = 20; b[i] = 0;
    do { b[--i] = '0' + v % 10; v /= 10; } while (v);
    puts_(b + i);
}
static void putx(uint64_t v)
{
    char b[19]; b[0] = '0'; b[1] = 'x';
    for (int i = 0; i < 16; i++) b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
    b[18] = 0;
    puts_(b);
}
static void lock(void) { while (__atomic_exchange_n(&print_lock, 1, __ATOMIC_ACQUIRE)) ; }
static void unlock(void) { __atomic_store_n(&print_lock, 0, __ATOMIC_RELEASE); }

/* ---- command line ---- */
static uint64_t opt(const char *cmdline, const char *key, uint64_t dflt)
{
    for (const char *p = cmdline; p && *p; p++) {
        if (p != cmdline && p[-1] != ' ')
            continue;
        const char *k = key, *q = p;
        while (*k && *q == *k) { k++; q++; }
        if (*k || *q != '=')
            continue;
        q++;
        uint64_t v = 0, base = 10;
        if (q[0] == '0' && q[1] == 'x') { base = 16; q += 2; }
        for (;; q++) {
            int d = (*q >= '0' && *q <= '9') ? *q - '0'
                  : (*q >= 'a' && *q <= 'f') ? *q - 'a' + 10 : -1;
            if (d < 0 || d >= (int)base) break;
            v = v * base + d;
        }
        return v;
    }
    return dflt;
}

/* ---- descriptor tables, paging ---- */
static void set_gate(int vec, void (*fn)(void), int dpl)
{
    uint64_t a = (uint64_t)fn;
    idt[2 * vec] = (a & 0xffff) | ((uint64_t)KERNEL_CS << 16) | ((uint64_t)(0x8e | dpl << 5) << 40)
                 | ((a >> 16) & 0xffff) << 48;
    idt[2 * vec + 1] = a >> 32;
}

static void setup_cpu_tables(void)
{
    gdt[0] = 0;
    gdt[1] = 0x00cf9a000000ffffULL;   /* kernel code32 */
    gdt[KERNEL_CS / 8] = 0x00af9a000000ffffULL;   /* kernel code64 */
    gdt[KERNEL_DS / 8] = 0x00cf92000000ffffULL;   /* kernel data */
    gdt[USER32_CS / 8] = 0x00cffa000000ffffULL;   /* user code32, DPL3 */
    gdt[USER_DS / 8] = 0x00cff2000000ffffULL;     /* user data, DPL3 */
    gdt[USER_CS / 8] = 0x00affa000000ffffULL;     /* user code64, DPL3 */
    uint64_t t = (uint64_t)tss;
    *(uint64_t *)(tss + 4) = (uint64_t)(kstack0 + sizeof kstack0);   /* RSP0 */
    *(uint16_t *)(tss + 102) = sizeof tss;                          /* no I/O bitmap */
    gdt[TSS_SEL / 8] = (sizeof tss - 1) | (t & 0xffffff) << 16 | 0x89ULL << 40
                     | ((t >> 24) & 0xff) << 56;
    gdt[TSS_SEL / 8 + 1] = t >> 32;
    gdtr_val.limit = sizeof gdt - 1;
    gdtr_val.base = (uint64_t)gdt;
    __asm__ volatile("lgdt %0\n"
                     "mov %1, %%ds\nmov %1, %%es\nmov %1, %%ss\n"
                     "pushq %2\nlea 1f(%%rip), %%rax\npush %%rax\nlretq\n1:\n"
                     "ltr %w3" :: "m"(gdtr_val), "r"((uint64_t)KERNEL_DS),
                     "i"(KERNEL_CS), "r"(TSS_SEL) : "rax", "memory");
    for (int v = 0; v < 256; v++)
        set_gate(v, isr_default, 0);
    extern void (*const exc_stubs[32])(void);
    for (int v = 0; v < 32; v++)
        set_gate(v, exc_stubs[v], 0);
    /* User mode comes back with ud2 (#UD): on this PVM host neither `syscall` nor
       `int $0x80` enters CPL0 for a non-PVM guest, while exceptions do. */
    set_gate(6, isr_ud, 0);
    set_gate(0x20, isr_timer, 0);
    struct __attribute__((packed)) { uint16_t l; uint64_t b; } idtr = { sizeof idt - 1, (uint64_t)idt };
    __asm__ volatile("lidt %0" :: "m"(idtr));

    /* 4 GiB identity map, 2 MiB pages, user-accessible (the user loop runs from kernel text). */
    for (int i = 0; i < 4; i++) {
        pdpt[i] = (uint64_t)pd[i] | 7;
        for (int j = 0; j < 512; j++)
            pd[i][j] = ((uint64_t)i << 30) + ((uint64_t)j << 21) + 0x87;
    }
    pml4[0] = (uint64_t)pdpt | 7;

    boot_cr3 = (uint64_t)pml4;
    __asm__ volatile("mov %0, %%cr3" :: "r"(boot_cr3) : "memory");
}

static void setup_timer(void)
{
    /* 8259 pair: vectors 0x20/0x28, cascade on IRQ2, only IRQ0 unmasked. */
    outb(0x20, 0x11); outb(0xa0, 0x11);
    outb(0x21, 0x20); outb(0xa1, 0x28);
    outb(0x21, 4);    outb(0xa1, 2);
    outb(0x21, 1);    outb(0xa1, 1);
    outb(0x21, 0xfe); outb(0xa1, 0xff);
    /* i8254 channel 0, mode 2, 100 Hz. */
    outb(0x43, 0x34);
    outb(0x40, 11932 & 0xff);
    outb(0x40, 11932 >> 8);
    __asm__ volatile("sti");
}

static volatile uint64_t int3_rip;

void exception(uint64_t *frame)
{
    if (frame[0] == 3) {          /* #BP: note where it came from and carry on */
        int3_rip = frame[2];
        return;
    }
    puts_("\nexception ");
    putu(frame[0]);
    puts_(" error=");
    putx(frame[1]);
    puts_(" rip=");
    putx(frame[2]);
    puts_(" cs=");
    putx(frame[3]);
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    puts_(" cr2=");
    putx(cr2);
    puts_("\n");
    for (;;)
        __asm__ volatile("cli; hlt");
}

/* ---- SMP: INIT, SIPI, SIPI through the xAPIC (SDM vol. 3, 8.4.4.1) ---- */
#define LAPIC ((volatile uint32_t *)0xfee00000UL)
static void lapic_icr(uint32_t dest, uint32_t low)
{
    LAPIC[0x310 / 4] = dest << 24;
    LAPIC[0x300 / 4] = low;
    while (LAPIC[0x300 / 4] & (1 << 12))
        ;
}

void ap_main(void)
{
    int n = __atomic_fetch_add(&cpus_up, 1, __ATOMIC_SEQ_CST);
    lock();
    puts_("cpu ");
    putu(n);
    puts_(" up\n");
    unlock();
}

static void start_aps(int ncpus)
{
    LAPIC[0xf0 / 4] = 0x1ff;                      /* software-enable the BSP's LAPIC */
    for (int cpu = 1; cpu < ncpus; cpu++) {
        int before = cpus_up;
        ap_stack_top = (uint64_t)(ap_stacks[cpu & 7] + 4096);
        lapic_icr(cpu, 0x4500);                        /* INIT */
        lapic_icr(cpu, 0x4600 | ((uint64_t)ap_trampoline >> 12));   /* SIPI */
        for (uint64_t t = ticks; cpus_up == before && ticks < t + 20; )
            __asm__ volatile("pause");
        if (cpus_up == before)
            lapic_icr(cpu, 0x4600 | ((uint64_t)ap_trampoline >> 12));
        for (uint64_t t = ticks; cpus_up == before && ticks < t + 200; )
            __asm__ volatile("pause");
    }
}

void kmain(uint8_t *zero_page)
{
    const char *cmdline = (const char *)(uint64_t)*(uint32_t *)(zero_page + 0x228);
    puts_("testkernel: hello from the guest\n");
    {
        uint32_t a, b, c, d;
        static const uint32_t probe[][2] = {{1, 0}, {7, 0}, {0xd, 0}, {0xd, 1}, {0x80000001, 0},
                                            {0x40000000, 0}, {0x40000001, 0}};
        for (unsigned i = 0; i < sizeof probe / sizeof probe[0]; i++) {
            __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d)
                             : "a"(probe[i][0]), "c"(probe[i][1]));
            puts_("cpuid ");
            putx(probe[i][0]);
            puts_(": ");
            putx(a); puts_(" "); putx(b); puts_(" "); putx(c); puts_(" "); putx(d);
            puts_("\n");
        }
    }
    setup_cpu_tables();
    setup_timer();
    uint64_t t0 = ticks;
    while (ticks < t0 + 5)
        __asm__ volatile("hlt");
    puts_("timer: ");
    putu(ticks - t0);
    puts_(" interrupts\n");

    if (opt(cmdline, "reboot", 0)) {
        /* RAM survives a reset: a mark at 0x6000 (unused by the loader) tells boots apart. */
        volatile uint64_t *mark = (volatile uint64_t *)0x6000;
        if (*mark == 0x7265626f6f74ULL) {
            puts_("second boot after reset\n");
        } else {
            *mark = 0x7265626f6f74ULL;
            puts_("reboot via i8042\n");
            while (inb(0x64) & 2)
                ;
            outb(0x64, 0xfe);
            for (;;)
                __asm__ volatile("cli; hlt");
        }
    }

    if (opt(cmdline, "int3", 0)) {
        /* Linux's alternatives self-test does this at CPL0: int3 must trap to vector 3
           with the saved RIP just past the int3. */
        __asm__ volatile("int3_site: int3; nop; nop; nop; nop");
        extern char int3_site[];
        puts_("int3: trapped, saved rip - site = ");
        putu(int3_rip - (uint64_t)int3_site);
        puts_("\n");
    }

    if (opt(cmdline, "cx16", 0)) {
        /* Not emulated for CPL0 on PVM hosts: pemu must report it and stop. */
        static volatile unsigned __int128 slot __attribute__((aligned(16)));
        uint64_t lo = 0, hi = 0;
        puts_("cmpxchg16b\n");
        __asm__ volatile("lock cmpxchg16b %0" : "+m"(slot), "+a"(lo), "+d"(hi)
                         : "b"(1ULL), "c"(2ULL) : "memory", "cc");
        puts_("cmpxchg16b: done\n");
    }

    uint64_t mmio = opt(cmdline, "mmio", 0xfe000000);
    *(volatile uint32_t *)mmio = 0xc0ffee;
    puts_("mmio: wrote 0xc0ffee, read ");
    putx(*(volatile uint32_t *)(mmio + 4));
    puts_("\n");

    int ncpus = (int)opt(cmdline, "smp", 1);
    if (ncpus > 1) {
        start_aps(ncpus);
        lock();
        puts_("cpus: ");
        putu(cpus_up);
        puts_("\n");
        unlock();
    }

    uint64_t loops = opt(cmdline, "loops", 100000000);
    uint64_t tk = ticks;
    enter_user((uint64_t)user_entry, (uint64_t)(user_stack + sizeof user_stack), loops);
    puts_("user: cycles=");
    putu(sys_arg1);
    puts_(" sum=");
    putx(sys_arg0);
    puts_(" ticks=");
    putu(ticks - tk);
    puts_("\n");

    puts_("poweroff\n");
    outw(0x604, 1 << 13);          /* ACPI PM1a_CNT: SLP_TYP=0 (S5) | SLP_EN */
    for (;;)
        __asm__ volatile("cli; hlt");
}
