#include "config.h"
#include "forensics.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static double since(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) +
           (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

int cli_progress_init(struct cli_progress *p, int wanted, const char *what,
                      const char *path)
{
    struct stat sb;

    memset(p, 0, sizeof(*p));
    if (!wanted || !isatty(STDERR_FILENO)) {
        return 0;
    }
    p->what = what;
    p->path = path;
    if (strcmp(path, "-") != 0 && stat(path, &sb) == 0 &&
        S_ISREG(sb.st_mode)) {
        p->size = (uint64_t)sb.st_size;
    }
    clock_gettime(CLOCK_MONOTONIC, &p->start);
    return 1;
}

int cli_progress_show(void *opaque, uint64_t off, uint64_t raw_off)
{
    struct cli_progress *p = opaque;
    struct timespec now;
    double t, mib = (double)off / 1048576.0;

    clock_gettime(CLOCK_MONOTONIC, &now);
    if (p->shown && since(&p->last, &now) < 1.0 / 6) {
        return 0;
    }
    p->last = now;
    p->shown = 1;
    t = since(&p->start, &now);
    if (p->size) {
        fprintf(stderr, "\rvmstream %s: %3.0f%% of the input, %.1f MiB "
                "read, %.1f MiB/s   ", p->what,
                100.0 * (double)raw_off / (double)p->size, mib,
                t > 0 ? mib / t : 0.0);
    } else {
        fprintf(stderr, "\rvmstream %s: %.1f MiB read, %.1f MiB/s   ",
                p->what, mib, t > 0 ? mib / t : 0.0);
    }
    return 0;
}

void cli_progress_done(struct cli_progress *p)
{
    if (p->shown) {
        fprintf(stderr, "\r%*s\r", 72, "");
    }
}
