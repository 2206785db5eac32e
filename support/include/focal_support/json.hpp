// JSON for the tools (nlohmann-json): one reader and one writer, with errors that name the file.
// Objects keep the order their keys were written in (ordered_json), so the files read top down.
// Non-finite numbers are written as null (JSON has no NaN/Infinity).
#pragma once

#include <nlohmann/json.hpp>

#include <string>

namespace focal::support {

using Json = nlohmann::ordered_json;

// A float as the shortest decimal that reads back as the same float (9 significant digits at
// most), instead of the 17 digits of its double.
double short_float(float v);

// The whole document, indented, written to a temporary file next to `path` and renamed onto
// it, so a reader never sees half a file and a failed write leaves the old file in place.
// Throws std::runtime_error naming the path and the reason.
void write_json_file(const std::string& path, const Json& doc);

// Parses `path`; throws std::runtime_error naming the path and what is wrong (unreadable,
// not JSON, with the parser's position).
Json read_json_file(const std::string& path);

}  // namespace focal::support
