// Comma-separated lists on the tools' command lines (--gamma 0,2, --focal_sizes=20,24, ...): one
// rule for every tool.
#pragma once

#include <string>
#include <vector>

namespace focal::support {

// The items in order. An empty item ("1,,2", "avx2,", or "" itself) throws std::invalid_argument
// ("empty item in the list '...'"): a typo is an error, not an item silently dropped.
std::vector<std::string> split_list(const std::string& s);

}  // namespace focal::support
