/*
 * Native side of the differential CPU tests: runs 32-bit x86 test cases on
 * the host CPU and reports the architectural state afterwards.
 *
 * Freestanding on purpose: the host has no 32-bit libc, so this talks to the
 * kernel with raw int $0x80 system calls and has its own _start.
 *
 * Protocol (stdin -> stdout, all little-endian u32 unless noted):
 *   request  : magic 'QCPU' (0x55504351), version (1), case count, then per case
 *              regs[8] (EAX ECX EDX EBX ESP EBP ESI EDI), eflags, code length,
 *              code bytes, DATA window (8 KiB)
 *   response : per case regs[8], eip, eflags, vector (0xFFFFFFFF = none,
 *              0xFFFFFFFE = watchdog timeout), error code, cr2, DATA window
 * Diagnostics go to stderr; exit status 0 only when every case was answered.
 */

typedef unsigned int u32;
typedef unsigned char u8;

#define CODE_ADDR 0x30000000u
#define CODE_SIZE 0x10000u
#define DATA_ADDR 0x20000000u
#define DATA_SIZE 0x2000u
/* Room the harness keeps at the end of CODE for its jump to the capture stub. */
#define CODE_TAIL 16u

#define REQUEST_MAGIC 0x55504351u
#define PROTOCOL_VERSION 1u
#define NO_FAULT 0xFFFFFFFFu
#define TIMEOUT 0xFFFFFFFEu

/* Only these input flags are taken; TF/AC/ID/NT would change how the host runs the harness. */
#define INPUT_FLAGS 0x00000CD5u /* CF PF AF ZF SF DF OF */
#define FORCED_FLAGS 0x00000202u /* IF and reserved bit 1, as Linux user mode has them */

#define SYS_EXIT 1
#define SYS_READ 3
#define SYS_WRITE 4
#define SYS_ALARM 27
#define SYS_MMAP 90 /* old_mmap: one pointer to six arguments, so no EBP juggling */
#define SYS_RT_SIGACTION 174
#define SYS_SIGALTSTACK 186

#define PROT_RW 3
#define PROT_RWX 7
#define MAP_PRIVATE 0x02
#define MAP_ANONYMOUS 0x20
#define MAP_FIXED_NOREPLACE 0x100000

#define SA_SIGINFO 0x00000004u
#define SA_ONSTACK 0x08000000u
#define SA_RESTORER 0x04000000u

#define SIGILL 4
#define SIGTRAP 5
#define SIGBUS 7
#define SIGFPE 8
#define SIGSEGV 11
#define SIGALRM 14

/* Seconds a single case may run before the watchdog stops it (runaway loops). */
#define CASE_TIMEOUT_SECONDS 5

/* Guest state shared with the assembly below; the layout is fixed by the asm offsets. */
struct guest_state {
    u32 regs[8]; /* EAX ECX EDX EBX ESP EBP ESI EDI */
    u32 eflags;
};

struct result_head {
    u32 regs[8];
    u32 eip;
    u32 eflags;
    u32 vector;
    u32 err;
    u32 cr2;
};

struct guest_state guest_in;
struct guest_state guest_out;
u32 guest_entry = CODE_ADDR;
u32 host_esp;
volatile u32 in_guest;
u32 capture_stack[16];

static struct result_head result;
static u8 altstack[65536] __attribute__((aligned(16)));
static u8 code_bytes[CODE_SIZE];

void guest_exit(void);
void guest_return(void);
void run_guest(void);
void sig_restorer(void);

/*
 * run_guest: saves the host callee-saved registers and ESP, loads EFLAGS with popfl from
 * a private one-slot "stack" (so the guest stack page is never touched), loads the eight
 * guest registers with plain moves (which leave flags alone), then jumps to CODE.
 * guest_exit: reached by the jump the harness appends after the guest code; saves ESP with
 * a move before switching to a private stack, so pushfl sees the guest's flags untouched.
 */
