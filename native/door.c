/*
 * The one door to the evidence (src/sources/dir-source.ts): a root opened once, every path beneath
 * it resolved without following a symlink at any component, everything opened read-only with
 * O_NOATIME, directories read with getdents64 on such a descriptor.
 *
 * - The root: open(O_PATH|O_DIRECTORY). Where the kernel and the privileges allow it (root,
 *   Linux >= 5.12), the root's mount and the mounts below it are cloned into a private, detached
 *   tree (open_tree OPEN_TREE_CLONE|AT_RECURSIVE, attached nowhere, seen by no other process) made
 *   read-only, noatime, nosymfollow, nodev, nosuid, noexec (mount_setattr): then nothing read
 *   through it can write or update an access time, not even readlink (which ignores O_NOATIME).
 * - Directories: openat2(RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS|RESOLVE_NO_MAGICLINKS), or where
 *   openat2 is absent a component-by-component openat(O_PATH|O_DIRECTORY|O_NOFOLLOW) walk.
 *   Every later call names one component relative to such a directory descriptor.
 * - Files: opened O_PATH|O_NOFOLLOW first (no device driver is ever opened), fstat-ed, and only
 *   a regular file is reopened read-only through /proc/self/fd with
 *   O_RDONLY|O_NOATIME|O_NONBLOCK|O_NOCTTY|O_CLOEXEC.
 *
 * Errors come back as positive errno numbers (never thrown): the JS side turns them into Source
 * errors. Only a call with arguments of the wrong type throws (a programming error).
 */
#include <node_api.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/capability.h>

#ifndef O_PATH
#define O_PATH 010000000
#endif
#ifndef O_NOATIME
#define O_NOATIME 01000000
#endif
#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif
/* The generic syscall numbers (the same on x86_64 and aarch64). */
#ifndef SYS_openat2
#define SYS_openat2 437
#endif
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif

struct door_open_how {
	uint64_t flags;
	uint64_t mode;
	uint64_t resolve;
};
#define DOOR_RESOLVE_NO_MAGICLINKS 0x02
#define DOOR_RESOLVE_NO_SYMLINKS 0x04
#define DOOR_RESOLVE_BENEATH 0x08

struct door_mount_attr {
	uint64_t attr_set;
	uint64_t attr_clr;
	uint64_t propagation;
	uint64_t userns_fd;
};
#define DOOR_OPEN_TREE_CLONE 1
#define DOOR_AT_RECURSIVE 0x8000
#define DOOR_MOUNT_ATTR_RDONLY 0x00000001
#define DOOR_MOUNT_ATTR_NOSUID 0x00000002
#define DOOR_MOUNT_ATTR_NODEV 0x00000004
#define DOOR_MOUNT_ATTR_NOEXEC 0x00000008
#define DOOR_MOUNT_ATTR__ATIME 0x00000070
#define DOOR_MOUNT_ATTR_NOATIME 0x00000010
#define DOOR_MOUNT_ATTR_NOSYMFOLLOW 0x00200000

/* Mode bits the JS side passes to openDir. */
#define MODE_NO_OPENAT2 1

static int openat2_usable = 1;
/* How many directory paths each way resolved (tests check that both ways are exercised). */
static double count_openat2 = 0;
static double count_walk = 0;

#define FILE_FLAGS (O_RDONLY | O_NOATIME | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOATIME | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

/* ---------------------------------------------------------------- N-API helpers */

#define CHECK(call)                                                        \
	do {                                                                   \
		if ((call) != napi_ok) {                                           \
			napi_throw_error(env, NULL, "layerlens door: N-API call failed"); \
			return NULL;                                                   \
		}                                                                  \
	} while (0)

static napi_value num(napi_env env, double v) {
	napi_value out;
	if (napi_create_double(env, v, &out) != napi_ok) return NULL;
	return out;
}

static int arg_int(napi_env env, napi_value v, int32_t *out) {
	return napi_get_value_int32(env, v, out) == napi_ok ? 0 : -1;
}

