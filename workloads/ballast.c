/*
 * ferry-ballast: the main process of Ferry's `web` workload.
 *
 * It holds a memory ballast of incompressible pseudo-random data, keeps
 * rewriting part of it at a fixed rate (so a live migration has dirty pages
 * to chase), and publishes an ever-increasing counter through files that the
 * container's busybox httpd serves:
 *
 *   DIR/instance  random id written once at start: it changes on a restart,
 *                 but not on a CRIU checkpoint/restore.
 *   DIR/counter   incremented every interval, written atomically
 *                 (temporary file + rename).
 *
 * With FERRY_CANARY set in its environment (a marker of 8-64 letters, digits,
 * '-' or '_'), it also fills a page of its own with copies of the marker,
 * apart from the ballast so the rewriting never erases it: a test that
 * captures a migration's traffic looks for it on the wire (issue 12).
 *
 * It never forks (a process that forks while CRIU dumps it can have its
 * memory written twice), keeps no file open between ticks, reaps the zombies
 * it inherits as a container's PID 1, and exits 0 on SIGTERM or SIGINT.
 *
 * Build: gcc -O2 -static -Wall -Werror -o build/ferry-ballast workloads/ballast.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: ferry-ballast [--mib N] [--dirty-mib-per-s R] [--www DIR] [--interval-ms MS]\n"
            "  --mib N              memory ballast in MiB (default 256)\n"
            "  --dirty-mib-per-s R  MiB of the ballast rewritten per second (default 1; 0 = never)\n"
            "  --www DIR            directory for the counter and instance files (default /www)\n"
            "  --interval-ms MS     tick period in milliseconds (default 100)\n");
}

/* Parses a non-negative decimal number (fractions allowed when frac != 0). */
static int parse_num(const char *opt, const char *s, double max, int frac, double *out) {
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= 0) || v > max ||
        (!frac && v != (double)(uint64_t)v)) {
        fprintf(stderr, "ferry-ballast: invalid value for %s: '%s'\n", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

static uint64_t xs_state;

static inline uint64_t xorshift64(void) {
    uint64_t x = xs_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    xs_state = x;
    return x;
}

static uint64_t random_seed(void) {
    uint64_t seed = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        if (read(fd, &seed, sizeof seed) != (ssize_t)sizeof seed) seed = 0;
        close(fd);
    }
    if (seed == 0) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec * 1000000007ULL) ^ (uint64_t)ts.tv_nsec ^
               ((uint64_t)getpid() << 32);
    }
    if (seed == 0) seed = 0x9e3779b97f4a7c15ULL;
    return seed;
}

static void fill_page(unsigned char *p) {
    uint64_t *w = (uint64_t *)p;
    for (size_t i = 0; i < PAGE / sizeof *w; i++) w[i] = xorshift64();
}

/* Writes text to dir/name atomically: dir/.name.tmp, fsync-free, then rename. */
static int write_atomic(const char *dir, const char *name, const char *text) {
    char tmp[PATH_MAX], dst[PATH_MAX];
    if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp ||
        snprintf(dst, sizeof dst, "%s/%s", dir, name) >= (int)sizeof dst) {
        errno = ENAMETOOLONG;
        return -1;
    }
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return -1;
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);
        if (n < 0) {
            if (errno == EINTR) continue;
            int e = errno;
            close(fd);
            unlink(tmp);
            errno = e;
            return -1;
        }
        off += (size_t)n;
    }
    if (close(fd) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    if (rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}

/*
 * FERRY_CANARY, copied end to end into a page of its own (NUL-separated, so
 * each copy stands alone). Returns 0 when there is none, -1 when it is bad.
 */
static int plant_canary(void) {
    const char *c = getenv("FERRY_CANARY");
    if (c == NULL || *c == '\0') return 0;
    size_t len = strlen(c);
    if (len < 8 || len > 64) goto bad;
    for (size_t i = 0; i < len; i++)
        if (!((c[i] >= 'a' && c[i] <= 'z') || (c[i] >= 'A' && c[i] <= 'Z') ||
              (c[i] >= '0' && c[i] <= '9') || c[i] == '-' || c[i] == '_'))
            goto bad;
    unsigned char *page = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        fprintf(stderr, "ferry-ballast: cannot map the canary page: %s\n", strerror(errno));
        return -1;
    }
    for (size_t off = 0; off + len + 1 <= PAGE; off += len + 1) memcpy(page + off, c, len);
    return 0;
bad:
    fprintf(stderr, "ferry-ballast: FERRY_CANARY must be 8-64 letters, digits, '-' or '_'\n");
    return -1;
}

