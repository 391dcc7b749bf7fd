/* SPDX-License-Identifier: MIT */
/* Service output to rotated log files (logsink.c, logfile.c), on real files
 * in a temporary directory: lines written into a stream's pipe come out
 * time-stamped, in order, rotated at the size bound with only LogKeep=
 * files kept; a full ring drops lines and says how many; lines wait while
 * the directory is missing (early boot); a failing write (the file size
 * limit, as a full disk would) loses lines and says so once writes work
 * again; berthd's tail reads the last lines across the rotated files. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fileio.h"
#include "logfile.h"
#include "logsink.h"
#include "macro.h"

typedef struct Fixture {
        char dir[64];
        char logs[96];
} Fixture;

static int setup(void **state) {
        Fixture *f = calloc(1, sizeof *f);
        strcpy(f->dir, "/tmp/test-logsink-XXXXXX");
        assert_non_null(mkdtemp(f->dir));
        snprintf(f->logs, sizeof f->logs, "%s/log", f->dir);
        *state = f;
        return 0;
}

static int teardown(void **state) {
        Fixture *f = *state;
        (void) rm_rf(f->dir);
        free(f);
        return 0;
}

static char *slurp(const Fixture *f, const char *name) {
        _cleanup_free_ char *p = strdup_printf("%s/%s", f->logs, name);
        char *data = NULL;
        size_t size;
        if (read_full_file(p, &data, &size, 0) < 0)
                return NULL;
        return data;
}

static off_t file_size(const Fixture *f, const char *name) {
        _cleanup_free_ char *p = strdup_printf("%s/%s", f->logs, name);
        struct stat st;
        return stat(p, &st) < 0 ? -1 : st.st_size;
}

/* Writes lines "PREFIX-I" for I in [from, to) into stream 0's pipe,
 * letting the sink read as the pipe fills. */
static void emit(LogSink *s, const char *prefix, unsigned from, unsigned to) {
        int fd = logsink_write_fd(s, 0);
        for (unsigned i = from; i < to; i++) {
                char line[128];
                int n = snprintf(line, sizeof line, "%s-%05u %s\n", prefix, i,
                                 "................................................");
                assert_int_equal(loop_write(fd, line, (size_t) n), 0);
                while (logsink_read(s, 0) > 0)
                        ;
        }
}

/* A started sink with one stream, writing into the fixture's log dir. */
static LogSink *sink(const Fixture *f, const char *name, uint64_t size, unsigned keep) {
        LogSink *s = NULL;
        assert_int_equal(mkdir_p(f->logs, 0755), 0);
        assert_int_equal(logsink_new(f->logs, 1, LOGSINK_RING_DEFAULT, &s), 0);
        assert_int_equal(logsink_add(s, 0, name, size, keep), 0);
        assert_int_equal(logsink_start(s), 0);
        return s;
}

/* "2026-11-26T15:39:06.123Z " before every line. */
static bool stamped(const char *text) {
        for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
                if (strlen(l) < 25 || l[4] != '-' || l[10] != 'T' || l[19] != '.' || l[23] != 'Z' ||
                    l[24] != ' ')
                        return false;
                if (!strchr(l, '\n'))
                        return false;
        }
        return true;
}

static void test_rotates_at_the_size_and_keeps_logkeep_files(void **state) {
        Fixture *f = *state;
        LogSink *s = sink(f, "svc", 4096, 2);

        /* 1000 lines of 82 bytes with the stamp: 80 KiB, 20 files' worth. */
        emit(s, "line", 0, 1000);
        assert_int_equal(logsink_stop(s, 5000000), 0);
        s = logsink_free(s);

        off_t total = 0;
        for (unsigned k = 0; k <= 2; k++) {
                char name[LOGFILE_NAME_MAX];
                assert_int_equal(logfile_name(name, sizeof name, "svc", k), 0);
                off_t size = file_size(f, name);
                print_message("%s: %lld bytes\n", name, (long long) size);
                assert_true(size > 0 && size <= 4096);
                if (k > 0) /* rotated files are filled up to a line of the bound */
                        assert_true(size > 4096 - 82);
                total += size;
        }
        assert_int_equal(file_size(f, "svc.log.3"), -1);
        assert_true(total <= 3 * 4096);

        /* Oldest to newest, the files hold the last lines in order. */
        _cleanup_free_ char *a = slurp(f, "svc.log.2"), *b = slurp(f, "svc.log.1"),
                            *c = slurp(f, "svc.log");
        _cleanup_free_ char *all = strdup_printf("%s%s%s", a, b, c);
        assert_true(stamped(all));
        const char *last = strstr(all, "line-00999 ");
        assert_non_null(last);
        assert_string_equal(strchr(last, '\n'), "\n");
        unsigned prev = 0, n = 0;
        for (const char *l = all; *l; l = strchr(l, '\n') + 1, n++) {
                unsigned i = (unsigned) strtoul(l + 25 + 5, NULL, 10);
                if (n > 0)
                        assert_int_equal(i, prev + 1);
                prev = i;
        }
        print_message("%u lines kept of 1000\n", n);
        assert_true(n > 100);
}

