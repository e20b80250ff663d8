// Closed-loop load generator for the upper-case servers. Built from source by `deno task bench`
// (never committed as a binary). Each connection (TCP) or slot (UDP) sends a lower-case message,
// waits for the whole reply, checks every byte against the expected upper-case text, records
// the round-trip time, and sends the next. One thread, epoll, so the generator itself stays
// cheap next to the server under test.
//
//   loadgen tcp HOST PORT CONNECTIONS SIZE SECONDS TEXT [WARMUP]
//   loadgen udp HOST PORT IN_FLIGHT   SIZE SECONDS TEXT [WARMUP]
//   TEXT: ascii | korean; WARMUP: seconds before measuring starts (default 0.3)
//
// Prints one JSON line: ops, ops_per_s, mb_per_s (request bytes), p50_us, p99_us, errors, lost.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_SAMPLES 20000000
#define UDP_LOSS_NS 500000000LL

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

static void die(const char *what) {
  perror(what);
  exit(2);
}

// Lower-case text of exactly `size` bytes; Korean mixes Hangul (3 bytes each, no case) with
// ASCII words and is cut only between characters, padded with spaces.
static void make_text(unsigned char *out, size_t size, int korean) {
  const char *ascii = "hello world, this is the socket tutorial. ";
  const char *hangul = "안녕하세요 소켓 통신 hello 세계 ";
  const char *pattern = korean ? hangul : ascii;
  size_t plen = strlen(pattern), at = 0, p = 0;
  while (at < size) {
    unsigned char c = (unsigned char)pattern[p];
    size_t clen = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    if (at + clen > size) {
      while (at < size) out[at++] = ' ';
      break;
    }
    memcpy(out + at, pattern + p, clen);
    at += clen;
    p = (p + clen) % plen;
  }
}

static void upper_ascii(unsigned char *data, size_t size) {
  for (size_t i = 0; i < size; i++)
    if (data[i] >= 'a' && data[i] <= 'z') data[i] -= 32;
}

static uint32_t *samples;
static size_t sample_count;
static uint64_t ops, errors, lost, measure_start;
static uint64_t warmup_ns = 300000000ULL;

static void record(uint64_t started, uint64_t ended) {
  if (started < measure_start) return;  // warm-up
  ops++;
  if (sample_count < MAX_SAMPLES) {
    uint64_t us = (ended - started) / 1000;
    samples[sample_count++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
  }
}

static int compare(const void *a, const void *b) {
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return x < y ? -1 : x > y;
}

static void report(size_t size, double seconds) {
  qsort(samples, sample_count, sizeof *samples, compare);
  uint32_t p50 = sample_count ? samples[sample_count / 2] : 0;
  uint32_t p99 = sample_count ? samples[(size_t)(sample_count * 0.99)] : 0;
  printf("{\"ops\":%llu,\"ops_per_s\":%.1f,\"mb_per_s\":%.2f,\"p50_us\":%u,\"p99_us\":%u,"
         "\"errors\":%llu,\"lost\":%llu}\n",
         (unsigned long long)ops, ops / seconds, ops * (double)size / seconds / 1e6, p50, p99,
         (unsigned long long)errors, (unsigned long long)lost);
}

static struct sockaddr_storage address(const char *host, int port, socklen_t *length) {
  struct sockaddr_storage storage;
  memset(&storage, 0, sizeof storage);
  struct sockaddr_in *v4 = (struct sockaddr_in *)&storage;
  struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&storage;
  if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
    v4->sin_family = AF_INET;
    v4->sin_port = htons(port);
    *length = sizeof *v4;
  } else if (inet_pton(AF_INET6, host, &v6->sin6_addr) == 1) {
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons(port);
    *length = sizeof *v6;
  } else {
    fprintf(stderr, "loadgen: not an IP address: %s\n", host);
    exit(2);
  }
  return storage;
}

struct connection {
  int fd;
  size_t sent, received;
  uint64_t started;
};

static int run_tcp(const char *host, int port, int count, size_t size, double seconds,
                   const unsigned char *request, const unsigned char *expected) {
  socklen_t length;
  struct sockaddr_storage to = address(host, port, &length);
  int epoll = epoll_create1(0);
  struct connection *conns = calloc(count, sizeof *conns);
  unsigned char *buffer = malloc(1 << 20);
  for (int i = 0; i < count; i++) {
    int fd = socket(to.ss_family, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    if (connect(fd, (struct sockaddr *)&to, length) < 0) die("connect");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    conns[i].fd = fd;
    struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u32 = (uint32_t)i};
    epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
  }
  uint64_t start = now_ns();
  measure_start = start + warmup_ns;
  uint64_t end = measure_start + (uint64_t)(seconds * 1e9);
  for (int i = 0; i < count; i++) conns[i].started = now_ns();
  struct epoll_event events[256];
  while (now_ns() < end) {
    int ready = epoll_wait(epoll, events, 256, 100);
    for (int e = 0; e < ready; e++) {
      struct connection *c = &conns[events[e].data.u32];
      if ((events[e].events & EPOLLOUT) && c->sent < size) {
        ssize_t n = write(c->fd, request + c->sent, size - c->sent);
        if (n > 0) c->sent += (size_t)n;
        else if (n < 0 && errno != EAGAIN) die("write");
      }
      if (events[e].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
        for (;;) {
          size_t room = size - c->received;
          if (room == 0) break;
          ssize_t n = read(c->fd, buffer, room > (1 << 20) ? (1 << 20) : room);
          if (n < 0 && errno == EAGAIN) break;
          if (n <= 0) {
            fprintf(stderr, "loadgen: server closed a connection\n");
            return 1;
          }
          if (memcmp(buffer, expected + c->received, (size_t)n) != 0) errors++;
          c->received += (size_t)n;
        }
        if (c->received == size) {  // whole reply: record, start the next message
          uint64_t t = now_ns();
          record(c->started, t);
          c->sent = c->received = 0;
          c->started = t;
          ssize_t n = write(c->fd, request, size);
          if (n > 0) c->sent = (size_t)n;
        }
      }
      if (c->sent < size) {
        struct epoll_event event = {.events = EPOLLIN | EPOLLOUT, .data.u32 = events[e].data.u32};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
      } else {
        struct epoll_event event = {.events = EPOLLIN, .data.u32 = events[e].data.u32};
        epoll_ctl(epoll, EPOLL_CTL_MOD, c->fd, &event);
      }
    }
  }
  report(size, (now_ns() - measure_start) / 1e9);
  return 0;
}