static void reap_children(void) {
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
}

int main(int argc, char **argv) {
    double mib = 256, dirty_rate = 1, interval_ms = 100;
    const char *www = "/www";

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        const char *val = NULL;
        char opt[64];
        const char *eq = strchr(a, '=');
        if (strncmp(a, "--", 2) == 0 && eq != NULL) {
            size_t n = (size_t)(eq - a);
            if (n >= sizeof opt) n = sizeof opt - 1;
            memcpy(opt, a, n);
            opt[n] = '\0';
            val = eq + 1;
        } else {
            snprintf(opt, sizeof opt, "%s", a);
            if (i + 1 < argc) val = argv[i + 1], i++;
        }
        int bad = 0;
        if (val == NULL) {
            fprintf(stderr, "ferry-ballast: %s needs a value\n", opt);
            bad = 1;
        } else if (strcmp(opt, "--mib") == 0) {
            bad = parse_num(opt, val, 1024.0 * 1024, 0, &mib);
        } else if (strcmp(opt, "--dirty-mib-per-s") == 0) {
            bad = parse_num(opt, val, 1024.0 * 1024, 1, &dirty_rate);
        } else if (strcmp(opt, "--www") == 0) {
            www = val;
        } else if (strcmp(opt, "--interval-ms") == 0) {
            bad = parse_num(opt, val, 3600.0 * 1000, 0, &interval_ms);
            if (!bad && interval_ms < 1) {
                fprintf(stderr, "ferry-ballast: --interval-ms must be at least 1\n");
                bad = 1;
            }
        } else {
            fprintf(stderr, "ferry-ballast: unknown option %s\n", opt);
            bad = 1;
        }
        if (bad) {
            usage(stderr);
            return 2;
        }
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char buf[64];

    /* A counter left by an earlier run must not be served before this run is ready. */
    char path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/counter", www) < (int)sizeof path) unlink(path);

    if (plant_canary() != 0) return 2;

    xs_state = random_seed();
    snprintf(buf, sizeof buf, "%016llx\n", (unsigned long long)random_seed());
    if (write_atomic(www, "instance", buf) != 0) {
        fprintf(stderr, "ferry-ballast: cannot write %s/instance: %s\n", www, strerror(errno));
        return 1;
    }

    size_t pages = (size_t)(mib * 1024 * 1024 / PAGE);
    unsigned char *mem = NULL;
    if (pages > 0) {
        mem = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED) {
            fprintf(stderr, "ferry-ballast: cannot map %.0f MiB: %s\n", mib, strerror(errno));
            return 1;
        }
        for (size_t p = 0; p < pages && !stop_requested; p++) fill_page(mem + p * PAGE);
    }

    /* Pages to rewrite per tick; the fraction is carried over so low rates stay exact. */
    double pages_per_tick = dirty_rate * 1024 * 1024 / PAGE * interval_ms / 1000.0;
    double owed = 0;
    size_t cursor = 0;
    unsigned long long counter = 0;
    struct timespec period = {
        .tv_sec = (time_t)(interval_ms / 1000),
        .tv_nsec = (long)((uint64_t)interval_ms % 1000) * 1000000L,
    };

    snprintf(buf, sizeof buf, "%llu\n", counter);
    if (write_atomic(www, "counter", buf) != 0)
        fprintf(stderr, "ferry-ballast: cannot write %s/counter: %s\n", www, strerror(errno));

    while (!stop_requested) {
        /* Relative sleeps: a restore on another host (another monotonic clock) just continues. */
        struct timespec left = period;
        while (nanosleep(&left, &left) != 0 && errno == EINTR && !stop_requested) {
        }
        if (stop_requested) break;

        counter++;
        if (pages > 0 && pages_per_tick > 0) {
            owed += pages_per_tick;
            size_t n = (size_t)owed;
            owed -= (double)n;
            for (size_t i = 0; i < n; i++) {
                fill_page(mem + cursor * PAGE);
                if (++cursor == pages) cursor = 0;
            }
        }
        snprintf(buf, sizeof buf, "%llu\n", counter);
        if (write_atomic(www, "counter", buf) != 0)
            fprintf(stderr, "ferry-ballast: cannot write %s/counter: %s\n", www, strerror(errno));
        reap_children();
    }
    return 0;
}
