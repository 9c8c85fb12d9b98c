// A small framework for writing Infernet service containers in C++.
//
// A service is an HTTP server (port 3000 on all interfaces by default) with these routes:
//   GET  /                   readiness: 200 {"message": "<service name>"}
//   POST /service_output     the job: the envelope is parsed and validated, then handed to the
//                            job handler (or the stream handler for destination 2)
//   GET  /service-resources  only when a resources handler is set; `?model_id=` is passed on
// Every error reply, including 404 and 405 for unknown routes, has the container error shape
// (see errors.hpp). SIGTERM and SIGINT stop the service cleanly: it stops accepting, lets
// running requests finish for a grace period, then exits with status 0.
//
// Typical use:
//   infernet::sdk::Service service{"echo"};
//   service.on_job([](const Envelope& envelope) -> Awaitable<nlohmann::json> { ... });
//   return service.run(argc, argv);
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "infernet/sdk/codec.hpp"
#include "infernet/sdk/envelope.hpp"
#include "infernet/sdk/errors.hpp"
#include "infra/asio.hpp"
#include "infra/http_server.hpp"

namespace infernet::sdk {

namespace asio = boost::asio;
namespace http = boost::beast::http;
template <typename T = void>
using Awaitable = inferd::Awaitable<T>;
using inferd::infra::HttpResponse;
using inferd::infra::RequestContext;

/// Where and how the service listens. run() fills it from flags and environment variables.
struct ServiceOptions {
  std::string bind_address = "0.0.0.0";
  unsigned short port = 3000;  ///< 0 picks a free port
  unsigned threads = 1;        ///< I/O threads; one is enough for a service that does not block
  std::size_t max_body_bytes = 16 * 1024 * 1024;
  std::chrono::milliseconds shutdown_grace{10'000};  ///< time running requests get to finish
  std::string log_level = "info";
};

/// Sends a chunked reply for a streaming job (destination 2). The response header goes out with
/// the first write. Not thread-safe; valid only while the stream handler runs.
class StreamWriter {
 public:
  explicit StreamWriter(RequestContext& context);

  /// Sets the Content-Type of the reply; only effective before the first write.
  void set_content_type(std::string content_type) { content_type_ = std::move(content_type); }
  /// Sends one chunk (an empty one is skipped). Throws when the client went away.
  Awaitable<void> write(std::string_view chunk);
  /// Sends the terminating chunk (and the header if nothing was written). The service calls this
  /// after the stream handler returns if the handler did not.
  Awaitable<void> finish();
  /// Whether the response header was sent: after that an error can only close the connection.
  bool started() const { return started_; }

 private:
  Awaitable<void> begin();

  RequestContext& context_;
  std::string content_type_ = "text/plain; charset=utf-8";
  bool started_ = false;
  bool finished_ = false;
};

class Service {
 public:
  /// Returns the JSON reply of a job. Throwing ServiceError sends that error; any other
  /// exception sends a 500 whose description reveals nothing internal.
  using JobHandler = std::function<Awaitable<nlohmann::json>(const Envelope&)>;
  /// Streams the reply of a job with destination 2.
  using StreamHandler = std::function<Awaitable<void>(const Envelope&, StreamWriter&)>;
  /// Returns the /service-resources reply; `model_id` is the query parameter when present.
  using ResourcesHandler =
      std::function<Awaitable<nlohmann::json>(std::optional<std::string> model_id)>;
  /// Builds the whole HTTP reply of a job, for services that need full control (a content type
  /// other than JSON, a custom status). May stream through the context.
  using RawJobHandler = std::function<Awaitable<HttpResponse>(const Envelope&, RequestContext&)>;
  /// Returns an empty string when the service is ready, otherwise the reason it is not.
  using ReadinessHandler = std::function<Awaitable<std::string>()>;
  /// Creates what needs the I/O context (HTTP clients, timers) before the port is bound.
  using StartHandler = std::function<void(asio::io_context&)>;
  /// Releases what the start handler created, after the server stopped and while the I/O context
  /// still exists.
  using StopHandler = std::function<void()>;

  /// `name` is the readiness message, the log name and the program name in --help.
  explicit Service(std::string name);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// Sets the job handler. Without a stream handler, streaming jobs get its JSON reply as one
  /// (non-chunked) body.
  void on_job(JobHandler handler) { job_ = std::move(handler); }
  /// Sets the handler for jobs with destination 2.
  void on_stream(StreamHandler handler) { stream_ = std::move(handler); }
  /// Enables GET /service-resources.
  void on_resources(ResourcesHandler handler) { resources_ = std::move(handler); }
  /// Replaces the job and stream handlers with one that builds the reply itself.
  void on_raw_job(RawJobHandler handler) { raw_job_ = std::move(handler); }
  /// Makes GET / reply 503 with the reason as the error description while `handler` reports
  /// the service not ready. Without it, GET / always replies 200.
  void on_readiness(ReadinessHandler handler) { readiness_ = std::move(handler); }
  /// Sets the handlers serve() calls once before binding the port and once after the I/O
  /// threads stopped.
  void on_start(StartHandler start, StopHandler stop) {
    start_ = std::move(start);
    stop_ = std::move(stop);
  }

  const std::string& name() const { return name_; }
  ServiceOptions& options() { return options_; }
  /// The command line parser; add service-specific flags before run().
  CLI::App& cli() { return *cli_; }

  /// Parses flags and environment variables into options(), then serves until SIGTERM or SIGINT.
  /// Prints "listening on <address>:<port>" on stdout once the port is bound. Returns the
  /// process exit status: 0 after a signal or --help, 2 for invalid flags, 1 when the server
  /// cannot start.
  int run(int argc, char** argv);

  /// Serves with options() as they are, until SIGTERM or SIGINT; returns the exit status.
  int serve();

  /// Builds an HTTP server with this service's routes and error shape, not yet started. For
  /// tests and embedding; the service must outlive the server.
  std::unique_ptr<inferd::infra::HttpServer> make_server(asio::io_context& io,
                                                         std::string bind_address,
                                                         unsigned short port);

  /// Requests being handled right now.
  std::size_t in_flight() const { return in_flight_.load(std::memory_order_relaxed); }

 private:
  Awaitable<HttpResponse> handle_job(RequestContext& context);
  Awaitable<HttpResponse> run_job(const Envelope& envelope, RequestContext& context);
  void add_cli_options();

  std::string name_;
  ServiceOptions options_;
  std::unique_ptr<CLI::App> cli_;
  JobHandler job_;
  StreamHandler stream_;
  ResourcesHandler resources_;
  RawJobHandler raw_job_;
  ReadinessHandler readiness_;
  StartHandler start_;
  StopHandler stop_;
  std::string bind_flag_;
  long long shutdown_grace_ms_ = 0;
  std::atomic<std::size_t> in_flight_{0};
};

}  // namespace infernet::sdk
