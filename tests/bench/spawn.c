/*
 * spawn - start-up cost of a program: N x (fork, exec, wait), the way a
 * shell runs each command of an updown script.
 *
 *   spawn [--preload LIB] N PROG [ARG]...
 *
 * The children's stdout goes to /dev/null (it is not this program's output).
 * With --preload the children get LD_PRELOAD=LIB; this process itself
 * never has it, so only the children's start-up differs between runs.
 * Every child must exit 0 (else exit 1, no figure).  Prints the elapsed
 * CLOCK_MONOTONIC time and the children's CPU time (user + system, from
 * getrusage), both in ns.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

int main(int argc, char **argv)
{
	const char *preload = NULL;
	struct rusage ru;
	unsigned long n, i;
	uint64_t t0;
	int a = 1, null;

	if (argc > 2 && strcmp(argv[1], "--preload") == 0) {
		preload = argv[2];
		a = 3;
	}
	if (argc - a < 2)
		return 2;
	n = strtoul(argv[a], NULL, 10);
	if (n == 0)
		return 2;
	unsetenv("LD_PRELOAD");
	null = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (null < 0) {
		perror("spawn: /dev/null");
		return 1;
	}
	t0 = now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++) {
		int status;
		pid_t pid = fork();

		if (pid < 0) {
			perror("spawn: fork");
			return 1;
		}
		if (pid == 0) {
			if (dup2(null, STDOUT_FILENO) < 0 ||
			    (preload && setenv("LD_PRELOAD", preload, 1) < 0))
				_exit(127);
			execv(argv[a + 1], argv + a + 1);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				perror("spawn: waitpid");
				return 1;
			}
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "spawn: %s failed (status 0x%x)\n", argv[a + 1],
				(unsigned)status);
			return 1;
		}
	}
	t0 = now_ns(CLOCK_MONOTONIC) - t0;
	if (getrusage(RUSAGE_CHILDREN, &ru) < 0) {
		perror("spawn: getrusage");
		return 1;
	}
	printf("%llu %llu\n", (unsigned long long)t0,
	       (unsigned long long)((ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000000000ull +
				    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1000ull));
	return 0;
}
