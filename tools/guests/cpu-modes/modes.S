/*
 * Code for the cpu-modes guest that C cannot express: 16-bit protected-mode
 * code, a real-mode round trip, and a call-gate target.
 *
 * GDT selectors (set up by cpu-modes.c, see there):
 *   0x30 16-bit code, base = code16_start     0x38 16-bit data, base = data16
 *   0x50 call gate (DPL 3) -> 0x08:callgate_entry, 1 parameter
 *   0x60 16-bit code, base = 0x7000 (the copied real-mode blob)
 *   0x68 16-bit data, base 0, limit 0xFFFF (real-mode compatible)
 */

        .text
/* ---- 16-bit protected mode ------------------------------------------- */

/* void run_code16(void): far jump into 16-bit code through a memory far
 * pointer; it stores its results in data16 and far-jumps back. */
        .code32
        .globl run_code16
run_code16:
        pushl %ebx
        pushl %esi
        pushl %edi
        pushl %ebp
        movl %esp, code16_saved_esp
        ljmp *code16_farptr
code16_back:                            /* ljmpl'd to from 16-bit code */
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movl %esp, %eax
        subl code16_saved_esp, %eax
        movl %eax, code16_esp_delta     /* 16-bit CALL/RET must balance */
        movl code16_saved_esp, %esp
        popl %ebp
        popl %edi
        popl %esi
        popl %ebx
        ret

        .align 16
        .globl code16_start
code16_start:
        .code16
c16_entry:
        movw $0x38, %ax
        movw %ax, %ds                   /* 16-bit data segment: base = data16 */

        /* 16-bit arithmetic wraps at 16 bits: 0xFFFF + 1 = 0 with ZF, PF. */
        movw $0xFFFF, %ax
        incw %ax
        lahf
        movw %ax, 0                     /* data16[0] = AH:AL = flags:0 */

        /* 0x66 operand-size prefix: a 32-bit move in 16-bit code. */
        movl $0x12345678, %eax
        movl %eax, 4

        /* 16-bit addressing wraps: BX + SI = 0x10010 -> offset 0x0010. */
        movw $0xFFF0, %bx
        movw $0x0020, %si
        movw $0xBEEF, (%bx,%si)

        /* Near CALL/RET with 16-bit operand size: 2-byte return address
         * (on the 32-bit stack, since SS is still a B=1 segment). */
        call c16_sub

        /* LOOP with 16-bit address size counts in CX, not ECX. */
        movl $0x00010003, %ecx
1:      loop 1b
        movl %ecx, 12

        ljmpl $0x08, $code16_back

c16_sub:
        movw $0x55AA, 8
        ret

/* Far-called from 32-bit code: returns with a 32-bit far return. */
c16_func:
        movw $0x1616, %ax
        lretl
        .code32
        .globl code16_end
code16_end:

        .globl c16_func_off
        .set c16_func_off, c16_func - code16_start

/* uint32_t call_code16(uint32_t eax): LCALL 0x30:c16_func, returns EAX. */
        .globl call_code16
call_code16:
        movl 4(%esp), %eax
        lcall $0x30, $(c16_func - code16_start)
        ret

/* ---- real mode round trip -------------------------------------------- */

/* void run_realmode(void): copy rm_blob to 0x7000, enter it through a
 * 16-bit code segment, clear CR0.PE, run real-mode code, set PE again and
 * return to 32-bit code. Results are copied to rm_results. */
        .globl run_realmode
run_realmode:
        pushl %ebx
        pushl %esi
        pushl %edi
        pushl %ebp
        pushfl
        cli
        movl %esp, rm_saved_esp
        movl $rm_blob, %esi
        movl $0x7000, %edi
        movl $(rm_blob_end - rm_blob), %ecx
        rep movsb
        ljmp $0x60, $0

rm_back32:
        movw $0x10, %ax
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        movl rm_saved_esp, %esp
        movl $(0x7000 + rm_data - rm_blob), %esi
        movl $rm_results, %edi
        movl $(rm_blob_end - rm_data), %ecx
        rep movsb
        popfl
        popl %ebp
        popl %edi
        popl %esi
        popl %ebx
        ret

/* Runs at 0x7000: first as 16-bit protected mode (CS=0x60, base 0x7000),
 * then as real mode (CS=0x0700). Only offsets relative to rm_blob are used. */
        .code16
rm_blob:
        movw $0x68, %ax                 /* 64 KiB limits, as real mode expects */
        movw %ax, %ds
        movw %ax, %es
        movw %ax, %fs
        movw %ax, %gs
        movw %ax, %ss
        movl %cr0, %eax
        andl $~1, %eax
        movl %eax, %cr0
        ljmp $0x0700, $(rm_real - rm_blob)
rm_real:
        movw %cs, %ax
        movw %ax, %ds                   /* DS = 0x0700: linear = 0x7000 + offset */
        movw %ax, rm_cs - rm_blob
        movl %cr0, %eax
        movl %eax, rm_cr0 - rm_blob
        /* segment * 16 + offset */
        movw $0x1234, %ax
        movw %ax, %es
        movw $0xA5A5, %es:6             /* linear 0x12346 */
        /* FFFF:0010 is linear 0x100000 with A20 on: the multiboot magic. */
        movw $0xFFFF, %ax
        movw %ax, %fs
        movl %fs:0x10, %eax
        movl %eax, rm_hma - rm_blob
        movl %cr0, %eax
        orl $1, %eax
        movl %eax, %cr0
        ljmpl $0x08, $rm_back32

rm_data:
rm_cs:  .word 0
        .word 0
rm_cr0: .long 0
rm_hma: .long 0
rm_blob_end:
        .code32

/* ---- call gate target -------------------------------------------------- */

/* Entered from ring 3 through the call gate: the CPU switched to the TSS
 * ring-0 stack and copied one parameter. Stack: EIP, CS, param, ESP, SS. */
        .globl callgate_entry
callgate_entry:
        movl %esp, cg_esp
        movw %cs, %ax
        movw %ax, cg_cs
        movl 0(%esp), %eax
        movl %eax, cg_frame + 0         /* return EIP */
        movl 4(%esp), %eax
        movl %eax, cg_frame + 4         /* caller CS */
        movl 8(%esp), %eax
        movl %eax, cg_frame + 8         /* the parameter */
        movl 12(%esp), %eax
        movl %eax, cg_frame + 12        /* caller ESP */
        movl 16(%esp), %eax
        movl %eax, cg_frame + 16        /* caller SS */
        movl $0x600D, %eax
        lret $4                         /* pops the parameter on both stacks */

        .data
        .align 4
code16_farptr:
        .long 0                         /* c16_entry is at offset 0 */
        .word 0x30

        .bss
        .align 4
code16_saved_esp: .long 0
        .globl code16_esp_delta
code16_esp_delta: .long 0
rm_saved_esp: .long 0
        .globl rm_results
rm_results: .space 12                   /* cs(2), pad(2), cr0, hma */
        .globl cg_esp, cg_cs, cg_frame
cg_esp: .long 0
cg_cs:  .long 0
cg_frame: .space 20

        .section .note.GNU-stack, "", @progbits
