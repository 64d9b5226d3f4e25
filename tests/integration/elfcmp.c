/*
 * elfcmp - compare ELF core files (QEMU dump-guest-memory vs vmstream core)
 * for the integration tests.  Reads the files itself (no binutils).
 *
 *   elfcmp info CORE            header, PT_LOADs and notes, one per line
 *   elfcmp cores A B            same class/byte order/machine/type, the
 *                               same PT_LOADs (paddr, sizes) with the same
 *                               bytes, the same note bytes; prints what
 *                               differs.  Layout (offsets) may differ.
 *   elfcmp ram CORE GPA FILE    FILE's bytes == the PT_LOAD at GPA
 *
 * Exit: 0 same / 1 different / 2 error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct seg {
    uint32_t type;
    uint64_t off, paddr, filesz, memsz;
};

struct core {
    const char *path;
    FILE *f;
    int e64, be;
    uint16_t type, machine, ehsize;
    struct seg *s;
    size_t n;
    uint8_t *notes;
    uint64_t notes_len;
};

static uint64_t get(const uint8_t *p, int n, int be)
{
    uint64_t v = 0;
    int i;

    for (i = 0; i < n; i++) {
        v |= (uint64_t)p[be ? n - 1 - i : i] << (8 * i);
    }
    return v;
}

static int rd(struct core *c, uint64_t off, void *buf, size_t len)
{
    if (fseeko(c->f, (off_t)off, SEEK_SET) != 0 ||
        fread(buf, 1, len, c->f) != len) {
        fprintf(stderr, "elfcmp: %s: cannot read %zu bytes at %llu\n",
                c->path, len, (unsigned long long)off);
        return -1;
    }
    return 0;
}

static int load(struct core *c, const char *path)
{
    uint8_t h[64], ph[56];
    uint64_t phoff;
    unsigned phnum, phent, i;

    memset(c, 0, sizeof(*c));
    c->path = path;
    c->f = fopen(path, "rb");
    if (!c->f) {
        fprintf(stderr, "elfcmp: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (rd(c, 0, h, 52) < 0 || memcmp(h, "\177ELF", 4) != 0) {
        fprintf(stderr, "elfcmp: %s: not ELF\n", path);
        return -1;
    }
    c->e64 = h[4] == 2;
    c->be = h[5] == 2;
    if (c->e64 && rd(c, 0, h, 64) < 0) {
        return -1;
    }
    c->type = (uint16_t)get(h + 16, 2, c->be);
    c->machine = (uint16_t)get(h + 18, 2, c->be);
    if (c->e64) {
        phoff = get(h + 32, 8, c->be);
        c->ehsize = (uint16_t)get(h + 52, 2, c->be);
        phent = (unsigned)get(h + 54, 2, c->be);
        phnum = (unsigned)get(h + 56, 2, c->be);
    } else {
        phoff = get(h + 28, 4, c->be);
        c->ehsize = (uint16_t)get(h + 40, 2, c->be);
        phent = (unsigned)get(h + 42, 2, c->be);
        phnum = (unsigned)get(h + 44, 2, c->be);
    }
    if (phent != (c->e64 ? 56u : 32u) || phnum == 0 || phnum >= 0xffff) {
        fprintf(stderr, "elfcmp: %s: phentsize %u phnum %u unsupported\n",
                path, phent, phnum);
        return -1;
    }
    c->s = calloc(phnum, sizeof(*c->s));
    if (!c->s) {
        return -1;
    }
    c->n = phnum;
    for (i = 0; i < phnum; i++) {
        struct seg *s = &c->s[i];

        if (rd(c, phoff + (uint64_t)i * phent, ph, phent) < 0) {
            return -1;
        }
        s->type = (uint32_t)get(ph, 4, c->be);
        if (c->e64) {
            s->off = get(ph + 8, 8, c->be);
            s->paddr = get(ph + 24, 8, c->be);
            s->filesz = get(ph + 32, 8, c->be);
            s->memsz = get(ph + 40, 8, c->be);
        } else {
            s->off = get(ph + 4, 4, c->be);
            s->paddr = get(ph + 12, 4, c->be);
            s->filesz = get(ph + 16, 4, c->be);
            s->memsz = get(ph + 20, 4, c->be);
        }
        if (s->type == 4) {
            if (c->notes || s->filesz > (64u << 20)) {
                fprintf(stderr, "elfcmp: %s: second or huge PT_NOTE\n",
                        path);
                return -1;
            }
            c->notes = malloc(s->filesz ? s->filesz : 1);
            c->notes_len = s->filesz;
            if (!c->notes || rd(c, s->off, c->notes, s->filesz) < 0) {
                return -1;
            }
        }
    }
    return 0;
}

/* One line per note: index, name, type, descsz, note offset. */
static void list_notes(const struct core *c)
{
    uint64_t off = 0;
    int k = 0;

    while (off + 12 <= c->notes_len) {
        const uint8_t *p = c->notes + off;
        uint32_t nsz = (uint32_t)get(p, 4, c->be);
        uint32_t dsz = (uint32_t)get(p + 4, 4, c->be);
        uint32_t type = (uint32_t)get(p + 8, 4, c->be);
        uint64_t nsz4 = (nsz + 3u) & ~3u, dsz4 = (dsz + 3u) & ~3u;

        printf("note %d name=%.*s type=0x%x descsz=%u at=%llu\n", k++,
               (int)(nsz && nsz <= 16 ? nsz - 1 : 0), (const char *)p + 12,
               type, dsz, (unsigned long long)off);
        off += 12 + nsz4 + dsz4;
    }
}

