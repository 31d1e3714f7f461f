# Every dependency is a Debian 12 package (scripts/deps.sh installs them).
# FAISS's exported target names OpenMP::OpenMP_CXX and BLAS, so those come first.
find_package(Threads REQUIRED)
find_package(OpenMP REQUIRED)
find_package(BLAS REQUIRED)
find_package(LAPACK REQUIRED)
find_package(faiss REQUIRED)
find_package(SQLiteCpp REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(Poco REQUIRED COMPONENTS Foundation Net Util JSON XML Zip)
find_package(doctest REQUIRED)
find_package(Freetype REQUIRED)  # tests render Korean scans with fonts-nanum
find_package(PkgConfig REQUIRED)
pkg_check_modules(SODIUM REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(POPPLER_CPP REQUIRED IMPORTED_TARGET poppler-cpp)
pkg_check_modules(TESSERACT REQUIRED IMPORTED_TARGET tesseract lept)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# Snowball stemmers (libstemmer-dev): no CMake or pkg-config file, so found by name.
find_path(STEMMER_INCLUDE_DIR libstemmer.h REQUIRED)
find_library(STEMMER_LIBRARY stemmer REQUIRED)
add_library(Snowball::stemmer UNKNOWN IMPORTED)
set_target_properties(Snowball::stemmer PROPERTIES IMPORTED_LOCATION "${STEMMER_LIBRARY}"
                      INTERFACE_INCLUDE_DIRECTORIES "${STEMMER_INCLUDE_DIR}")