// UDP: each datagram starts with a 10-digit sequence number (digits have no case), so a reply
// is matched to its request whatever order replies come back in.
static int run_udp(const char *host, int port, int in_flight, size_t size, double seconds,
                   const unsigned char *text, const unsigned char *upper) {
  if (size < 11) {
    fprintf(stderr, "loadgen: UDP messages need at least 11 bytes\n");
    return 2;
  }
  socklen_t length;
  struct sockaddr_storage to = address(host, port, &length);
  int fd = socket(to.ss_family, SOCK_DGRAM, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (struct sockaddr *)&to, length) < 0) die("connect");
  fcntl(fd, F_SETFL, O_NONBLOCK);
  uint64_t *sent_at = calloc(in_flight, sizeof *sent_at);
  uint32_t *sequence = calloc(in_flight, sizeof *sequence);
  unsigned char *message = malloc(size), *reply = malloc(65536);
  uint32_t next = 0;
  uint64_t start = now_ns();
  measure_start = start + warmup_ns;
  uint64_t end = measure_start + (uint64_t)(seconds * 1e9);
  for (int slot = 0; slot < in_flight; slot++) sent_at[slot] = 0;
  while (now_ns() < end) {
    uint64_t t = now_ns();
    for (int slot = 0; slot < in_flight; slot++) {
      if (sent_at[slot] != 0 && t - sent_at[slot] < UDP_LOSS_NS) continue;
      if (sent_at[slot] != 0 && t >= measure_start) lost++;
      sequence[slot] = next++ * (uint32_t)in_flight + (uint32_t)slot;
      memcpy(message, text, size);
      char digits[11];
      snprintf(digits, sizeof digits, "%010u", sequence[slot]);
      memcpy(message, digits, 10);
      // Timed before the send: on loopback the server may answer before send() returns.
      sent_at[slot] = now_ns();
      if (send(fd, message, size, 0) < 0 && errno != EAGAIN) die("send");
    }
    struct pollfd wait_for = {.fd = fd, .events = POLLIN};
    poll(&wait_for, 1, 10);  // block until a reply (or a lost one is due again)
    for (;;) {
      ssize_t n = recv(fd, reply, 65536, 0);
      if (n < 0) {
        if (errno == EAGAIN) break;
        if (errno == ECONNREFUSED) continue;
        die("recv");
      }
      uint32_t seq = (uint32_t)strtoul((char *)reply, NULL, 10);
      int slot = (int)(seq % (uint32_t)in_flight);
      if (sent_at[slot] == 0 || sequence[slot] != seq) continue;  // late reply of a lost one
      if ((size_t)n != size || memcmp(reply + 10, upper + 10, size - 10) != 0) errors++;
      uint64_t done = now_ns();
      record(sent_at[slot], done);
      sent_at[slot] = 0;
    }
  }
  report(size, (now_ns() - measure_start) / 1e9);
  return 0;
}

int main(int argc, char **argv) {
  if (argc != 8 && argc != 9) {
    fprintf(stderr, "usage: loadgen tcp|udp HOST PORT CONNECTIONS|IN_FLIGHT SIZE SECONDS ascii|korean [WARMUP]\n");
    return 2;
  }
  if (argc == 9) warmup_ns = (uint64_t)(atof(argv[8]) * 1e9);
  int udp = strcmp(argv[1], "udp") == 0;
  int port = atoi(argv[3]), count = atoi(argv[4]);
  size_t size = (size_t)atol(argv[5]);
  double seconds = atof(argv[6]);
  int korean = strcmp(argv[7], "korean") == 0;
  unsigned char *text = malloc(size), *upper = malloc(size);
  // UDP datagrams start with 10 digits (the sequence number): the text follows them, so no
  // character is cut by the digits.
  size_t prefix = udp && size > 10 ? 10 : 0;
  memset(text, '0', prefix);
  make_text(text + prefix, size - prefix, korean);
  memcpy(upper, text, size);
  upper_ascii(upper, size);
  samples = malloc(sizeof *samples * MAX_SAMPLES);
  return udp ? run_udp(argv[2], port, count, size, seconds, text, upper)
             : run_tcp(argv[2], port, count, size, seconds, text, upper);
}
