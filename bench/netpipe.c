/*
 * netpipe.c - the two ends of a TCP stream on loopback, for timing what
 * sits between them (bench/proxy.sh):
 *
 *   netpipe port              print a free TCP port on 127.0.0.1
 *   netpipe recv PORT         listen on 127.0.0.1:PORT (0: the kernel's
 *                             choice), print "port N", accept one
 *                             connection, read it to its end; print
 *                             "bytes B ms T" (T from the accept to the end)
 *   netpipe send PORT FILE    connect, sendfile(2) FILE whole (no copy:
 *                             the sender costs the same in every setup),
 *                             shut the write side, wait for the peer to
 *                             close
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static struct sockaddr_in loopback(unsigned port)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)port);
    return sa;
}

static int listener(unsigned port, unsigned *bound)
{
    struct sockaddr_in sa = loopback(port);
    socklen_t sl = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

    if (fd < 0) {
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(fd, 4) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &sl) < 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

static int do_recv(unsigned port)
{
    static char buf[1 << 20];
    unsigned bound;
    int l = listener(port, &bound), c;
    long long total = 0;
    double t0;

    if (l < 0) {
        perror("netpipe recv: listen");
        return 2;
    }
    printf("port %u\n", bound);
    fflush(stdout);
    c = accept(l, NULL, NULL);
    if (c < 0) {
        perror("netpipe recv: accept");
        return 2;
    }
    t0 = now_ms();
    for (;;) {
        ssize_t n = read(c, buf, sizeof(buf));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            break;
        }
        total += n;
    }
    printf("bytes %lld ms %.1f\n", total, now_ms() - t0);
    close(c);
    close(l);
    return 0;
}

static int do_send(unsigned port, const char *path)
{
    struct sockaddr_in sa = loopback(port);
    struct stat sb;
    off_t off = 0;
    int fd = open(path, O_RDONLY), s = socket(AF_INET, SOCK_STREAM, 0);
    char c;

    if (fd < 0 || fstat(fd, &sb) < 0 || s < 0 ||
        connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("netpipe send");
        return 2;
    }
    while (off < sb.st_size) {
        ssize_t n = sendfile(s, fd, &off, (size_t)(sb.st_size - off));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            perror("netpipe send: sendfile");
            return 2;
        }
    }
    shutdown(s, SHUT_WR);
    while (read(s, &c, 1) > 0) {
    }
    close(s);
    close(fd);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "port") == 0) {
        unsigned p;
        int l = listener(0, &p);

        if (l < 0) {
            return 2;
        }
        close(l);
        printf("%u\n", p);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "recv") == 0) {
        return do_recv((unsigned)atoi(argv[2]));
    }
    if (argc == 4 && strcmp(argv[1], "send") == 0) {
        return do_send((unsigned)atoi(argv[2]), argv[3]);
    }
    fprintf(stderr, "usage: netpipe port | recv PORT | send PORT FILE\n");
    return 2;
}
