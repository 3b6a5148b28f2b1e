/*
 * A process tree for the preflight tests (test/workloads/preflight-host.test.ts).
 *
 *   memtree READY_FILE HEAP_MIB CHILDREN [EXTRA...]
 *
 * The parent fills HEAP_MIB of private memory, then forks CHILDREN children that share it
 * copy-on-write and never write to it (issue 13's case: a heap dumped once per process). Then the
 * parent opens each EXTRA, writes "ready <pid> <extra results>" to READY_FILE and waits for SIGTERM,
 * on which it kills and reaps its children before it exits (the tests leave no orphan behind):
 *   shm=MIB           MAP_SHARED anonymous memory, filled (dumped once by CRIU)
 *   uring             an io_uring instance (io_uring_setup); "uring=ok" or "uring=errno:N"
 *   mptcp             a Multipath TCP socket (a protocol CRIU cannot dump; Go programs may use it); "mptcp=ok" or "mptcp=errno:N"
 *   kmsg              /dev/kmsg opened (a device beyond the default set)
 *   connect=NAME      a unix stream socket connected to the abstract socket @NAME (zero-padded, as Node binds it)
 *   pair              a unix socketpair, both ends held (CRIU dumps it)
 *   listen=PORT       a TCP socket listening on 127.0.0.1:PORT (CRIU dumps it)
 *   eventfd           an eventfd (CRIU dumps it)
 * Built static, stdio anywhere: the tests start it detached.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef IPPROTO_MPTCP
#define IPPROTO_MPTCP 262
#endif

#define MAX_CHILDREN 64
static pid_t kids[MAX_CHILDREN];
static int nkids;

static void on_term(int sig) {
  (void)sig;
  for (int i = 0; i < nkids; i++) kill(kids[i], SIGKILL);
  for (int i = 0; i < nkids; i++) waitpid(kids[i], NULL, 0);
  _exit(0);
}

static void fill(unsigned char *p, size_t n) {
  /* A different byte per page: no page is the zero page, none merges. */
  for (size_t i = 0; i < n; i += 4096) memset(p + i, (int)(i / 4096 % 251) + 1, 4096 < n - i ? 4096 : n - i);
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: memtree READY_FILE HEAP_MIB CHILDREN [EXTRA...]\n");
    return 2;
  }
  size_t heap = (size_t)atol(argv[2]) << 20;
  int children = atoi(argv[3]);
  if (children < 0 || children > MAX_CHILDREN) return fprintf(stderr, "at most %d children\n", MAX_CHILDREN), 2;
  unsigned char *p = mmap(NULL, heap ? heap : 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return perror("mmap"), 1;
  fill(p, heap);
  for (int i = 0; i < children; i++) {
    pid_t c = fork();
    if (c < 0) return perror("fork"), 1;
    if (c == 0) {
      for (;;) pause();
    }
    kids[nkids++] = c;
  }
  signal(SIGTERM, on_term);
  char results[1024] = "";
  for (int i = 4; i < argc; i++) {
    char *a = argv[i];
    char r[128] = "";
    if (strncmp(a, "shm=", 4) == 0) {
      size_t n = (size_t)atol(a + 4) << 20;
      unsigned char *s = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
      if (s == MAP_FAILED) return perror("mmap shared"), 1;
      fill(s, n);
    } else if (strcmp(a, "uring") == 0) {
      struct io_uring_params params;
      memset(&params, 0, sizeof params);
      long fd = syscall(__NR_io_uring_setup, 8, &params);
      snprintf(r, sizeof r, fd >= 0 ? " uring=ok" : " uring=errno:%d", errno);
    } else if (strcmp(a, "mptcp") == 0) {
      int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP);
      snprintf(r, sizeof r, fd >= 0 ? " mptcp=ok" : " mptcp=errno:%d", errno);
    } else if (strcmp(a, "kmsg") == 0) {
      if (open("/dev/kmsg", O_RDONLY) < 0) return perror("/dev/kmsg"), 1;
    } else if (strncmp(a, "connect=", 8) == 0) {
      struct sockaddr_un sa = {.sun_family = AF_UNIX};
      size_t len = strlen(a + 8);
      if (len + 1 >= sizeof sa.sun_path) return fprintf(stderr, "name too long\n"), 2;
      memcpy(sa.sun_path + 1, a + 8, len); /* abstract: a leading NUL */
      int fd = socket(AF_UNIX, SOCK_STREAM, 0);
      /* The whole zero-padded sun_path: Node 20 binds abstract names that way. */
      if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) return perror("connect"), 1;
    } else if (strcmp(a, "pair") == 0) {
      int sv[2];
      if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0) return perror("socketpair"), 1;
    } else if (strncmp(a, "listen=", 7) == 0) {
      struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(a + 7)), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(fd, 8) < 0) return perror("listen"), 1;
    } else if (strcmp(a, "eventfd") == 0) {
      if (eventfd(0, 0) < 0) return perror("eventfd"), 1;
    } else {
      fprintf(stderr, "unknown extra %s\n", a);
      return 2;
    }
    strncat(results, r, sizeof results - strlen(results) - 1);
  }
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
  FILE *f = fopen(tmp, "w");
  if (!f) return perror(tmp), 1;
  fprintf(f, "ready %d%s\n", (int)getpid(), results);
  fclose(f);
  rename(tmp, argv[1]);
  for (;;) pause();
}
