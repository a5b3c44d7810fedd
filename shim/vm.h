/* vm.h - the caller's memory, copied by the kernel (process_vm_readv and
 * process_vm_writev on this process): a bad pointer is an error, never a
 * fault.  And which process this is, without a system call. */
#ifndef DADSHIM_VM_H
#define DADSHIM_VM_H

#include <sys/types.h>
#include <sys/uio.h>

/* Start-up: maps the page that knows this process's pid (wiped in the
 * child of any fork, _Fork() or clone() without CLONE_VM, on kernels >=
 * 4.14) and registers the fork handler of the fallback.  May change
 * errno; no lock. */
void vm_init(void);

/* Returns 1 unless this is a vfork() child (or a CLONE_VM clone) running
 * in its parent's memory: such a process must not change the shim's
 * tables, which are its parent's.  Asks getpid() (a system call: call it
 * only where the table really changes).  Keeps errno; no lock. */
int vm_owner(void);

/* Copies @len bytes of this process's memory at @src to @dst.  Returns 0
 * when every byte was copied; else -1 with errno EFAULT (some byte not
 * readable), or the kernel's refusal of the call itself (ENOSYS, EPERM
 * under seccomp: logged once).  No lock, no cancellation point. */
int vm_read(void *dst, const void *src, size_t len);

/* The same, gathering the @n areas of @src (an array in this process's
 * memory, read by the kernel: it may be the caller's) into @dst, which
 * must hold exactly their @len bytes.  Zero-length areas are skipped by
 * the kernel, whatever their address.  Returns as vm_read(). */
int vm_gather(void *dst, size_t len, const struct iovec *src, size_t n);

/* Returns 1 when vm_write() can work here: process_vm_writev is not
 * refused (seccomp, an LSM, no such call).  Asked of the kernel once, on
 * the shim's own memory; the refusal is logged then.  Keeps errno. */
int vm_write_allowed(void);

/* Writes @len bytes from @src to this process's memory at @dst.  Returns 0
 * when every byte was written; else -1 with errno EFAULT (@dst not
 * writable), or the kernel's refusal of the call.  No lock. */
int vm_write(void *dst, const void *src, size_t len);

#endif
