// Reading and writing the line-oriented text of focal-eval and focal-reference, strictly: a number
// is a whole token of any length that fits float (no silent inf from 1e999, no silent 0 from
// 1e-999), a line with a NUL byte is an error, and a failed write (a full disk, a closed stdout)
// is reported with a non-zero exit instead of being lost.
#pragma once

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace focal::tools {

// Parses a whole token as a float (decimal or hex, "inf", "nan"). Returns "" on success, else
// what is wrong with it (for an error message).
inline std::string parse_float(const std::string& token, float* out) {
  if (token.empty()) return "an empty value";
  if (token.find('\0') != std::string::npos) return "a NUL byte inside the number";
  char* end = nullptr;
  errno = 0;
  const float v = std::strtof(token.c_str(), &end);
  const int err = errno;
  if (end == token.c_str() || *end != '\0') return "not a number";
  if (err == ERANGE && std::isinf(v))
    return "out of float range (|value| > 3.40282347e+38; write inf for infinity)";
  // ERANGE with a nonzero result is a subnormal float: a valid, merely less precise, value.
  if (err == ERANGE && v == 0.0f)
    return "a nonzero value below float's smallest (1.4e-45): it would read as 0 (write 0 for 0)";
  *out = v;
  return "";
}

// Splits a line at spaces, tabs and carriage returns. Returns "" on success, else what is wrong.
inline std::string split_line(const std::string& line, std::vector<std::string>* tokens) {
  tokens->clear();
  if (line.find('\0') != std::string::npos) return "a NUL byte in the line";
  std::size_t i = 0;
  while (i < line.size()) {
    const std::size_t start = line.find_first_not_of(" \t\r", i);
    if (start == std::string::npos) break;
    std::size_t stop = line.find_first_of(" \t\r", start);
    if (stop == std::string::npos) stop = line.size();
    tokens->push_back(line.substr(start, stop - start));
    i = stop;
  }
  return "";
}

// Blank lines and lines whose first non-blank character is '#' carry no input.
inline bool is_blank_or_comment(const std::string& line) {
  const auto first = line.find_first_not_of(" \t\r");
  return first == std::string::npos || line[first] == '#';
}

// Flushes stdout; returns 0, or reports the write error on stderr and returns 1.
inline int finish_output(const char* tool) {
  errno = 0;
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    const int err = errno;
    std::fprintf(stderr, "%s: writing the results to stdout failed: %s\n", tool,
                 err ? std::strerror(err) : "write error");
    return 1;
  }
  return 0;
}

}  // namespace focal::tools
