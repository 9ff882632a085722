// std::bit_cast is missing from Emscripten 3.1.6's libc++ (LLVM 14): the same thing via memcpy.
#pragma once

#include <cstring>
#include <type_traits>

namespace qplay {

template <class To, class From>
  requires(sizeof(To) == sizeof(From) && std::is_trivially_copyable_v<To> &&
           std::is_trivially_copyable_v<From>)
To bit_cast(const From& from) noexcept {
  To to;
  std::memcpy(&to, &from, sizeof(To));
  return to;
}

}  // namespace qplay
