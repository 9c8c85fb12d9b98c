#include "infernet/sdk/service.hpp"

#include <csignal>
#include <cstdio>
#include <stdexcept>
#include <thread>
#include <vector>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace infernet::sdk {
namespace {

using inferd::infra::HttpServer;
using inferd::infra::HttpServerOptions;
using inferd::infra::json_response;

// Counts a request as running for as long as it lives.
class InFlightGuard {
 public:
  explicit InFlightGuard(std::atomic<std::size_t>& counter) : counter_(counter) {
    counter_.fetch_add(1, std::memory_order_relaxed);
  }
  ~InFlightGuard() { counter_.fetch_sub(1, std::memory_order_relaxed); }
  InFlightGuard(const InFlightGuard&) = delete;
  InFlightGuard& operator=(const InFlightGuard&) = delete;

 private:
  std::atomic<std::size_t>& counter_;
};

HttpResponse error_reply(const inferd::infra::HttpRequest& request, Status status,
                         const std::string& description) {
  return json_response(request, status, error_body(status, description));
}

std::shared_ptr<spdlog::logger> service_logger(const std::string& name) {
  if (auto logger = spdlog::get(name))
    return logger;
  return spdlog::stderr_color_mt(name);
}

// Splits "HOST:PORT" (or "[V6]:PORT") as given to --bind.
void apply_bind_flag(const std::string& bind, ServiceOptions& options) {
  auto colon = bind.rfind(':');
  if (colon == std::string::npos || colon + 1 == bind.size()) {
    throw CLI::ValidationError("--bind", "\"" + bind + "\" is not HOST:PORT, e.g. 0.0.0.0:3000");
  }
  std::string host = bind.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(bind.substr(colon + 1), &used);
    if (used != bind.size() - colon - 1 || port > 65535)
      throw std::out_of_range("port");
  } catch (const std::exception&) {
    throw CLI::ValidationError("--bind", "\"" + bind + "\" has no valid port (0-65535)");
  }
  if (!host.empty())
    options.bind_address = host;
  options.port = static_cast<unsigned short>(port);
}

// Stops accepting and closes idle keep-alive connections, lets the connections with a running
// request finish it (they close after their reply) up to the grace period, then closes the rest.
Awaitable<void> shut_down(asio::io_context& io, HttpServer& server, std::chrono::milliseconds grace,
                          spdlog::logger& logger) {
  server.stop_accepting();
  server.close_idle_connections();
  const auto deadline = std::chrono::steady_clock::now() + grace;
  asio::steady_timer timer(io);
  while (server.open_connections() > 0 && std::chrono::steady_clock::now() < deadline) {
    timer.expires_after(std::chrono::milliseconds(5));
    co_await timer.async_wait(asio::use_awaitable);
  }
  if (server.open_connections() > 0) {
    logger.warn("shutdown grace period over, closing connections with running requests count={}",
                server.open_connections());
  }
  server.close_connections();
  logger.info("stopped");
  asio::post(io, [&io] { io.stop(); });
}

}  // namespace

StreamWriter::StreamWriter(RequestContext& context) : context_(context) {}

Awaitable<void> StreamWriter::begin() {
  http::response<http::empty_body> header{http::status::ok, context_.request().version()};
  header.set(http::field::content_type, content_type_);
  started_ = true;
  co_await context_.begin_stream(std::move(header));
}

Awaitable<void> StreamWriter::write(std::string_view chunk) {
  if (chunk.empty())
    co_return;
  if (!started_)
    co_await begin();
  co_await context_.write_chunk(chunk);
}

Awaitable<void> StreamWriter::finish() {
  if (finished_)
    co_return;
  if (!started_)
    co_await begin();
  finished_ = true;
  co_await context_.end_stream();
}

Service::Service(std::string name) : name_(std::move(name)) {
  add_cli_options();
}

Service::~Service() = default;

void Service::add_cli_options() {
  cli_ = std::make_unique<CLI::App>("Infernet service container \"" + name_ + "\"");
  cli_->add_option("-p,--port", options_.port, "TCP port to listen on; 0 picks a free port")
      ->envname("PORT")
      ->capture_default_str();
  cli_->add_option("--bind-address", options_.bind_address, "IP address to listen on")
      ->envname("BIND_ADDRESS")
      ->capture_default_str();
  cli_->add_option("-b,--bind", bind_flag_,
                   "HOST:PORT to listen on; overrides --bind-address and --port (the gunicorn "
                   "form used by Infernet container configs)");
  cli_->add_option("-w,--workers,--threads", options_.threads, "number of I/O threads")
      ->envname("THREADS")
      ->check(CLI::Range(1u, 256u))
      ->capture_default_str();
  cli_->add_option("--max-body-bytes", options_.max_body_bytes,
                   "largest request body accepted, in bytes; larger bodies get 413")
      ->envname("MAX_BODY_BYTES")
      ->capture_default_str();
  cli_->add_option("--shutdown-grace-ms", shutdown_grace_ms_,
                   "milliseconds running requests get to finish after SIGTERM or SIGINT")
      ->envname("SHUTDOWN_GRACE_MS")
      ->capture_default_str();
  cli_->add_option("--log-level", options_.log_level, "log level (logs go to stderr)")
      ->envname("LOG_LEVEL")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}))
      ->capture_default_str();
}

