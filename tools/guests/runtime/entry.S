/*
 * Multiboot header and kernel entry.
 *
 * The loader enters _start in 32-bit protected mode with paging off,
 * EAX = 0x2BADB002 and EBX = physical address of the multiboot info. The
 * multiboot spec promises nothing about ESP, the GDT or the IDT, so the
 * runtime sets up all three before running any C code that could fault.
 */

#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000002     /* bit 1: please fill in mem_lower/mem_upper */

        .section .multiboot, "a"
        .align 4
        .long MB_MAGIC
        .long MB_FLAGS
        .long -(MB_MAGIC + MB_FLAGS)

        .section .text.entry, "ax"
        .globl _start
_start:
        /* Record the machine state exactly as the loader left it (before any
         * instruction here changes it) for the bootinfo guest; see rt.h. */
        movl %eax, boot_state + 0
        movl %ebx, boot_state + 4
        movl %ecx, boot_state + 8
        movl %edx, boot_state + 12
        movl %esi, boot_state + 16
        movl %edi, boot_state + 20
        movl %ebp, boot_state + 24
        movl %esp, boot_state + 28
        movw %cs, boot_state + 36
        movw %ds, boot_state + 38
        movw %es, boot_state + 40
        movw %fs, boot_state + 42
        movw %gs, boot_state + 44
        movw %ss, boot_state + 46
        movl %cr0, %ecx
        movl %ecx, boot_state + 48
        movl %cr4, %ecx
        movl %ecx, boot_state + 52
        sgdt boot_state + 56
        sidt boot_state + 64
        movl $boot_stack_top, %esp
        pushfl                          /* the first use of a stack: ours */
        popl boot_state + 32
        movl boot_state + 8, %ecx

        cli
        cld
        movl %eax, %esi                 /* keep magic and mbi across the BSS clear */
        movl %ebx, %ebp

        /* QEMU's loader already zeroes BSS; a loader need not, so do it here. */
        movl $__bss_start, %edi
        movl $__bss_end, %ecx
        subl %edi, %ecx
        xorl %eax, %eax
        rep stosb

        pushl $0                        /* EFLAGS: known state (IF=0, DF=0, AC=0) */
        popfl

        pushl %ebp                      /* mbi */
        pushl %esi                      /* magic */
        call rt_start                   /* never returns */
        jmp halt_forever

/* void halt_forever(void): interrupts off, halt; loop in case of NMI. */
        .text
        .globl halt_forever
halt_forever:
        cli
1:      hlt
        jmp 1b

/*
 * int run_user(int (*fn)(void), void *user_stack_top)
 *
 * Saves the callee-saved registers and ESP, then IRETs to ring 3 at
 * user_trampoline with the user stack. The trampoline calls fn and hands
 * its result to INT 0x80/SYS_EXIT, whose handler calls run_user_return
 * (on the ring-0 stack from the TSS) to resume here as if run_user returned.
 */
        .globl run_user
run_user:
        pushl %ebp
        pushl %ebx
        pushl %esi
        pushl %edi
        pushfl
        movl %esp, run_user_saved_esp
        movl 24(%esp), %ecx             /* fn */
        movl 28(%esp), %edx             /* user stack top */
        subl $4, %edx
        movl %ecx, (%edx)               /* fn pointer for the trampoline */

        cli                             /* the frame below is built non-atomically */
        pushl $0x23                     /* SS: user data, RPL 3 */
        pushl %edx                      /* ESP */
        pushl 8(%esp)                   /* EFLAGS as on entry (the pushfl above) */
        andl $~0x4100, (%esp)           /* but never TF or NT in ring 3 */
        pushl $0x1B                     /* CS: user code, RPL 3 */
        pushl $user_trampoline          /* EIP */
        movw $0x23, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        iret

/* Ring 3: call the user function, then leave through SYS_EXIT. */
user_trampoline:
        call *(%esp)
        movl %eax, %ebx
        movl $0, %eax                   /* SYS_EXIT */
        int $0x80
        ud2                             /* not reached */

/* void run_user_return(int value): ring 0, called from the SYS_EXIT handler. */
        .globl run_user_return
run_user_return:
        movl 4(%esp), %eax
        movl run_user_saved_esp, %esp
        movw $0x10, %cx
        movw %cx, %ds
        movw %cx, %es
        movw %cx, %fs
        movw %cx, %gs
        popfl                           /* restores the caller's IF */
        popl %edi
        popl %esi
        popl %ebx
        popl %ebp
        ret

        .data                           /* not .bss: written before the BSS clear */
        .align 16
        .globl boot_state
boot_state:
        .space 72

        .bss
        .align 16
run_user_saved_esp:
        .long 0
        .align 16
        .globl boot_stack_top
boot_stack:
        .space 65536
boot_stack_top:

        /* The stack the CPU switches to (TSS.esp0) on a trap from ring 3. */
        .align 16
        .globl ring0_stack_top
ring0_stack:
        .space 16384
ring0_stack_top:

        .section .note.GNU-stack, "", @progbits
