/* bench/machine.h - the "machine:" line the C benchmarks print first (CPU
 * model, online cores, load average, date), as bench/stats.py does for the
 * Python drivers: a figure means little without the machine and its load. */
#ifndef NORN_BENCH_MACHINE_H
#define NORN_BENCH_MACHINE_H

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static inline void bench_print_machine(void)
{
    char line[512], model[256] = "unknown";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        while (fgets(line, sizeof line, f))
            if (!strncmp(line, "model name", 10)) {
                char *p = strchr(line, ':');
                if (p) {
                    p++;
                    while (*p == ' ')
                        p++;
                    snprintf(model, sizeof model, "%s", p);
                    model[strcspn(model, "\n")] = 0;
                }
                break;
            }
        fclose(f);
    }
    char load[128] = "unknown";
    f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(load, sizeof load, f))
            load[strcspn(load, "\n")] = 0;
        fclose(f);
    }
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M:%S %Z", localtime(&t));
    printf("machine: %s, nproc %ld, loadavg %s, %s\n", model, sysconf(_SC_NPROCESSORS_ONLN), load, date);
}

#endif
