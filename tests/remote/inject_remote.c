/* The countdown fault injector (tests/faults/inject.c, included so that one
 * counter covers every wrapped call) plus the calls qemu-remote-vdev makes
 * that the vhost-user daemon does not: getsockopt (checking the --fd socket),
 * connect (QMP), readlink (irqfd check) and fstat (guest RAM files);
 * inject.c has fcntl already. Test code, linked only into
 * $(B)/faults-remote. */
#include "../faults/inject.c"

#include <sys/stat.h>

WRAP_INT(int, getsockopt, ENOPROTOOPT, (int s, int lv, int o, void *v, socklen_t *l), (s, lv, o, v, l))
WRAP_INT(int, connect, ECONNREFUSED, (int s, const struct sockaddr *a, socklen_t l), (s, a, l))
WRAP_INT(ssize_t, readlink, EACCES, (const char *p, char *b, size_t n), (p, b, n))
WRAP_INT(int, fstat, EIO, (int fd, struct stat *st), (fd, st))
