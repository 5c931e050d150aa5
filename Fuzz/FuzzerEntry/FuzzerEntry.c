// SwiftPM links every executable with `--defsym main=<Target>_main` (so that tests can link it), which a
// -parse-as-library fuzz target does not define, and which hides libFuzzer's own main. Each `<Target>_main`
// below does what libFuzzer's main does: it runs the driver on the target's LLVMFuzzerTestOneInput (the
// Swift `@_cdecl` function). Only the one of the executable being linked is ever called.
#include <stddef.h>
#include <stdint.h>
#include "FuzzerEntry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

static int run(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }

int FuzzWatchlist_main(int argc, char **argv) { return run(argc, argv); }
int FuzzDuration_main(int argc, char **argv) { return run(argc, argv); }
int FuzzConfig_main(int argc, char **argv) { return run(argc, argv); }
int FuzzReply_main(int argc, char **argv) { return run(argc, argv); }
int FuzzWarningList_main(int argc, char **argv) { return run(argc, argv); }
int FuzzCOF_main(int argc, char **argv) { return run(argc, argv); }
int FuzzHTTP_main(int argc, char **argv) { return run(argc, argv); }