__asm__(
    ".text\n"
    ".globl _start\n"
    "_start:\n"
    "  xor %ebp, %ebp\n"
    "  and $-16, %esp\n"
    "  call harness_main\n"
    "  mov %eax, %ebx\n"
    "  mov $1, %eax\n"
    "  int $0x80\n"
    "  hlt\n"

    ".globl run_guest\n"
    "run_guest:\n"
    "  push %ebp\n"
    "  push %ebx\n"
    "  push %esi\n"
    "  push %edi\n"
    "  mov %esp, host_esp\n"
    "  mov $guest_in+32, %esp\n"
    "  popfl\n"
    "  mov guest_in+0, %eax\n"
    "  mov guest_in+4, %ecx\n"
    "  mov guest_in+8, %edx\n"
    "  mov guest_in+12, %ebx\n"
    "  mov guest_in+20, %ebp\n"
    "  mov guest_in+24, %esi\n"
    "  mov guest_in+28, %edi\n"
    "  mov guest_in+16, %esp\n"
    "  jmp *guest_entry\n"

    ".globl guest_exit\n"
    "guest_exit:\n"
    "  mov %esp, guest_out+16\n"
    "  mov $capture_stack+64, %esp\n"
    "  pushfl\n"
    "  popl guest_out+32\n"
    "  mov %eax, guest_out+0\n"
    "  mov %ecx, guest_out+4\n"
    "  mov %edx, guest_out+8\n"
    "  mov %ebx, guest_out+12\n"
    "  mov %ebp, guest_out+20\n"
    "  mov %esi, guest_out+24\n"
    "  mov %edi, guest_out+28\n"
    ".globl guest_return\n"
    "guest_return:\n"
    "  mov host_esp, %esp\n"
    "  cld\n"
    "  pop %edi\n"
    "  pop %esi\n"
    "  pop %ebx\n"
    "  pop %ebp\n"
    "  ret\n"

    ".globl sig_restorer\n"
    "sig_restorer:\n"
    "  mov $173, %eax\n" /* rt_sigreturn */
    "  int $0x80\n"
    "  hlt\n");

static long syscall3(long n, long a, long b, long c)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c) : "memory");
    return r;
}

static long syscall4(long n, long a, long b, long c, long d)
{
    long r;
    __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d) : "memory");
    return r;
}

static void *copy(void *dst, const void *src, u32 n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

static void fill(void *dst, u8 value, u32 n)
{
    __asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(value) : "memory");
}

/* gcc may emit calls to these even when freestanding. */
void *memcpy(void *dst, const void *src, u32 n) { return copy(dst, src, n); }
void *memset(void *dst, int value, u32 n) { fill(dst, (u8)value, n); return dst; }

static u32 length(const char *s)
{
    u32 n = 0;
    while (s[n])
        n++;
    return n;
}

static void say(const char *s) { syscall3(SYS_WRITE, 2, (long)s, (long)length(s)); }

static void say_hex(u32 v)
{
    char buf[11];
    buf[0] = '0';
    buf[1] = 'x';
    for (int i = 0; i < 8; i++)
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 15];
    buf[10] = 0;
    say(buf);
}

static void die(const char *what, u32 value, int status)
{
    say("harness: ");
    say(what);
    say(" ");
    say_hex(value);
    say("\n");
    syscall3(SYS_EXIT, status, 0, 0);
}

static void read_exact(void *buf, u32 n)
{
    u8 *p = buf;
    u32 got = 0;
    while (got < n) {
        long r = syscall3(SYS_READ, 0, (long)(p + got), (long)(n - got));
        if (r <= 0)
            die("short read on stdin, ret", (u32)r, 3);
        got += (u32)r;
    }
}

static void write_exact(const void *buf, u32 n)
{
    const u8 *p = buf;
    while (n > 0) {
        long r = syscall3(SYS_WRITE, 1, (long)p, (long)n);
        if (r <= 0)
            die("write to stdout failed, ret", (u32)r, 4);
        p += r;
        n -= (u32)r;
    }
}

static void map_fixed(u32 addr, u32 size, u32 prot)
{
    u32 args[6] = {addr, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, (u32)-1, 0};
    long r = syscall3(SYS_MMAP, (long)args, 0, 0);
    if ((u32)r != addr)
        die("cannot map fixed window at", addr, 5);
}

/* i386 struct sigcontext inside the ucontext (uc_flags, uc_link, 12-byte stack_t precede it). */
enum {
    SC_EDI = 4, SC_ESI, SC_EBP, SC_ESP, SC_EBX, SC_EDX, SC_ECX, SC_EAX,
    SC_TRAPNO, SC_ERR, SC_EIP, SC_CS, SC_EFLAGS, SC_ESP_AT_SIGNAL, SC_SS, SC_FPSTATE, SC_OLDMASK, SC_CR2
};

/* #DF #TS #NP #SS #GP #PF #AC push an error code; the others do not. */
static int has_error_code(u32 vector)
{
    return vector == 8 || (vector >= 10 && vector <= 14) || vector == 17;
}

