/* COM1 output through a 16550A UART, and the printf on top of it. */
#include "rt.h"

#define UART_THR 0  /* transmit holding (DLAB=0) / divisor low (DLAB=1) */
#define UART_IER 1  /* interrupt enable / divisor high */
#define UART_FCR 2  /* FIFO control */
#define UART_LCR 3  /* line control */
#define UART_MCR 4  /* modem control */
#define UART_LSR 5  /* line status */
#define LSR_THRE 0x20

void serial_init(void)
{
    outb(COM1 + UART_IER, 0x00);   /* no UART interrupts: output is polled */
    outb(COM1 + UART_LCR, 0x80);   /* DLAB on to reach the divisor latch */
    outb(COM1 + UART_THR, 0x01);   /* divisor 1: 115200 baud */
    outb(COM1 + UART_IER, 0x00);
    outb(COM1 + UART_LCR, 0x03);   /* 8 data bits, no parity, 1 stop bit; DLAB off */
    outb(COM1 + UART_FCR, 0xC7);   /* FIFO on, clear both, 14-byte RX threshold */
    outb(COM1 + UART_MCR, 0x03);   /* DTR, RTS; OUT2 off (no IRQ to the PIC) */
}

void serial_putc(char c)
{
    while (!(inb(COM1 + UART_LSR) & LSR_THRE))
        ;
    outb(COM1 + UART_THR, (uint8_t)c);
}

void puts(const char *s)
{
    while (*s)
        serial_putc(*s++);
}

/* Emit an unsigned number in the given base, padded to 'width'. Only 32-bit
 * arithmetic: there is no libgcc for 64-bit division. */
static int put_uint(uint32_t v, unsigned base, int width, char pad, int upper)
{
    char buf[12];
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int n = 0, out = 0;
    do {
        buf[n++] = digits[v % base];
        v /= base;
    } while (v);
    for (; width > n; width--, out++)
        serial_putc(pad);
    while (n)
        serial_putc(buf[--n]), out++;
    return out;
}

/* Supports %d %i %u %x %X %c %s %p %%, a '0' flag, a width, '-' for %s,
 * and ignores 'l'/'h' length modifiers (everything is 32 bits). */
int vprintf(const char *fmt, va_list ap)
{
    int out = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            serial_putc(*fmt);
            out++;
            continue;
        }
        fmt++;
        char pad = ' ';
        int left = 0, width = 0;
        if (*fmt == '-') {
            left = 1;
            fmt++;
        }
        if (*fmt == '0') {
            pad = '0';
            fmt++;
        }
        while (*fmt >= '0' && *fmt <= '9')
            width = width * 10 + (*fmt++ - '0');
        while (*fmt == 'l' || *fmt == 'h')
            fmt++;
        switch (*fmt) {
        case 'd':
        case 'i': {
            int32_t v = va_arg(ap, int32_t);
            if (v < 0) {
                serial_putc('-');
                out++;
                if (width)
                    width--;
                out += put_uint(0u - (uint32_t)v, 10, width, pad, 0);
            } else {
                out += put_uint((uint32_t)v, 10, width, pad, 0);
            }
            break;
        }
        case 'u':
            out += put_uint(va_arg(ap, uint32_t), 10, width, pad, 0);
            break;
        case 'x':
        case 'X':
            out += put_uint(va_arg(ap, uint32_t), 16, width, pad, *fmt == 'X');
            break;
        case 'p':
            puts("0x");
            out += 2 + put_uint(va_arg(ap, uint32_t), 16, 8, '0', 0);
            break;
        case 'c':
            serial_putc((char)va_arg(ap, int));
            out++;
            break;
        case 's': {
            const char *s = va_arg(ap, const char *);
            int len = (int)strlen(s);
            if (!left)
                for (; width > len; width--, out++)
                    serial_putc(' ');
            puts(s);
            out += len;
            if (left)
                for (; width > len; width--, out++)
                    serial_putc(' ');
            break;
        }
        case '%':
            serial_putc('%');
            out++;
            break;
        case '\0':
            return out;
        default:               /* unknown: show it verbatim */
            serial_putc('%');
            serial_putc(*fmt);
            out += 2;
        }
    }
    return out;
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintf(fmt, ap);
    va_end(ap);
    return n;
}