/* A Buffer argument copied into a NUL-terminated string; NULL (after a throw) when it is not a buffer. */
static char *arg_bytes(napi_env env, napi_value v, size_t *len_out) {
	bool is_buffer = false;
	if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer) {
		napi_throw_type_error(env, NULL, "layerlens door: expected a Buffer");
		return NULL;
	}
	void *data;
	size_t len;
	if (napi_get_buffer_info(env, v, &data, &len) != napi_ok) {
		napi_throw_type_error(env, NULL, "layerlens door: expected a Buffer");
		return NULL;
	}
	char *s = malloc(len + 1);
	if (s == NULL) {
		napi_throw_error(env, NULL, "layerlens door: out of memory");
		return NULL;
	}
	memcpy(s, data, len);
	s[len] = 0;
	if (len_out != NULL) *len_out = len;
	return s;
}

static int get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv) {
	size_t argc = want;
	if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < want) {
		napi_throw_type_error(env, NULL, "layerlens door: missing arguments");
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- resolution */

/* A single component that may be looked up in a directory: not empty, '.', '..', and without '/'. */
static int bad_name(const char *name) {
	return name[0] == 0 || strchr(name, '/') != NULL || strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* ENOTDIR and ELOOP say little about which: a symlink is ELOOP, anything else not a directory ENOTDIR. */
static int classify(int dirfd, const char *name, int err) {
	if (err != ENOTDIR && err != ELOOP) return err;
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return err;
	if (S_ISLNK(st.st_mode)) return ELOOP;
	if (!S_ISDIR(st.st_mode)) return ENOTDIR;
	return err;
}

/* Walks path (modified in place and restored) one component at a time; *at is the failing component. */
static int walk(int rootfd, char *path, int *at) {
	int cur = rootfd;
	int index = 0;
	char *p = path;
	count_walk++;
	for (;;) {
		char *slash = strchr(p, '/');
		if (slash != NULL) *slash = 0;
		int err = 0;
		int next = -1;
		if (bad_name(p)) {
			err = EINVAL;
		} else {
			next = openat(cur, p, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (next < 0) err = classify(cur, p, errno);
		}
		if (slash != NULL) *slash = '/';
		if (cur != rootfd) close(cur);
		if (err != 0) {
			*at = index;
			return -err;
		}
		cur = next;
		if (slash == NULL) return cur;
		p = slash + 1;
		index++;
	}
}

/* An O_PATH descriptor of the directory at path beneath rootfd; -errno on failure. */
static int resolve_dir(int rootfd, char *path, size_t len, int mode, int *at) {
	*at = 0;
	if (len == 0) {
		int copy = fcntl(rootfd, F_DUPFD_CLOEXEC, 0);
		return copy < 0 ? -errno : copy;
	}
	/* Every component checked first: openat2 would accept a '..' that stays beneath the root. */
	int index = 0;
	for (size_t i = 0, start = 0; i <= len; i++) {
		if (i < len && path[i] != '/') continue;
		size_t n = i - start;
		if (n == 0 || (n == 1 && path[start] == '.') || (n == 2 && path[start] == '.' && path[start + 1] == '.')) {
			*at = index;
			return -EINVAL;
		}
		start = i + 1;
		index++;
	}
	if (openat2_usable && !(mode & MODE_NO_OPENAT2) && len < PATH_MAX) {
		struct door_open_how how = {
			.flags = O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
			.mode = 0,
			.resolve = DOOR_RESOLVE_BENEATH | DOOR_RESOLVE_NO_SYMLINKS | DOOR_RESOLVE_NO_MAGICLINKS,
		};
		long fd = syscall(SYS_openat2, rootfd, path, &how, sizeof how);
		if (fd >= 0) {
			count_openat2++;
			return (int)fd;
		}
		int err = errno;
		/* Every failure is walked again: the walk names the component and the exact error. */
		int walked = walk(rootfd, path, at);
		/* openat2 missing (old kernel) or filtered (seccomp): never ask again. */
		if ((err == ENOSYS || err == EPERM || err == E2BIG) && walked >= 0) openat2_usable = 0;
		return walked;
	}
	return walk(rootfd, path, at);
}

/* openRoot(path: Buffer, noSeal: number) → [fd, sealed (0/1), errno of the seal (0 when sealed)] or errno. */
static napi_value open_root(napi_env env, napi_callback_info info) {
	napi_value argv[2];
	if (get_args(env, info, 2, argv) != 0) return NULL;
	int32_t no_seal;
	if (arg_int(env, argv[1], &no_seal) != 0) return NULL;
	char *path = arg_bytes(env, argv[0], NULL);
	if (path == NULL) return NULL;
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	int err = errno;
	free(path);
	if (fd < 0) return num(env, err);
	int sealed = 0;
	int seal_err = 0;
	if (!no_seal) {
		/* Recursive: a file system mounted inside the root (a separate disk at overlay2/, a live
		 * host's mounts) is read as node:fs would read it, through the clone, read-only too. */
		long clone = syscall(SYS_open_tree, fd, "", DOOR_OPEN_TREE_CLONE | O_CLOEXEC | AT_EMPTY_PATH | DOOR_AT_RECURSIVE);
		if (clone >= 0) {
			struct door_mount_attr attr = {
				.attr_set = DOOR_MOUNT_ATTR_RDONLY | DOOR_MOUNT_ATTR_NOATIME | DOOR_MOUNT_ATTR_NOSYMFOLLOW | DOOR_MOUNT_ATTR_NODEV |
					DOOR_MOUNT_ATTR_NOSUID | DOOR_MOUNT_ATTR_NOEXEC,
				.attr_clr = DOOR_MOUNT_ATTR__ATIME,
				.propagation = 0,
				.userns_fd = 0,
			};
			if (syscall(SYS_mount_setattr, (int)clone, "", AT_EMPTY_PATH | DOOR_AT_RECURSIVE, &attr, sizeof attr) == 0) {
				close(fd);
				fd = (int)clone;
				sealed = 1;
			} else {
				seal_err = errno;
				close((int)clone);
			}
		} else {
			seal_err = errno;
		}
	}
	napi_value out;
	CHECK(napi_create_array_with_length(env, 3, &out));
	CHECK(napi_set_element(env, out, 0, num(env, fd)));
	CHECK(napi_set_element(env, out, 1, num(env, sealed)));
	CHECK(napi_set_element(env, out, 2, num(env, seal_err)));
	return out;
}

/* openDir(rootfd, path: Buffer, mode) → fd, or [errno, index of the failing component]. */
static napi_value open_dir(napi_env env, napi_callback_info info) {
	napi_value argv[3];
	if (get_args(env, info, 3, argv) != 0) return NULL;
	int32_t rootfd, mode;
	if (arg_int(env, argv[0], &rootfd) != 0 || arg_int(env, argv[2], &mode) != 0) return NULL;
	size_t len;
	char *path = arg_bytes(env, argv[1], &len);
	if (path == NULL) return NULL;
	int at = 0;
	int fd = (strlen(path) != len) ? -EINVAL : resolve_dir(rootfd, path, len, mode, &at);
	free(path);
	if (fd >= 0) return num(env, fd);
	napi_value out;
	CHECK(napi_create_array_with_length(env, 2, &out));
	CHECK(napi_set_element(env, out, 0, num(env, -fd)));
	CHECK(napi_set_element(env, out, 1, num(env, at)));
	return out;
}

/* ---------------------------------------------------------------- entries */

static int kind_of(mode_t m) {
	if (S_ISREG(m)) return 1;
	if (S_ISDIR(m)) return 2;
	if (S_ISLNK(m)) return 3;
	if (S_ISCHR(m)) return 4;
	if (S_ISBLK(m)) return 5;
	if (S_ISFIFO(m)) return 6;
	if (S_ISSOCK(m)) return 7;
	return 0;
}

static int kind_of_dtype(unsigned char t) {
	switch (t) {
	case DT_REG: return 1;
	case DT_DIR: return 2;
	case DT_LNK: return 3;
	case DT_CHR: return 4;
	case DT_BLK: return 5;
	case DT_FIFO: return 6;
	case DT_SOCK: return 7;
	default: return -1;
	}
}

/* The name argument: one component, or '' for the directory itself. */
static char *arg_name(napi_env env, napi_value v, int *bad) {
	size_t len;
	char *name = arg_bytes(env, v, &len);
	if (name == NULL) return NULL;
	*bad = strlen(name) != len || (len > 0 && bad_name(name));
	return name;
}

/* statAt(dirfd, name: Buffer, out: Float64Array(10)) → 0 or errno. lstat: never follows the last component. */
static napi_value stat_at(napi_env env, napi_callback_info info) {
	napi_value argv[3];
	if (get_args(env, info, 3, argv) != 0) return NULL;
	int32_t dirfd;
	if (arg_int(env, argv[0], &dirfd) != 0) return NULL;
	napi_typedarray_type type;
	size_t length;
	void *data;
	if (napi_get_typedarray_info(env, argv[2], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array || length < 10) {
		napi_throw_type_error(env, NULL, "layerlens door: expected a Float64Array(10)");
		return NULL;
	}
	int bad = 0;
	char *name = arg_name(env, argv[1], &bad);
	if (name == NULL) return NULL;
	struct stat st;
	int r = bad ? (errno = EINVAL, -1) : fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW | (name[0] == 0 ? AT_EMPTY_PATH : 0));
	int err = errno;
	free(name);
	if (r != 0) return num(env, err);
	double *out = data;
	out[0] = kind_of(st.st_mode);
	out[1] = (double)st.st_size;
	out[2] = st.st_mode;
	out[3] = st.st_uid;
	out[4] = st.st_gid;
	/* As node:fs computes mtimeMs. */
	out[5] = (double)st.st_mtim.tv_sec * 1000 + (double)st.st_mtim.tv_nsec / 1000000;
	out[6] = (double)st.st_ino;
	out[7] = (double)st.st_nlink;
	out[8] = major(st.st_rdev);
	out[9] = minor(st.st_rdev);
	/* Optional: allocated blocks and the device, for callers that pass a Float64Array(12). */
	if (length >= 12) {
		out[10] = (double)st.st_blocks;
		out[11] = (double)st.st_dev;
	}
	return num(env, 0);
}

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

/*
 * Opens the directory a list call names (argv: dirfd, name), as listAt and listStatAt both do:
 * O_NOATIME, retried without it where it is refused (only the file's owner or CAP_FOWNER may use it).
 * Returns the descriptor (>= 0); -2 when an argument was wrong (a JS exception is pending); -1 with
 * *err the errno to return. *refused is 1 when O_NOATIME was refused.
 */
static int open_listed_dir(napi_env env, napi_value argv[2], int *refused, int *err) {
	int32_t dirfd;
	if (arg_int(env, argv[0], &dirfd) != 0) return -2;
	int bad = 0;
	char *name = arg_name(env, argv[1], &bad);
	if (name == NULL) return -2;
	const char *what = name[0] == 0 ? "." : name;
	*refused = 0;
	int fd = bad ? (errno = EINVAL, -1) : openat(dirfd, what, DIR_FLAGS);
	if (fd < 0 && errno == EPERM) {
		*refused = 1;
		fd = openat(dirfd, what, DIR_FLAGS & ~O_NOATIME);
	}
	*err = fd < 0 ? classify(dirfd, what, errno) : 0;
	free(name);
	return fd;
}

/*
 * listAt(dirfd, name: Buffer) → [entries: Buffer, atimeRefused (0/1)] or errno. entries holds,
 * for each entry but '.' and '..', its kind (one byte, as kind_of), its name's bytes and a NUL.
 */
static napi_value list_at(napi_env env, napi_callback_info info) {
	napi_value argv[2];
	if (get_args(env, info, 2, argv) != 0) return NULL;
	int refused = 0, err = 0;
	int fd = open_listed_dir(env, argv, &refused, &err);
	if (fd == -2) return NULL;
	if (fd < 0) return num(env, err);
	size_t cap = 1 << 16, used = 0;
	char *out = malloc(cap);
	char buf[1 << 16];
	if (out == NULL) {
		close(fd);
		return num(env, ENOMEM);
	}
	for (;;) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0) break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *dn = d->d_name;
			if (strcmp(dn, ".") == 0 || strcmp(dn, "..") == 0) continue;
			size_t dl = strlen(dn);
			int kind = kind_of_dtype(d->d_type);
			if (kind < 0) {
				struct stat st;
				kind = fstatat(fd, dn, &st, AT_SYMLINK_NOFOLLOW) == 0 ? kind_of(st.st_mode) : 0;
			}
			if (used + dl + 2 > cap) {
				while (used + dl + 2 > cap) cap *= 2;
				char *grown = realloc(out, cap);
				if (grown == NULL) {
					err = ENOMEM;
					break;
				}
				out = grown;
			}
			out[used++] = (char)kind;
			memcpy(out + used, dn, dl + 1);
			used += dl + 1;
		}
		if (err != 0) break;
	}
	close(fd);
	if (err != 0) {
		free(out);
		return num(env, err);
	}
	napi_value result, entries;
	napi_status s = napi_create_buffer_copy(env, used, out, NULL, &entries);
	free(out);
	CHECK(s);
	CHECK(napi_create_array_with_length(env, 2, &result));
	CHECK(napi_set_element(env, result, 0, entries));
	CHECK(napi_set_element(env, result, 1, num(env, refused)));
	return result;
}

