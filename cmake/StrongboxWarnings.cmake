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

# Sanitizers apply to every target in the tree (our code and the tests); scripts/sanitize.sh runs them.
# C and C++ only: nvcc does not take -fsanitize. Undefined behaviour stops the program rather than
# printing and going on, so a finding cannot scroll past as a passing test.
if(SB_SANITIZE)
  string(REPLACE ";" "," _sb_san "${SB_SANITIZE}")
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fsanitize=${_sb_san}>"
                      "$<$<COMPILE_LANGUAGE:C,CXX>:-fno-omit-frame-pointer>")
  if("undefined" IN_LIST SB_SANITIZE)
    add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:-fno-sanitize-recover=undefined>")
  endif()
  add_link_options(-fsanitize=${_sb_san})
endif()
