/*
 * latency.c - time from the last input byte to the last output byte of a
 * pipe filter:  latency STREAM CMD [ARGS...]
 * Writes STREAM into CMD's stdin as fast as CMD takes it, notes when the
 * last byte was accepted (and stdin closed), drains CMD's stdout, notes
 * when it ends.  Prints both times and the difference in milliseconds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
    int in[2], out[2], fd, st;
    static char buf[1 << 16], sink[1 << 16];
    ssize_t n = 0, off = 0;
    double t0 = now_ms(), t_last_in = 0, t_last_out = 0;
    long long total_out = 0;
    pid_t pid;

    if (argc < 3 || (fd = open(argv[1], O_RDONLY)) < 0) {
        fprintf(stderr, "usage: latency STREAM CMD [ARGS...]\n");
        return 2;
    }
    if (pipe(in) < 0 || pipe(out) < 0) {
        return 2;
    }
    pid = fork();
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        close(in[1]);
        close(out[0]);
        execvp(argv[2], argv + 2);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    fcntl(in[1], F_SETFL, O_NONBLOCK);
    for (;;) {
        struct pollfd p[2] = { { in[1], POLLOUT, 0 }, { out[0], POLLIN, 0 } };
        int np = in[1] >= 0 ? 2 : 1;
        struct pollfd *pp = in[1] >= 0 ? p : p + 1;

        if (poll(pp, (nfds_t)np, -1) < 0) {
            return 2;
        }
        if (in[1] >= 0 && (p[0].revents & (POLLOUT | POLLERR))) {
            if (off == n) {
                n = read(fd, buf, sizeof(buf));
                off = 0;
            }
            if (n <= 0) {
                t_last_in = now_ms();
                close(in[1]);
                in[1] = -1;
            } else {
                ssize_t w = write(in[1], buf + off, (size_t)(n - off));
                if (w > 0) {
                    off += w;
                }
            }
        }
        if (p[1].revents & (POLLIN | POLLHUP)) {
            ssize_t r = read(out[0], sink, sizeof(sink));
            if (r <= 0) {
                t_last_out = now_ms();
                break;
            }
            total_out += r;
        }
    }
    waitpid(pid, &st, 0);
    printf("input done %.3f ms, output done %.3f ms, latency %.3f ms, "
           "%lld bytes out, exit %d\n", t_last_in - t0, t_last_out - t0,
           t_last_out - t_last_in, total_out,
           WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    return 0;
}