/* One entry's lstat into out (13 slots): 0, then as statAt's 12; or the errno in out[0]. */
static void stat_into(int fd, const char *dn, double *out) {
	struct stat st;
	if (fstatat(fd, dn, &st, AT_SYMLINK_NOFOLLOW) != 0) {
		out[0] = errno;
		return;
	}
	out[0] = 0;
	out[1] = kind_of(st.st_mode);
	out[2] = (double)st.st_size;
	out[3] = st.st_mode;
	out[4] = st.st_uid;
	out[5] = st.st_gid;
	out[6] = (double)st.st_mtim.tv_sec * 1000 + (double)st.st_mtim.tv_nsec / 1000000;
	out[7] = (double)st.st_ino;
	out[8] = (double)st.st_nlink;
	out[9] = major(st.st_rdev);
	out[10] = minor(st.st_rdev);
	out[11] = (double)st.st_blocks;
	out[12] = (double)st.st_dev;
}

/*
 * listStatAt(dirfd, name: Buffer) → [entries: Buffer, stats: Buffer, atimeRefused (0/1)] or
 * errno: listAt's entries, and for each, in the same order, 13 doubles: 0 and its lstat (as
 * statAt's 12), or the errno of that lstat. The lstat is fstatat(AT_SYMLINK_NOFOLLOW) beneath
 * the descriptor the directory was listed through: no path is resolved again.
 */
