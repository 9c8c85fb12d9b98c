#include "testing/test_service.hpp"

#include <chrono>
#include <stdexcept>
#include <string>

#include <spdlog/spdlog.h>

namespace infernet::services {
namespace {

using sdk::Awaitable;
using sdk::Envelope;
using sdk::HttpResponse;
using sdk::RequestContext;
using sdk::StreamWriter;
namespace asio = sdk::asio;
namespace http = sdk::http;

Awaitable<void> sleep_ms(unsigned milliseconds) {
  if (milliseconds == 0)
    co_return;
  asio::steady_timer timer(co_await asio::this_coro::executor,
                           std::chrono::milliseconds(milliseconds));
  co_await timer.async_wait(asio::use_awaitable);
}

// Thrown after part of a reply went out: the server then closes the connection.
[[noreturn]] void close_connection() {
  throw std::runtime_error("closing the connection mid-reply as configured (--close-mid-reply)");
}

// Streams `stream_chunks` lines "chunk <i>\n"; with close_mid_reply, stops after the first half
// (at least one chunk) without the terminating chunk.
Awaitable<HttpResponse> stream_reply(const TestServiceConfig& config, RequestContext& context) {
  StreamWriter writer(context);
  const unsigned close_after = (config.stream_chunks + 1) / 2;
  for (unsigned i = 0; i < config.stream_chunks; ++i) {
    if (i > 0)
      co_await sleep_ms(config.chunk_delay_ms);
    co_await writer.write("chunk " + std::to_string(i) + "\n");
    if (config.close_mid_reply && i + 1 == close_after)
      close_connection();
  }
  co_await writer.finish();
  co_return HttpResponse{};
}

Awaitable<HttpResponse> reply(const TestServiceConfig& config, const Envelope& envelope,
                              RequestContext& context) {
  spdlog::debug("job received service={} destination={}", config.name,
                static_cast<int>(envelope.destination));
  co_await sleep_ms(config.delay_ms);

  if (config.status != 200) {
    throw sdk::ServiceError(
        static_cast<sdk::Status>(config.status),
        config.name + " is configured to fail with status " + std::to_string(config.status));
  }

  if (envelope.streaming())
    co_return co_await stream_reply(config, context);

  const nlohmann::json body{{"service", config.name}, {"envelope", envelope.to_json()}};
  if (config.close_mid_reply) {
    // A chunked JSON reply cut after its first half.
    const std::string text = body.dump();
    StreamWriter writer(context);
    writer.set_content_type("application/json");
    co_await writer.write(std::string_view(text).substr(0, text.size() / 2));
    close_connection();
  }

  if (config.text) {
    HttpResponse response{http::status::ok, context.request().version()};
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.keep_alive(context.request().keep_alive());
    response.body() = "plain text from " + config.name + ": " + body.dump();
    response.prepare_payload();
    co_return response;
  }

  co_return inferd::infra::json_response(context.request(), http::status::ok, body);
}

}  // namespace

void add_test_service_flags(CLI::App& cli, TestServiceConfig& config) {
  cli.add_option("--name", config.name, "name put in the \"service\" field of replies")
      ->capture_default_str();
  cli.add_option("--delay-ms", config.delay_ms, "milliseconds to wait before replying")
      ->capture_default_str();
  cli.add_option("--status", config.status,
                 "HTTP status of every job reply; other than 200 sends a JSON container error")
      ->check(CLI::Range(200u, 599u))
      ->capture_default_str();
  cli.add_flag("--text", config.text, "reply text/plain instead of JSON");
  cli.add_flag("--close-mid-reply", config.close_mid_reply,
               "send the first half of the reply, then close the connection");
  cli.add_option("--stream-chunks", config.stream_chunks,
                 "number of chunks sent for a streaming job (destination 2)")
      ->capture_default_str();
  cli.add_option("--chunk-delay-ms", config.chunk_delay_ms,
                 "milliseconds to wait between streamed chunks")
      ->capture_default_str();
}

void install_test_service(sdk::Service& service, const TestServiceConfig& config) {
  service.on_raw_job([&config](const Envelope& envelope, RequestContext& context) {
    return reply(config, envelope, context);
  });
}

}  // namespace infernet::services
