/*
 * One 16-byte stub per IDT vector, all funnelling into isr_common, which
 * builds a struct regs (see rt.h) and calls trap_dispatch(struct regs *).
 *
 * Vectors whose exceptions push an error code (8, 10-14, 17, 21, 29, 30)
 * push only the vector; all others push a dummy 0 first so every frame has
 * the same layout. (A software INT to one of those vectors would therefore
 * misalign the frame; no guest does that.)
 */

        .text
        .align 16
        .globl isr_stubs
isr_stubs:
        .set vec, 0
        .rept 256
        .align 16
        .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
        pushl $vec
        .else
        pushl $0
        pushl $vec
        .endif
        jmp isr_common
        .set vec, vec + 1
        .endr

isr_common:
        pushal
        pushl %ds
        pushl %es
        pushl %fs
        pushl %gs
        /* The interrupted code may have had any data segment loaded (a
         * small-limit test segment, or the ring-3 one): use the kernel's. */
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        cld
        pushl %esp
        call trap_dispatch
        addl $4, %esp
        popl %gs
        popl %fs
        popl %es
        popl %ds
        popal
        addl $8, %esp                   /* vector and error code */
        iret

        .section .note.GNU-stack, "", @progbits