static napi_value list_stat_at(napi_env env, napi_callback_info info) {
	napi_value argv[2];
	if (get_args(env, info, 2, argv) != 0) return NULL;
	int refused = 0, err = 0;
	int fd = open_listed_dir(env, argv, &refused, &err);
	if (fd == -2) return NULL;
	if (fd < 0) return num(env, err);
	size_t cap = 1 << 16, used = 0, scap = 1 << 10, count = 0;
	char *out = malloc(cap);
	double *stats = malloc(scap * 13 * sizeof(double));
	char buf[1 << 16];
	if (out == NULL || stats == NULL) err = ENOMEM;
	while (err == 0) {
		long n = syscall(SYS_getdents64, fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) err = errno;
		if (n <= 0) break;
		for (long off = 0; off < n && err == 0;) {
			struct linux_dirent64 *d = (struct linux_dirent64 *)(buf + off);
			off += d->d_reclen;
			const char *dn = d->d_name;
			if (strcmp(dn, ".") == 0 || strcmp(dn, "..") == 0) continue;
			size_t dl = strlen(dn);
			if (count == scap) {
				double *grown = realloc(stats, scap * 2 * 13 * sizeof(double));
				if (grown == NULL) {
					err = ENOMEM;
					break;
				}
				stats = grown;
				scap *= 2;
			}
			double *sv = stats + count * 13;
			stat_into(fd, dn, sv);
			int kind = kind_of_dtype(d->d_type);
			/* As listAt: the kind from the directory entry, from the lstat where the entry has none. */
			if (kind < 0) kind = sv[0] == 0 ? (int)sv[1] : 0;
			if (used + dl + 2 > cap) {
				while (used + dl + 2 > cap) cap *= 2;
				char *grown = realloc(out, cap);
				if (grown == NULL) {
					err = ENOMEM;
					break;
				}
				out = grown;
			}
			out[used++] = (char)kind;
			memcpy(out + used, dn, dl + 1);
			used += dl + 1;
			count++;
		}
	}
	close(fd);
	if (err != 0) {
		free(out);
		free(stats);
		return num(env, err);
	}
	napi_value result, entries, statbuf;
	napi_status s = napi_create_buffer_copy(env, used, out, NULL, &entries);
	free(out);
	napi_status s2 = s == napi_ok ? napi_create_buffer_copy(env, count * 13 * sizeof(double), stats, NULL, &statbuf) : s;
	free(stats);
	CHECK(s);
	CHECK(s2);
	CHECK(napi_create_array_with_length(env, 3, &result));
	CHECK(napi_set_element(env, result, 0, entries));
	CHECK(napi_set_element(env, result, 1, statbuf));
	CHECK(napi_set_element(env, result, 2, num(env, refused)));
	return result;
}

