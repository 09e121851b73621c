/* bcryptprimitives.dll for Wine only: Wine 8 has no such DLL, and Rust's standard library
 * imports ProcessPrng from it. This implements ProcessPrng over RtlGenRandom
 * (SystemFunction036 in advapi32). Real Windows (10 and later) has the DLL; this shim is never
 * shipped. Built and installed by scripts/windows.sh. */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}
