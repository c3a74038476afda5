// Socket helpers in the anet mould: return a descriptor or -1 with errno kept,
// and on failure write a one-line reason ("bind 127.0.0.1:9000: ...") to err.
#pragma once
#include <cstddef>
#include <netinet/in.h>
#include <sys/socket.h>

struct Endpoint {
    sockaddr_storage ss;
    socklen_t len;
};

constexpr size_t kErrLen = 256;

// Numeric IPv4/IPv6 address (or "localhost") and port into ep.
bool resolve(const char *host, int port, Endpoint *ep, char *err);
// "127.0.0.1:9000" or "[::1]:9000".
void format_endpoint(const Endpoint &ep, char *out, size_t len);

// Non-blocking, close-on-exec listener with SO_REUSEADDR (and SO_REUSEPORT if asked).
int listen_tcp(const Endpoint &ep, int backlog, bool reuseport, char *err);
// Port actually bound (for port 0).
int local_port(int fd);

// accept4(NONBLOCK|CLOEXEC), retrying EINTR. -1 with errno on failure
// (EAGAIN when drained).
int accept_nb(int lfd);

// Spare descriptor for EMFILE (libuv's uv__emfile_trick): when accept fails for
// lack of descriptors, give the spare back, accept and close the connection so the
// client sees a close instead of hanging in the backlog, then take the spare again.
// Returns how many pending connections were refused this way. Without a spare
// (*reserve_fd < 0: it could not be reopened) nothing is refused and the caller must
// retry accepting once one of its own descriptors closes.
int reserve_fd_open();
int emfile_refuse(int lfd, int *reserve_fd);

// Non-blocking connect. Returns the fd (connection in progress or done) or -1.
// With src, binds that source address first. Its port 0 means
// IP_BIND_ADDRESS_NO_PORT: the port is chosen at connect() time, per 4-tuple, so
// each source address brings a whole ephemeral port range of its own. A port
// given spares the kernel that choice, a search that grows with the ports in use.
int connect_nb(const Endpoint &ep, const Endpoint *src = nullptr);

// "127.0.0.2-127.0.0.40" (an IPv4 range) or "a,b,c" (addresses, IPv4 or IPv6), at
// most max of them, into out. Returns how many, or -1 with err set.
int parse_sources(const char *spec, Endpoint *out, int max, char *err);

void set_nodelay(int fd);
// Closes a connection, treating EINTR as closed (POSIX leaves it unspecified;
// Linux closed it). Asserts fd is not a standard stream.
void close_fd(int fd);