/*
 * openAt(dirfd, name: Buffer) → [fd, kind, size, atimeRefused] or errno. Only a regular file is
 * opened for reading (fd -1 otherwise): the entry is opened O_PATH (which opens no device and
 * follows no symlink), checked, then reopened through /proc/self/fd, so what is read is exactly
 * what was checked.
 */
static napi_value open_at(napi_env env, napi_callback_info info) {
	napi_value argv[2];
	if (get_args(env, info, 2, argv) != 0) return NULL;
	int32_t dirfd;
	if (arg_int(env, argv[0], &dirfd) != 0) return NULL;
	int bad = 0;
	char *name = arg_name(env, argv[1], &bad);
	if (name == NULL) return NULL;
	if (bad || name[0] == 0) {
		free(name);
		return num(env, EINVAL);
	}
	int pfd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	int err = errno;
	if (pfd < 0) {
		free(name);
		return num(env, err);
	}
	struct stat st;
	if (fstat(pfd, &st) != 0) {
		err = errno;
		close(pfd);
		free(name);
		return num(env, err);
	}
	int fd = -1, refused = 0;
	if (S_ISREG(st.st_mode)) {
		char proc[64];
		snprintf(proc, sizeof proc, "/proc/self/fd/%d", pfd);
		fd = open(proc, FILE_FLAGS);
		if (fd < 0 && errno == EPERM) {
			refused = 1;
			fd = open(proc, FILE_FLAGS & ~O_NOATIME);
		}
		if (fd < 0 && errno == ENOENT) {
			/* No /proc: open the name again (one component, O_NOFOLLOW) and check it is the same file. */
			refused = 0;
			fd = openat(dirfd, name, FILE_FLAGS | O_NOFOLLOW);
			if (fd < 0 && errno == EPERM) {
				refused = 1;
				fd = openat(dirfd, name, (FILE_FLAGS & ~O_NOATIME) | O_NOFOLLOW);
			}
			struct stat again;
			if (fd >= 0 && (fstat(fd, &again) != 0 || again.st_ino != st.st_ino || again.st_dev != st.st_dev)) {
				close(fd);
				fd = -1;
				errno = EAGAIN;
			}
		}
		err = errno;
		if (fd < 0) {
			close(pfd);
			free(name);
			return num(env, err);
		}
	}
	close(pfd);
	free(name);
	napi_value out;
	CHECK(napi_create_array_with_length(env, 4, &out));
	CHECK(napi_set_element(env, out, 0, num(env, fd)));
	CHECK(napi_set_element(env, out, 1, num(env, kind_of(st.st_mode))));
	CHECK(napi_set_element(env, out, 2, num(env, (double)st.st_size)));
	CHECK(napi_set_element(env, out, 3, num(env, refused)));
	return out;
}