static void test_logkeep_zero_keeps_one_file(void **state) {
        Fixture *f = *state;
        LogSink *s = sink(f, "one", 4096, 0);

        emit(s, "x", 0, 200);
        s = logsink_free(s);
        assert_true(file_size(f, "one.log") > 0 && file_size(f, "one.log") <= 4096);
        assert_int_equal(file_size(f, "one.log.1"), -1);
}

static void test_full_ring_drops_and_counts(void **state) {
        Fixture *f = *state;
        LogSink *s = NULL;
        const size_t ring = 4096;

        assert_int_equal(mkdir_p(f->logs, 0755), 0);
        assert_int_equal(logsink_new(f->logs, 1, ring, &s), 0);
        assert_int_equal(logsink_add(s, 0, "busy", LOGFILE_SIZE_DEFAULT, 1), 0);
        /* The writer is not running yet (a stalled disk): the ring fills. */
        emit(s, "early", 0, 200);
        uint64_t dropped = logsink_dropped(s);
        print_message("dropped %llu of 200 lines\n", (unsigned long long) dropped);
        assert_true(dropped > 100 && dropped < 200);
        assert_int_equal(logsink_start(s), 0);
        /* Once the writer has emptied the ring, lines get through again. */
        for (unsigned i = 0; i < 500 && file_size(f, "busy.log") <= 0; i++)
                usleep(10 * 1000);
        usleep(50 * 1000);
        emit(s, "later", 0, 3);
        assert_int_equal(logsink_dropped(s), dropped);
        s = logsink_free(s);

        _cleanup_free_ char *text = slurp(f, "busy.log");
        _cleanup_free_ char *marker = strdup_printf(
                "berth-init: %llu lines dropped (log buffer full)\n", (unsigned long long) dropped);
        assert_non_null(text);
        assert_non_null(strstr(text, marker));
        assert_non_null(strstr(text, "early-00000 "));
        assert_null(strstr(text, "early-00199 "));
        assert_non_null(strstr(text, "later-00002 "));
        assert_true(stamped(text));
}

static void test_waits_for_the_directory(void **state) {
        Fixture *f = *state;
        LogSink *s = NULL;

        /* Early boot: no log directory yet. */
        assert_int_equal(logsink_new(f->logs, 1, LOGSINK_RING_DEFAULT, &s), 0);
        assert_int_equal(logsink_add(s, 0, "early", LOGFILE_SIZE_DEFAULT, 3), 0);
        assert_int_equal(logsink_start(s), 0);
        emit(s, "before", 0, 10);
        usleep(300 * 1000);
        assert_int_equal(file_size(f, "early.log"), -1);
        assert_int_equal(mkdir_p(f->logs, 0755), 0);
        emit(s, "after", 0, 2);
        assert_int_equal(logsink_stop(s, 5000000), 0);
        s = logsink_free(s);

        _cleanup_free_ char *text = slurp(f, "early.log");
        assert_non_null(text);
        const char *b = strstr(text, "before-00000 "), *a = strstr(text, "after-00001 ");
        assert_non_null(b);
        assert_non_null(strstr(text, "before-00009 "));
        assert_non_null(a);
        assert_true(b < a);
        assert_null(strstr(text, "dropped"));
}

static void test_failed_writes_are_counted(void **state) {
        Fixture *f = *state;
        LogSink *s = NULL;
        struct rlimit old, small = { .rlim_cur = 1700, .rlim_max = RLIM_INFINITY };

        /* The file size limit makes write() fail with EFBIG as a full disk
         * fails with ENOSPC; 1700 bytes are 20 lines of 85. */
        assert_int_equal(mkdir_p(f->logs, 0755), 0);
        signal(SIGXFSZ, SIG_IGN);
        assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
        assert_int_equal(logsink_new(f->logs, 1, LOGSINK_RING_DEFAULT, &s), 0);
        assert_int_equal(logsink_add(s, 0, "full", LOGFILE_SIZE_DEFAULT, 3), 0);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
        assert_int_equal(logsink_start(s), 0);
        /* Each is written separately: the writer catches up in between. */
        for (unsigned i = 0; i < 40; i++) {
                emit(s, "full", i, i + 1);
                usleep(2000);
        }
        usleep(200 * 1000);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        emit(s, "room", 0, 1);
        s = logsink_free(s);
        signal(SIGXFSZ, SIG_DFL);

        _cleanup_free_ char *text = slurp(f, "full.log");
        assert_non_null(text);
        print_message("%s", strstr(text, "berth-init:") ?: "(no marker)\n");
        const char *m = strstr(text, " lines dropped (cannot write: File too large)");
        assert_non_null(m);
        /* The lines kept and the lines counted as lost make the 40. */
        unsigned kept = 0;
        for (const char *l = text; (l = strstr(l, " full-")); l++)
                kept++;
        const char *count = m;
        while (count > text && count[-1] >= '0' && count[-1] <= '9')
                count--;
        unsigned lost = (unsigned) strtoul(count, NULL, 10);
        print_message("kept %u, lost %u\n", kept, lost);
        assert_true(lost > 0);
        assert_int_equal(kept + lost, 40);
        assert_non_null(strstr(m, "room-00000 "));
}