static void on_signal(int sig, void *info, void *ucontext)
{
    (void)info;
    u32 *sc = (u32 *)((u8 *)ucontext + 20);
    if (sig == SIGALRM && !in_guest)
        return; /* the watchdog raced with a case that had just ended */
    if (!in_guest)
        die("fault inside the harness itself, eip", sc[SC_EIP], 70 + sig);
    in_guest = 0;
    result.regs[0] = sc[SC_EAX];
    result.regs[1] = sc[SC_ECX];
    result.regs[2] = sc[SC_EDX];
    result.regs[3] = sc[SC_EBX];
    result.regs[4] = sc[SC_ESP];
    result.regs[5] = sc[SC_EBP];
    result.regs[6] = sc[SC_ESI];
    result.regs[7] = sc[SC_EDI];
    result.eip = sc[SC_EIP];
    /* The image pushed for a fault has RF set for the return path; it is not guest-visible state. */
    result.eflags = sc[SC_EFLAGS] & ~0x00010000u;
    result.vector = sig == SIGALRM ? TIMEOUT : sc[SC_TRAPNO];
    /* Linux leaves stale values in these slots when the exception has none of its own. */
    result.err = has_error_code(result.vector) ? sc[SC_ERR] : 0;
    result.cr2 = result.vector == 14 ? sc[SC_CR2] : 0;
    /* Resume in guest_return via sigreturn, so the kernel restores the signal mask itself. */
    sc[SC_EIP] = (u32)guest_return;
    sc[SC_ESP] = host_esp;
    sc[SC_EFLAGS] &= ~0x00040500u; /* DF, TF, AC */
}

struct kernel_sigaction {
    void (*handler)(int, void *, void *);
    u32 flags;
    void (*restorer)(void);
    u32 mask[2];
};

static void install_handlers(void)
{
    u32 stack[3] = {(u32)altstack, 0, sizeof altstack};
    if (syscall3(SYS_SIGALTSTACK, (long)stack, 0, 0) != 0)
        die("sigaltstack failed", 0, 6);
    static const int signals[] = {SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV, SIGALRM};
    for (u32 i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        struct kernel_sigaction act = {on_signal, SA_SIGINFO | SA_ONSTACK | SA_RESTORER, sig_restorer, {0, 0}};
        if (syscall4(SYS_RT_SIGACTION, signals[i], (long)&act, 0, sizeof act.mask) != 0)
            die("rt_sigaction failed for signal", (u32)signals[i], 6);
    }
}

static void run_case(u32 code_len)
{
    u8 *code = (u8 *)CODE_ADDR;
    copy(code, code_bytes, code_len);
    /* jmp rel32 to guest_exit; anything after it stays int3 so stray jumps are reported. */
    u32 jmp_at = CODE_ADDR + code_len;
    u32 rel = (u32)guest_exit - (jmp_at + 5);
    code[code_len] = 0xE9;
    copy(code + code_len + 1, &rel, 4);

    guest_in.eflags = (guest_in.eflags & INPUT_FLAGS) | FORCED_FLAGS;
    fill(&result, 0, sizeof result);
    result.vector = NO_FAULT;

    syscall3(SYS_ALARM, CASE_TIMEOUT_SECONDS, 0, 0);
    in_guest = 1;
    run_guest();
    in_guest = 0;
    syscall3(SYS_ALARM, 0, 0, 0);

    if (result.vector == NO_FAULT) {
        copy(result.regs, guest_out.regs, sizeof result.regs);
        result.eip = jmp_at;
        result.eflags = guest_out.eflags;
    }
    fill(code, 0xCC, code_len + 5);
}

int harness_main(void)
{
    u32 header[3];
    read_exact(header, sizeof header);
    if (header[0] != REQUEST_MAGIC)
        die("bad request magic", header[0], 2);
    if (header[1] != PROTOCOL_VERSION)
        die("unsupported protocol version", header[1], 2);

    map_fixed(CODE_ADDR, CODE_SIZE, PROT_RWX);
    map_fixed(DATA_ADDR, DATA_SIZE, PROT_RW);
    fill((void *)CODE_ADDR, 0xCC, CODE_SIZE);
    install_handlers();

    for (u32 i = 0; i < header[2]; i++) {
        u32 head[10];
        read_exact(head, sizeof head);
        copy(guest_in.regs, head, sizeof guest_in.regs);
        guest_in.eflags = head[8];
        u32 code_len = head[9];
        if (code_len > CODE_SIZE - CODE_TAIL)
            die("code too long", code_len, 2);
        read_exact(code_bytes, code_len);
        read_exact((void *)DATA_ADDR, DATA_SIZE);
        run_case(code_len);
        write_exact(&result, sizeof result);
        write_exact((void *)DATA_ADDR, DATA_SIZE);
    }
    return 0;
}