int Service::run(int argc, char** argv) {
  shutdown_grace_ms_ = options_.shutdown_grace.count();
  try {
    cli_->parse(argc, argv);
    if (!bind_flag_.empty())
      apply_bind_flag(bind_flag_, options_);
  } catch (const CLI::ParseError& error) {
    return cli_->exit(error) == 0 ? 0 : 2;
  }
  options_.shutdown_grace = std::chrono::milliseconds(shutdown_grace_ms_);
  return serve();
}

int Service::serve() {
  auto logger = service_logger(name_);
  spdlog::set_default_logger(logger);
  spdlog::set_level(spdlog::level::from_str(options_.log_level));

  asio::io_context io(static_cast<int>(options_.threads));
  std::unique_ptr<HttpServer> server;

  // PID 1 in a container has no default signal handlers, so both signals are handled here. They
  // are set up before the "listening on" line, so a signal sent right after it is not lost. A
  // second signal during the grace period stops at once.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  bool stopping = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& error, int signal_number) {
        if (error)
          return;
        if (stopping) {
          logger->warn("second signal {}, stopping now", signal_number);
          io.stop();
          return;
        }
        stopping = true;
        logger->info("signal {} received, stopping", signal_number);
        signals.async_wait(on_signal);
        asio::co_spawn(io, shut_down(io, *server, options_.shutdown_grace, *logger),
                       asio::detached);
      };
  signals.async_wait(on_signal);

  try {
    if (start_)
      start_(io);
    server = make_server(io, options_.bind_address, options_.port);
    server->start();
  } catch (const std::exception& error) {
    logger->error("cannot start: {}", error.what());
    if (stop_)
      stop_();
    return 1;
  }

  // A fixed line on stdout, so that scripts and tests can learn the port when it was 0.
  std::printf("listening on %s:%u\n", options_.bind_address.c_str(),
              static_cast<unsigned>(server->port()));
  std::fflush(stdout);
  logger->info("started address={}:{} threads={}", options_.bind_address, server->port(),
               options_.threads);

  std::vector<std::thread> threads;
  for (unsigned i = 1; i < options_.threads; ++i)
    threads.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& thread : threads)
    thread.join();
  if (stop_)
    stop_();
  return 0;
}

std::unique_ptr<HttpServer> Service::make_server(asio::io_context& io, std::string bind_address,
                                                 unsigned short port) {
  HttpServerOptions server_options;
  server_options.bind_address = std::move(bind_address);
  server_options.port = port;
  server_options.max_body_bytes = options_.max_body_bytes;
  server_options.error_body = [](Status status, const std::string& message) {
    return error_body(status, message);
  };
  auto server = std::make_unique<HttpServer>(io, std::move(server_options));

  server->route(http::verb::get, "/", [this](RequestContext& context) -> Awaitable<HttpResponse> {
    if (readiness_) {
      std::string reason = co_await readiness_();
      if (!reason.empty())
        co_return error_reply(context.request(), Status::service_unavailable, reason);
    }
    co_return json_response(context.request(), Status::ok, {{"message", name_}});
  });
  server->route(http::verb::post, "/service_output",
                [this](RequestContext& context) { return handle_job(context); });
  if (resources_) {
    server->route(http::verb::get, "/service-resources",
                  [this](RequestContext& context) -> Awaitable<HttpResponse> {
                    auto body = co_await resources_(context.query().get("model_id"));
                    co_return json_response(context.request(), Status::ok, body);
                  });
  }
  return server;
}

Awaitable<HttpResponse> Service::handle_job(RequestContext& context) {
  InFlightGuard guard(in_flight_);
  try {
    Envelope envelope = parse_envelope(context.request().body());
    co_return co_await run_job(envelope, context);
  } catch (const ServiceError& error) {
    if (context.streaming())
      throw;
    spdlog::debug("job rejected status={} description={}", static_cast<unsigned>(error.status()),
                  error.what());
    co_return error_reply(context.request(), error.status(), error.what());
  } catch (const std::exception& error) {
    // After the stream began, the only signal left is closing the connection, which the server
    // does when the exception reaches it (also when the client went away mid-stream).
    if (context.streaming())
      throw;
    spdlog::error("job failed service={} error={}", name_, error.what());
    co_return error_reply(context.request(), Status::internal_server_error,
                          "internal server error in " + name_);
  }
}

Awaitable<HttpResponse> Service::run_job(const Envelope& envelope, RequestContext& context) {
  if (raw_job_)
    co_return co_await raw_job_(envelope, context);

  if (envelope.streaming() && stream_) {
    StreamWriter writer(context);
    co_await stream_(envelope, writer);
    co_await writer.finish();
    co_return HttpResponse{};
  }

  if (!job_) {
    throw ServiceError(Status::not_implemented, name_ + " has no job handler");
  }
  auto output = co_await job_(envelope);
  co_return json_response(context.request(), Status::ok, output);
}

}  // namespace infernet::sdk
