/* A stand-in netsh.exe for the tests under Wine (scripts/windows/wine-tests.sh): it records
 * the argument list it was given, one "ARG <argument>" line each and "END" per call, to the
 * file named by NETSH_LOG, and succeeds. Put first on the search path of cmd.exe (the
 * current directory), it shows what the generated .cmd file really passes to netsh. */
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

int main(int argc, char **argv)
{
    const char *path = getenv("NETSH_LOG");
    FILE *log = NULL;
    if (!path)
        return 3;
    /* The previous call's process may still hold the file for a moment while Wine ends
     * it: try for up to a second before failing. */
    for (int i = 0; i < 50 && !(log = fopen(path, "ab")); i++)
        Sleep(20);
    if (!log)
        return 3;
    for (int i = 1; i < argc; i++)
        fprintf(log, "ARG %s\n", argv[i]);
    fputs("END\n", log);
    fclose(log);
    return 0;
}
