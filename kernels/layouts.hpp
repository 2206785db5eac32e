// Internal: the one way a backend branches on the input layout. visit_layout(in, dense, soft,
// labels) calls the function for the input's alternative (each takes its const input struct) and
// returns its result, so a backend states its three cases side by side instead of a chain of
// get_if (a new layout then fails to compile in every backend that does not handle it).
#pragma once

#include <utility>
#include <variant>

#include "focal/focal.hpp"

namespace focal {

template <class Dense, class Soft, class Labels>
decltype(auto) visit_layout(const Input& in, Dense&& dense, Soft&& soft, Labels&& labels) {
  struct Visitor {
    Dense& d;
    Soft& s;
    Labels& l;
    decltype(auto) operator()(const DenseInput& v) const { return d(v); }
    decltype(auto) operator()(const SoftInput& v) const { return s(v); }
    decltype(auto) operator()(const LabelInput& v) const { return l(v); }
  };
  return std::visit(Visitor{dense, soft, labels}, in);
}

}  // namespace focal
