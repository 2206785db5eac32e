// The export macros. focal_kernels is compiled with hidden visibility (-fvisibility=hidden), so
// a shared build exports only the declarations between FOCAL_API_BEGIN and FOCAL_API_END (the
// public headers focal.hpp and cuda.hpp wrap their namespace in them) or marked FOCAL_API.
// Internal symbols (backends, SIMD entry points) stay private to the library.
#pragma once

#if defined(__GNUC__) || defined(__clang__)
#define FOCAL_API __attribute__((visibility("default")))
#define FOCAL_API_BEGIN _Pragma("GCC visibility push(default)")
#define FOCAL_API_END _Pragma("GCC visibility pop")
#else
#define FOCAL_API
#define FOCAL_API_BEGIN
#define FOCAL_API_END
#endif