/* pread(fd, buffer, position) → bytes read (>= 0) or -errno. */
static napi_value pread_fd(napi_env env, napi_callback_info info) {
	napi_value argv[3];
	if (get_args(env, info, 3, argv) != 0) return NULL;
	int32_t fd;
	double position;
	if (arg_int(env, argv[0], &fd) != 0 || napi_get_value_double(env, argv[2], &position) != napi_ok) return NULL;
	void *data;
	size_t len;
	if (napi_get_buffer_info(env, argv[1], &data, &len) != napi_ok) {
		napi_throw_type_error(env, NULL, "layerlens door: expected a Buffer");
		return NULL;
	}
	if (position < 0) return num(env, -EINVAL);
	ssize_t n;
	do n = pread(fd, data, len, (off_t)position);
	while (n < 0 && errno == EINTR);
	return num(env, n < 0 ? -errno : (double)n);
}

static napi_value close_fd(napi_env env, napi_callback_info info) {
	napi_value argv[1];
	if (get_args(env, info, 1, argv) != 0) return NULL;
	int32_t fd;
	if (arg_int(env, argv[0], &fd) != 0) return NULL;
	return num(env, close(fd) == 0 ? 0 : errno);
}

/* readlinkAt(dirfd, name: Buffer) → the target's bytes, or errno. */
static napi_value readlink_at(napi_env env, napi_callback_info info) {
	napi_value argv[2];
	if (get_args(env, info, 2, argv) != 0) return NULL;
	int32_t dirfd;
	if (arg_int(env, argv[0], &dirfd) != 0) return NULL;
	int bad = 0;
	char *name = arg_name(env, argv[1], &bad);
	if (name == NULL) return NULL;
	char target[PATH_MAX + 1];
	ssize_t n = (bad || name[0] == 0) ? (errno = EINVAL, -1) : readlinkat(dirfd, name, target, sizeof target);
	int err = errno;
	free(name);
	if (n < 0) return num(env, err);
	napi_value out;
	CHECK(napi_create_buffer_copy(env, (size_t)n, target, NULL, &out));
	return out;
}

