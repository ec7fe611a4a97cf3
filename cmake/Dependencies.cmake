# Every third-party library custodian builds against, found the way
# ../shared/DEPENDENCIES.md describes. scripts/packages.txt installs them.
find_package(PkgConfig REQUIRED)
pkg_check_modules(sodium REQUIRED IMPORTED_TARGET libsodium)
pkg_check_modules(utf8proc REQUIRED IMPORTED_TARGET libutf8proc)
pkg_check_modules(oath REQUIRED IMPORTED_TARGET liboath)
# The access-request export bundle is a zip (service/exports.cc).
pkg_check_modules(libzip REQUIRED IMPORTED_TARGET libzip)
find_package(yaml-cpp REQUIRED)
# `custodian serve --config *.toml` (src/cli/config_file.cc); a shared library.
find_package(tomlplusplus 3 REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(fmt REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(GTest REQUIRED)
find_library(PHONENUMBER_LIB phonenumber REQUIRED)
# The HTTP server (src/http): Beast and Asio are header-only; Boost::system
# carries their include directory (a system include: Boost's warnings stay
# Boost's). TLS through boost::asio::ssl on OpenSSL 3.
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(OpenSSL REQUIRED)
find_package(Threads REQUIRED)
# The outbox's delivery transports (src/outbox): HTTPS to Telnyx, SMTP(S).
find_package(CURL REQUIRED)
if(CUSTODIAN_BENCH)
  find_package(benchmark REQUIRED)
  # Only for the PostgreSQL baseline of the HTTP benchmark (bench/pg_baseline.cc);
  # without it that one program is skipped.
  pkg_check_modules(libpq QUIET IMPORTED_TARGET libpq)
endif()
