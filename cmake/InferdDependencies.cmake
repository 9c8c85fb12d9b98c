# Every third-party library comes from Debian's archive; scripts/install-deps.sh installs them.
find_package(Threads REQUIRED)
find_package(Boost 1.74 REQUIRED COMPONENTS system)
find_package(nlohmann_json 3.11 REQUIRED)
find_package(spdlog REQUIRED)
find_package(CLI11 REQUIRED)
find_package(SQLite3 REQUIRED)
find_package(OpenSSL REQUIRED)
find_package(GTest REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(SECP256K1 REQUIRED IMPORTED_TARGET libsecp256k1)
pkg_check_modules(CRYPTOPP REQUIRED IMPORTED_TARGET libcrypto++)
pkg_check_modules(HIREDIS REQUIRED IMPORTED_TARGET hiredis)
if(INFERD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# Asio and Beast are compiled once (src/infra/asio_impl.cpp) instead of in every translation unit.
add_library(inferd_asio_config INTERFACE)
target_compile_definitions(inferd_asio_config INTERFACE
  BOOST_ASIO_SEPARATE_COMPILATION
  BOOST_BEAST_SEPARATE_COMPILATION
  BOOST_ASIO_NO_DEPRECATED
  BOOST_BEAST_USE_STD_STRING_VIEW)
if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  # clang 14 with libstdc++ does not detect coroutine support in Boost 1.74 by itself.
  target_compile_definitions(inferd_asio_config INTERFACE BOOST_ASIO_HAS_CO_AWAIT BOOST_ASIO_HAS_STD_COROUTINE)
endif()
target_link_libraries(inferd_asio_config INTERFACE Boost::boost Boost::system Threads::Threads OpenSSL::SSL OpenSSL::Crypto)