static void info(const struct core *c)
{
    size_t i;

    printf("class=ELF%d data=%s type=%u machine=%u ehsize=%u phnum=%zu\n",
           c->e64 ? 64 : 32, c->be ? "msb" : "lsb", c->type, c->machine,
           c->ehsize, c->n);
    for (i = 0; i < c->n; i++) {
        const struct seg *s = &c->s[i];

        printf("%s paddr=0x%llx filesz=0x%llx memsz=0x%llx off=0x%llx\n",
               s->type == 1 ? "PT_LOAD" : s->type == 4 ? "PT_NOTE"
                                                       : "PT_OTHER",
               (unsigned long long)s->paddr,
               (unsigned long long)s->filesz,
               (unsigned long long)s->memsz, (unsigned long long)s->off);
    }
    list_notes(c);
}

static const struct seg *find_load(const struct core *c, uint64_t paddr)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (c->s[i].type == 1 && c->s[i].paddr == paddr) {
            return &c->s[i];
        }
    }
    return NULL;
}

/* Compare len bytes at a->off / b->off; report the first difference. */
static int cmp_bytes(struct core *a, uint64_t aoff, FILE *bf,
                     const char *bname, uint64_t boff, uint64_t len,
                     uint64_t gpa)
{
    static uint8_t x[1 << 16], y[1 << 16];
    uint64_t done = 0;

    while (done < len) {
        size_t n = len - done < sizeof(x) ? (size_t)(len - done)
                                          : sizeof(x);
        size_t i;

        if (rd(a, aoff + done, x, n) < 0 ||
            fseeko(bf, (off_t)(boff + done), SEEK_SET) != 0 ||
            fread(y, 1, n, bf) != n) {
            fprintf(stderr, "elfcmp: %s: short read\n", bname);
            return 2;
        }
        if (memcmp(x, y, n) != 0) {
            for (i = 0; i < n && x[i] == y[i]; i++) {
            }
            printf("bytes differ at guest-physical 0x%llx: 0x%02x in %s, "
                   "0x%02x in %s\n", (unsigned long long)(gpa + done + i),
                   x[i], a->path, y[i], bname);
            return 1;
        }
        done += n;
    }
    return 0;
}

