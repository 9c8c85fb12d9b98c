// Single include point for Boost.Asio and Boost.Beast.
//
// Boost 1.74's awaitable.hpp uses std::exchange without including <utility>, so <utility> must
// come first. Asio and Beast are compiled once in asio_impl.cpp (BOOST_*_SEPARATE_COMPILATION).
#pragma once

#include <utility>

#include <boost/asio.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace inferd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

template <typename T = void>
using Awaitable = asio::awaitable<T>;

}  // namespace inferd
