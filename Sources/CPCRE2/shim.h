// PCRE2 for 8-bit strings: the library's functions are then pcre2_*_8, which Swift
// imports (the unsuffixed names are function-like macros, which it does not).
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