/*
 * xattrsAt(dirfd, name: Buffer) → [name, value, name, value, ...] (Buffers) or errno. Through
 * /proc/self/fd/<dirfd>/<name> with llistxattr/lgetxattr: the directory is the one already
 * resolved, and the name is not followed. No support for xattrs on the file system: [].
 */
static napi_value xattrs_at(napi_env env, napi_callback_info info) {
	napi_value argv[2];
	if (get_args(env, info, 2, argv) != 0) return NULL;
	int32_t dirfd;
	if (arg_int(env, argv[0], &dirfd) != 0) return NULL;
	int bad = 0;
	char *name = arg_name(env, argv[1], &bad);
	if (name == NULL) return NULL;
	if (bad) {
		free(name);
		return num(env, EINVAL);
	}
	size_t plen = strlen(name) + 64;
	char *path = malloc(plen);
	if (path == NULL) {
		free(name);
		return num(env, ENOMEM);
	}
	snprintf(path, plen, "/proc/self/fd/%d/%s", dirfd, name[0] == 0 ? "." : name);
	free(name);
	napi_value out;
	char *names = NULL;
	ssize_t n;
	for (;;) {
		n = llistxattr(path, NULL, 0);
		if (n <= 0) break;
		char *grown = realloc(names, (size_t)n);
		if (grown == NULL) {
			errno = ENOMEM;
			n = -1;
			break;
		}
		names = grown;
		n = llistxattr(path, names, (size_t)n);
		if (n >= 0 || errno != ERANGE) break;
	}
	if (n < 0) {
		int err = errno;
		free(names);
		free(path);
		if (err == ENOTSUP) {
			CHECK(napi_create_array(env, &out));
			return out;
		}
		return num(env, err);
	}
	CHECK(napi_create_array(env, &out));
	uint32_t index = 0;
	for (ssize_t off = 0; off < n;) {
		const char *xn = names + off;
		size_t xl = strlen(xn);
		off += (ssize_t)xl + 1;
		if (xl == 0) continue;
		char *value = NULL;
		ssize_t vn;
		for (;;) {
			vn = lgetxattr(path, xn, NULL, 0);
			if (vn < 0) break;
			char *grown = realloc(value, vn == 0 ? 1 : (size_t)vn);
			if (grown == NULL) {
				vn = -1;
				break;
			}
			value = grown;
			vn = lgetxattr(path, xn, value, vn == 0 ? 1 : (size_t)vn);
			if (vn >= 0 || errno != ERANGE) break;
		}
		if (vn >= 0) {
			napi_value k, v;
			napi_status s1 = napi_create_buffer_copy(env, xl, xn, NULL, &k);
			napi_status s2 = napi_create_buffer_copy(env, (size_t)vn, vn == 0 ? "" : value, NULL, &v);
			if (s1 != napi_ok || s2 != napi_ok || napi_set_element(env, out, index++, k) != napi_ok || napi_set_element(env, out, index++, v) != napi_ok) {
				free(value);
				free(names);
				free(path);
				napi_throw_error(env, NULL, "layerlens door: N-API call failed");
				return NULL;
			}
		}
		free(value);
	}
	free(names);
	free(path);
	return out;
}

