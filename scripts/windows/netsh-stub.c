/* A stand-in netsh.exe for the tests under Wine (scripts/windows/wine-tests.sh): it records
 * the argument list it was given, one "ARG <argument>" line each and "END" per call, to the
 * file named by NETSH_LOG, and succeeds. Put first on the search path of cmd.exe (the
 * current directory), it shows what the generated .cmd file really passes to netsh. */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    const char *path = getenv("NETSH_LOG");
    FILE *log = path ? fopen(path, "ab") : NULL;
    if (!log)
        return 3;
    for (int i = 1; i < argc; i++)
        fprintf(log, "ARG %s\n", argv[i]);
    fputs("END\n", log);
    fclose(log);
    return 0;
}
