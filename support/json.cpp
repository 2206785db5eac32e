#include "focal_support/json.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <stdexcept>

namespace focal::support {

double short_float(float v) {
  char buf[32];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  *r.ptr = '\0';
  return std::strtod(buf, nullptr);  // inf/nan round-trip too; the writer makes them null
}

void write_json_file(const std::string& path, const Json& doc) {
  const std::string text = doc.dump(1) + "\n";
  // An existing path that is not a regular file (a FIFO, /dev/stdout, a device) is written
  // through: renaming a temporary file over it would replace it (as root, /dev/full itself) and
  // report a success whatever became of the data.
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    std::FILE* f = std::fopen(path.c_str(), "w");
    if (!f) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
    const bool wrote = std::fwrite(text.data(), 1, text.size(), f) == text.size();
    const int saved = errno;
    const bool flushed = std::fflush(f) == 0;
    const int saved_flush = errno;
    const bool closed = std::fclose(f) == 0;
    if (!wrote || !flushed || !closed)
      throw std::runtime_error("cannot write '" + path + "': " +
                               std::strerror(!wrote ? saved : !flushed ? saved_flush : errno));
    return;
  }
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  if (!f) throw std::runtime_error("cannot write '" + path + "': " + std::strerror(errno));
  const bool wrote = std::fwrite(text.data(), 1, text.size(), f) == text.size();
  const int saved = errno;
  const bool closed = std::fclose(f) == 0;
  if (!wrote || !closed) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write '" + path + "': " + std::strerror(wrote ? errno : saved));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write '" + path + "': " + std::strerror(e));
  }
}

Json read_json_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read '" + path + "': " + std::strerror(errno));
  try {
    return Json::parse(f);
  } catch (const Json::exception& e) {
    throw std::runtime_error("'" + path + "' is not valid JSON: " + e.what());
  }
}

}  // namespace focal::support
