@ guest32.S - bare-metal AArch32 test guest for QEMU -M virt (cortex-a15,
@ qemu-system-arm, TCG).  The 32-bit sibling of ../guest/guest.S: prints
@ a banner, sets a few distinctive system registers, then loops forever
@ incrementing a counter, writing it into one of 128 pages and every 2^17
@ iterations printing "cnt=<16 hex> cpu1=0000000000000000" on the PL011 UART
@ (0x09000000), the line format tests/integration/qemu.sh reads.
@ One vCPU only (no secondary start).  Build: make (binutils-arm-none-eabi).
        .syntax unified
        .arch armv7-a
        .arm
        .equ UART, 0x09000000
        .equ PRINT_SHIFT, 17
        .section .text
        .global _start
_start:
        ldr     sp, =stack_top
        ldr     r4, =UART
        adr     r0, banner
        bl      puts
        @ distinctive values in registers that every cpreg list carries
        ldr     r0, =0x89abcdef
        mcr     p15, 0, r0, c13, c0, 2          @ TPIDRURW
        ldr     r0, =0x77700001
        mcr     p15, 0, r0, c13, c0, 3          @ TPIDRURO
        ldr     r0, =0x11100001
        mcr     p15, 0, r0, c13, c0, 4          @ TPIDRPRW
        ldr     r0, =0x00c0ffee
        mcr     p15, 0, r0, c13, c0, 1          @ CONTEXTIDR
        ldr     r0, =vectors
        mcr     p15, 0, r0, c12, c0, 0          @ VBAR
        mov     r0, #2
        mcr     p15, 2, r0, c0, c0, 0           @ CSSELR
        isb
        ldr     r6, =counter
        ldr     r7, =dirtybuf
        ldr     r5, [r6]
loop:
        add     r5, r5, #1
        str     r5, [r6]
        and     r0, r5, #127
        add     r0, r7, r0, lsl #12
        mcr     p15, 0, r0, c8, c7, 1           @ TLBIMVA: see ../guest README
        str     r5, [r0, #4]
        lsls    r1, r5, #(32 - PRINT_SHIFT)
        bne     loop
        adr     r0, s_cnt
        bl      puts
        mov     r0, r5
        bl      puthex8
        adr     r0, s_cpu1
        bl      puts
        b       loop

@ puts: r0 = NUL-terminated string; clobbers r0, r1
puts:
        ldrb    r1, [r0], #1
        cmp     r1, #0
        bxeq    lr
        strb    r1, [r4]
        b       puts

@ puthex8: r0 = value, prints 8 hex digits; clobbers r1-r3
puthex8:
        mov     r2, #28
1:      lsr     r1, r0, r2
        and     r1, r1, #15
        cmp     r1, #10
        addlo   r1, r1, #'0'
        addhs   r1, r1, #('a' - 10)
        strb    r1, [r4]
        subs    r2, r2, #4
        bpl     1b
        bx      lr

        .balign 32
vectors:
        b       .
        b       .
        b       .
        b       .
        b       .
        b       .
        b       .
        b       .

banner: .asciz  "GUEST-BOOT qemu-migration-test-vector guest32 v1\n"
s_cnt:  .asciz  "cnt=00000000"
s_cpu1: .asciz  " cpu1=0000000000000000\n"
        .balign 4
        .ltorg

        .section .bss
        .balign 4096
counter: .space 4096
stack:  .space 4096
stack_top:
dirtybuf: .space 128 * 4096
