#ifndef DNSWATCH_FUZZER_ENTRY_H
#define DNSWATCH_FUZZER_ENTRY_H
/* Nothing to call from Swift: this module only supplies the fuzz executables' entry points (FuzzerEntry.c). */
#endif
