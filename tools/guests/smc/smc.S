/*
 * Code that the smc guest rewrites while running. Everything lives in the
 * image's single RWX segment (no paging), so plain stores reach it.
 */
        .text

/* uint32_t smc_ret_imm(void): returns the immediate of its MOV, which the
 * C side rewrites (smc_ret_imm + 1) before each call. */
        .globl smc_ret_imm
        .align 16
smc_ret_imm:
        movl $0x11111111, %eax          /* B8 imm32 */
        ret

/* uint32_t smc_op(uint32_t x): x OP 5, where OP is chosen by the ModRM
 * byte at smc_op_modrm: C0 = add, E8 = sub, F0 = xor, C8 = or. */
        .globl smc_op, smc_op_modrm
        .align 16
smc_op:
        movl 4(%esp), %eax
        .byte 0x83                      /* group 1, r/m32, imm8 */
smc_op_modrm:
        .byte 0xC0                      /* /0 = add, eax */
        .byte 0x05
        ret

/* uint32_t smc_ahead(uint32_t v): stores v into the immediate of an
 * instruction three instructions further on in the same block, then runs
 * it. */
        .globl smc_ahead
        .align 16
smc_ahead:
        movl 4(%esp), %ecx
        movl %ecx, 1f + 1
        xorl %edx, %edx
        incl %edx
        addl %edx, %edx
1:      movl $0, %eax                   /* B8 imm32: patched above */
        ret

/* uint32_t smc_next(void): the store rewrites the very next instruction
 * from DEC EAX (48) to INC EAX (40); returns 1 if the new one ran, -1 if
 * the stale one did. The C side puts the DEC back before each call. */
        .globl smc_next, smc_next_insn
        .align 16
smc_next:
        xorl %eax, %eax
        movb $0x40, smc_next_insn
smc_next_insn:
        decl %eax                       /* 48 */
        ret

/* uint32_t smc_loop(uint32_t n): sum of 1..n, computed by an ADD whose
 * immediate the loop itself rewrites on every iteration; the block being
 * modified is the one executing. */
        .globl smc_loop
        .align 16
smc_loop:
        pushl %ebx
        movl 8(%esp), %ebx
        xorl %eax, %eax
        movl $1, %ecx
2:      movl %ecx, 3f + 1
3:      .byte 0x05                      /* add $imm32, %eax */
        .long 0
        incl %ecx
        cmpl %ebx, %ecx
        jbe 2b
        popl %ebx
        ret

/* uint32_t smc_stos(void): REP STOSB overwrites the 2-byte JMP right after
 * it with NOPs, so execution falls through to MOV $2. Returns 2 if the
 * rewrite was seen, 1 if the stale JMP ran. The C side restores the JMP. */
        .globl smc_stos, smc_stos_jmp
        .align 16
smc_stos:
        pushl %edi
        movl $1, %edx
        movl $smc_stos_jmp, %edi
        movb $0x90, %al
        movl $2, %ecx
        rep stosb
smc_stos_jmp:
        jmp 4f                          /* EB xx */
        movl $2, %edx
4:      movl %edx, %eax
        popl %edi
        ret

/* A template copied into a data buffer and called there. */
        .globl smc_template, smc_template_end
smc_template:
        movl 4(%esp), %eax
        leal 0x7E50(%eax,%eax,2), %eax  /* 3x + 0x7E50 */
        ret
smc_template_end:

        .section .note.GNU-stack, "", @progbits