static int cores(struct core *a, struct core *b)
{
    size_t i, loads = 0;
    uint64_t bytes = 0;
    int rc = 0;

    if (a->e64 != b->e64 || a->be != b->be || a->machine != b->machine ||
        a->type != b->type) {
        printf("headers differ: ELF%d/%s/machine %u/type %u vs "
               "ELF%d/%s/machine %u/type %u\n", a->e64 ? 64 : 32,
               a->be ? "msb" : "lsb", a->machine, a->type,
               b->e64 ? 64 : 32, b->be ? "msb" : "lsb", b->machine,
               b->type);
        rc = 1;
    }
    for (i = 0; i < a->n; i++) {
        const struct seg *s = &a->s[i], *t;
        int r;

        if (s->type != 1) {
            continue;
        }
        t = find_load(b, s->paddr);
        if (!t) {
            printf("PT_LOAD at 0x%llx only in %s\n",
                   (unsigned long long)s->paddr, a->path);
            rc = 1;
            continue;
        }
        if (t->memsz != s->memsz || t->filesz != s->filesz) {
            printf("PT_LOAD at 0x%llx: sizes 0x%llx/0x%llx vs "
                   "0x%llx/0x%llx\n", (unsigned long long)s->paddr,
                   (unsigned long long)s->filesz,
                   (unsigned long long)s->memsz,
                   (unsigned long long)t->filesz,
                   (unsigned long long)t->memsz);
            rc = 1;
            continue;
        }
        r = cmp_bytes(a, s->off, b->f, b->path, t->off, s->filesz,
                      s->paddr);
        if (r == 2) {
            return 2;
        }
        rc |= r;
        loads++;
        bytes += s->filesz;
    }
    for (i = 0; i < b->n; i++) {
        if (b->s[i].type == 1 && !find_load(a, b->s[i].paddr)) {
            printf("PT_LOAD at 0x%llx only in %s\n",
                   (unsigned long long)b->s[i].paddr, b->path);
            rc = 1;
        }
    }
    if (a->notes_len != b->notes_len ||
        memcmp(a->notes, b->notes, a->notes_len) != 0) {
        uint64_t k;

        for (k = 0; k < a->notes_len && k < b->notes_len &&
                    a->notes[k] == b->notes[k]; k++) {
        }
        printf("notes differ: %llu vs %llu bytes, first difference at "
               "note byte %llu\n", (unsigned long long)a->notes_len,
               (unsigned long long)b->notes_len, (unsigned long long)k);
        printf("notes of %s:\n", a->path);
        list_notes(a);
        printf("notes of %s:\n", b->path);
        list_notes(b);
        rc = 1;
    }
    if (rc == 0) {
        printf("same: ELF%d %s machine %u, %zu PT_LOADs (%llu bytes), "
               "%llu bytes of notes\n", a->e64 ? 64 : 32,
               a->be ? "msb" : "lsb", a->machine, loads,
               (unsigned long long)bytes,
               (unsigned long long)a->notes_len);
    }
    return rc;
}

static void unload(struct core *c)
{
    if (c->f) {
        fclose(c->f);
    }
    free(c->s);
    free(c->notes);
    memset(c, 0, sizeof(*c));
}

static int run(int argc, char **argv, struct core *a, struct core *b);

int main(int argc, char **argv)
{
    struct core a, b;
    int rc;

    memset(&a, 0, sizeof(a));
    memset(&b, 0, sizeof(b));
    rc = run(argc, argv, &a, &b);
    unload(&a);
    unload(&b);
    return rc;
}

static int run(int argc, char **argv, struct core *pa, struct core *pb)
{

    if (argc == 3 && strcmp(argv[1], "info") == 0) {
        if (load(pa, argv[2]) < 0) {
            return 2;
        }
        info(pa);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "cores") == 0) {
        if (load(pa, argv[2]) < 0 || load(pb, argv[3]) < 0) {
            return 2;
        }
        return cores(pa, pb);
    }
    if (argc == 5 && strcmp(argv[1], "ram") == 0) {
        uint64_t gpa = strtoull(argv[3], NULL, 0);
        const struct seg *s;
        FILE *f;
        long sz;
        int rc;

        if (load(pa, argv[2]) < 0) {
            return 2;
        }
        s = find_load(pa, gpa);
        f = fopen(argv[4], "rb");
        if (!s || !f || fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0) {
            fprintf(stderr, "elfcmp: no PT_LOAD at %s or cannot read %s\n",
                    argv[3], argv[4]);
            if (f) {
                fclose(f);
            }
            return 2;
        }
        if ((uint64_t)sz != s->filesz) {
            printf("%s has %ld bytes, the PT_LOAD at %s %llu\n", argv[4], sz,
                   argv[3], (unsigned long long)s->filesz);
            fclose(f);
            return 1;
        }
        rc = cmp_bytes(pa, s->off, f, argv[4], 0, s->filesz, gpa);
        fclose(f);
        return rc;
    }
    fprintf(stderr, "usage: elfcmp info CORE | cores A B | ram CORE GPA "
            "FILE\n");
    return 2;
}
