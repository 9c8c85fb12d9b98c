// The one translation unit that compiles Boost.Asio, its SSL support and Boost.Beast.
#include <utility>

#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
