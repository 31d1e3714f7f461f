# Warnings apply to our own targets only (link strongbox_warnings privately).
add_library(strongbox_warnings INTERFACE)
target_compile_options(strongbox_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2 -Wcast-qual -Wmissing-declarations
  # GCC 12 reports false positives inside std::variant.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized>)
if(SB_WERROR)
  target_compile_options(strongbox_warnings INTERFACE -Werror)
endif()

if(SB_SANITIZE)
  string(REPLACE ";" "," _sb_san "${SB_SANITIZE}")
  add_compile_options(-fsanitize=${_sb_san} -fno-omit-frame-pointer)
  add_link_options(-fsanitize=${_sb_san})
endif()