/* capFowner() → 1 when this process may use O_NOATIME on any file (CAP_FOWNER effective). */
static napi_value cap_fowner(napi_env env, napi_callback_info info) {
	struct __user_cap_header_struct header = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &header, data) != 0) return num(env, 0);
	return num(env, (data[0].effective >> CAP_FOWNER) & 1);
}

/* counters() → [directory paths resolved by openat2, by the walk, openat2 still used (0/1)]. */
static napi_value counters(napi_env env, napi_callback_info info) {
	napi_value out;
	CHECK(napi_create_array_with_length(env, 3, &out));
	CHECK(napi_set_element(env, out, 0, num(env, count_openat2)));
	CHECK(napi_set_element(env, out, 1, num(env, count_walk)));
	CHECK(napi_set_element(env, out, 2, num(env, openat2_usable)));
	return out;
}

static napi_value init(napi_env env, napi_value exports) {
	napi_property_descriptor props[] = {
		{"openRoot", NULL, open_root, NULL, NULL, NULL, napi_default, NULL},
		{"openDir", NULL, open_dir, NULL, NULL, NULL, napi_default, NULL},
		{"statAt", NULL, stat_at, NULL, NULL, NULL, napi_default, NULL},
		{"listAt", NULL, list_at, NULL, NULL, NULL, napi_default, NULL},
		{"listStatAt", NULL, list_stat_at, NULL, NULL, NULL, napi_default, NULL},
		{"openAt", NULL, open_at, NULL, NULL, NULL, napi_default, NULL},
		{"pread", NULL, pread_fd, NULL, NULL, NULL, napi_default, NULL},
		{"close", NULL, close_fd, NULL, NULL, NULL, napi_default, NULL},
		{"readlinkAt", NULL, readlink_at, NULL, NULL, NULL, napi_default, NULL},
		{"xattrsAt", NULL, xattrs_at, NULL, NULL, NULL, napi_default, NULL},
		{"capFowner", NULL, cap_fowner, NULL, NULL, NULL, napi_default, NULL},
		{"counters", NULL, counters, NULL, NULL, NULL, napi_default, NULL},
	};
	if (napi_define_properties(env, exports, sizeof props / sizeof props[0], props) != napi_ok) return NULL;
	return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
