#include "focal_support/lists.hpp"

#include <algorithm>
#include <stdexcept>

namespace focal::support {

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (start <= s.size()) {
    const std::size_t end = std::min(s.find(',', start), s.size());
    items.push_back(s.substr(start, end - start));
    if (items.back().empty()) throw std::invalid_argument("empty item in the list '" + s + "'");
    start = end + 1;
  }
  return items;
}

}  // namespace focal::support
