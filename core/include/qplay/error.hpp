// One exception type for every user-facing problem; its message is shown as is (CLI, wasm, page).
#pragma once

#include <stdexcept>
#include <string>

namespace qplay {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace qplay
