// The machine's ceiling: a minimal C epoll server doing the same job (upper-case, reply) with
// nothing in the way. ASCII-only upper-casing, which is all the benchmark's text needs (Hangul
// has no case). Built from source by `deno task bench`.
//
//   c_server tcp|udp PORT     prints "listening on tcp://127.0.0.1:PORT" once ready
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

static void upper_ascii(unsigned char *data, size_t size) {
  for (size_t i = 0; i < size; i++)
    if (data[i] >= 'a' && data[i] <= 'z') data[i] -= 32;
}

static int bound(int type, int port) {
  int fd = socket(AF_INET, type, 0), one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in at = {.sin_family = AF_INET, .sin_port = htons(port)};
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&at, sizeof at) < 0) { perror("bind"); exit(1); }
  if (type == SOCK_STREAM) listen(fd, 1024);  // before announcing: clients connect at once
  socklen_t length = sizeof at;
  getsockname(fd, (struct sockaddr *)&at, &length);
  printf("listening on %s://127.0.0.1:%d\n", type == SOCK_STREAM ? "tcp" : "udp", ntohs(at.sin_port));
  fflush(stdout);
  return fd;
}

static void serve_udp(int fd) {
  unsigned char buffer[65536];
  for (;;) {
    struct sockaddr_storage from;
    socklen_t length = sizeof from;
    ssize_t n = recvfrom(fd, buffer, sizeof buffer, 0, (struct sockaddr *)&from, &length);
    if (n < 0) continue;
    upper_ascii(buffer, (size_t)n);
    sendto(fd, buffer, (size_t)n, 0, (struct sockaddr *)&from, length);
  }
}

// Per connection: what is read is upper-cased and written back; a reply the socket would not
// take at once waits in `pending` and the connection is not read until it has gone out.
struct conn { int fd; unsigned char *pending; size_t size, done; };

static void serve_tcp(int listener) {
  fcntl(listener, F_SETFL, O_NONBLOCK);
  int epoll = epoll_create1(0);
  struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
  static unsigned char buffer[1 << 16];
  struct epoll_event events[256];
  for (;;) {
    int ready = epoll_wait(epoll, events, 256, -1);
    for (int e = 0; e < ready; e++) {
      struct conn *c = events[e].data.ptr;
      if (c == NULL) {
        int fd;
        while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
          int one = 1;
          setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
          struct conn *nc = calloc(1, sizeof *nc);
          nc->fd = fd;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
          epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &ev);
        }
        continue;
      }
      if (c->pending) {  // writable again: finish the reply in hand
        ssize_t n = write(c->fd, c->pending + c->done, c->size - c->done);
        if (n > 0) c->done += (size_t)n;
        if (c->done == c->size) {
          free(c->pending);
          c->pending = NULL;
          struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
          epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &ev);
        }
        continue;
      }
      ssize_t n = read(c->fd, buffer, sizeof buffer);
      if (n <= 0) {
        if (n < 0 && errno == EAGAIN) continue;
        close(c->fd);
        free(c);
        continue;
      }
      upper_ascii(buffer, (size_t)n);
      ssize_t w = write(c->fd, buffer, (size_t)n);
      if (w < 0) w = 0;
      if (w < n) {
        c->size = (size_t)(n - w);
        c->done = 0;
        c->pending = malloc(c->size);
        memcpy(c->pending, buffer + w, c->size);
        struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &ev);
      }
    }
  }
}

int main(int argc, char **argv) {
  if (argc != 3) { fprintf(stderr, "usage: c_server tcp|udp PORT\n"); return 2; }
  int udp = strcmp(argv[1], "udp") == 0;
  int fd = bound(udp ? SOCK_DGRAM : SOCK_STREAM, atoi(argv[2]));
  if (udp) serve_udp(fd); else serve_tcp(fd);
  return 0;
}