static void test_queued_lines_without_a_pipe(void **state) {
        Fixture *f = *state;
        LogSink *s = NULL;
        char big[LOGFILE_LINE_MAX + 10];

        /* The kernel audit records' stream: lines handed over, not read. */
        assert_int_equal(mkdir_p(f->logs, 0755), 0);
        assert_int_equal(logsink_new(f->logs, 1, LOGSINK_RING_DEFAULT, &s), 0);
        assert_int_equal(logsink_add_lines(s, 0, "audit", LOGFILE_SIZE_DEFAULT, 3), 0);
        assert_int_equal(logsink_write_fd(s, 0), -EBADF);
        assert_int_equal(logsink_start(s), 0);
        logsink_queue(s, 0, "type=SYSCALL msg=audit(1.2:3): x", 32);
        memset(big, 'b', sizeof big);
        logsink_queue(s, 0, big, sizeof big); /* cut into two lines */
        s = logsink_free(s);

        _cleanup_free_ char *text = slurp(f, "audit.log");
        assert_non_null(text);
        assert_true(stamped(text));
        assert_non_null(strstr(text, "Z type=SYSCALL msg=audit(1.2:3): x\n"));
        const char *l2 = strchr(text, '\n') + 1, *l3 = strchr(l2, '\n') + 1;
        assert_int_equal(strchr(l2, '\n') - l2, 25 + LOGFILE_LINE_MAX);
        assert_int_equal(strchr(l3, '\n') - l3, 25 + 10);
}

static void test_tail_reads_across_rotated_files(void **state) {
        Fixture *f = *state;
        _cleanup_close_ int dfd = -EBADF;
        _cleanup_free_ char *head = NULL;
        char buf[256] = "";
        size_t size;
        int fd;

        assert_int_equal(mkdir_p(f->logs, 0755), 0);
        dfd = open(f->logs, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(dfd >= 0);
        assert_int_equal(logfile_open_tail(dfd, "none", 5, &fd, &head, &size), -ENOENT);

        _cleanup_free_ char *p2 = strdup_printf("%s/s.log.2", f->logs),
                            *p1 = strdup_printf("%s/s.log.1", f->logs),
                            *p0 = strdup_printf("%s/s.log", f->logs);
        assert_int_equal(write_file_atomic(p2, "a\nb\n", 4, 0644), 0);
        assert_int_equal(write_file_atomic(p1, "c\nd\n", 4, 0644), 0);
        assert_int_equal(write_file_atomic(p0, "e\nf", 3, 0644), 0); /* a partial last line */

        assert_int_equal(logfile_open_tail(dfd, "s", 2, &fd, &head, &size), 0);
        assert_int_equal(size, 0);
        assert_true(fd >= 0);
        assert_int_equal(read(fd, buf, sizeof buf - 1), 3);
        assert_string_equal(buf, "e\nf");
        close(fd);

        assert_int_equal(logfile_open_tail(dfd, "s", 5, &fd, &head, &size), 0);
        assert_string_equal(head, "b\nc\nd\n");
        memset(buf, 0, sizeof buf);
        assert_int_equal(read(fd, buf, sizeof buf - 1), 3);
        close(fd);
        free(head);
        head = NULL;

        assert_int_equal(logfile_open_tail(dfd, "s", 100, &fd, &head, &size), 0);
        assert_string_equal(head, "a\nb\nc\nd\n");
        close(fd);
        free(head);
        head = NULL;

        /* Rotation moves each file one up and drops the oldest. */
        assert_int_equal(logfile_rotate(dfd, "s", 2), 0);
        assert_int_equal(file_size(f, "s.log"), -1);
        assert_int_equal(file_size(f, "s.log.1"), 3);
        assert_int_equal(file_size(f, "s.log.2"), 4);
        assert_int_equal(logfile_open_tail(dfd, "s", 100, &fd, &head, &size), 0);
        assert_true(fd < 0);
        assert_string_equal(head, "c\nd\ne\nf");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test_setup_teardown(test_rotates_at_the_size_and_keeps_logkeep_files,
                                                setup, teardown),
                cmocka_unit_test_setup_teardown(test_logkeep_zero_keeps_one_file, setup, teardown),
                cmocka_unit_test_setup_teardown(test_full_ring_drops_and_counts, setup, teardown),
                cmocka_unit_test_setup_teardown(test_waits_for_the_directory, setup, teardown),
                cmocka_unit_test_setup_teardown(test_failed_writes_are_counted, setup, teardown),
                cmocka_unit_test_setup_teardown(test_queued_lines_without_a_pipe, setup, teardown),
                cmocka_unit_test_setup_teardown(test_tail_reads_across_rotated_files, setup,
                                                teardown),
        };
        return tests_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
