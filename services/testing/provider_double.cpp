#include "testing/provider_double.hpp"

#include <chrono>
#include <sstream>
#include <stdexcept>
#include <vector>

#include <spdlog/spdlog.h>
#include <nlohmann/json.hpp>

#include "infra/http_server.hpp"

namespace infernet::services {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using inferd::Awaitable;
using inferd::infra::HttpResponse;
using inferd::infra::HttpServer;
using inferd::infra::json_response;
using inferd::infra::RequestContext;
using nlohmann::json;

constexpr auto kMaxHold = std::chrono::seconds(30);

enum class WireFormat { kOpenai, kGooseai, kTgi, kHuggingFace };

// The reply text for a prompt: "echo: <prompt>", at most `max_words` words when positive.
std::vector<std::string> reply_words(const std::string& prompt, long long max_words) {
  std::vector<std::string> words;
  std::istringstream stream("echo: " + prompt);
  std::string word;
  while (stream >> word) {
    if (max_words > 0 && static_cast<long long>(words.size()) >= max_words)
      break;
    words.push_back(words.empty() ? word : " " + word);
  }
  return words;
}

std::string joined(const std::vector<std::string>& words) {
  std::string text;
  for (const auto& word : words)
    text += word;
  return text;
}

long long integer_or_zero(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_number_integer())
    return object[key].get<long long>();
  return 0;
}

// The error body of a configured failure. Like OpenAI's reply to a bad key, the message repeats
// the request's credentials, so tests can check that services redact them.
json error_reply_body(WireFormat format, unsigned status, const std::string& authorization) {
  const std::string message = "provider double fails with HTTP " + std::to_string(status) +
                              " as configured (authorization: " + authorization + ")";
  if (format == WireFormat::kOpenai || format == WireFormat::kGooseai) {
    return {{"error",
             {{"message", message},
              {"type", status == 429 ? "rate_limit_exceeded" : "server_error"},
              {"code", nullptr}}}};
  }
  if (format == WireFormat::kTgi)
    return {{"error", message}, {"error_type", status == 429 ? "overloaded" : "generation"}};
  return {{"error", message}};
}

}  // namespace

struct ProviderDouble::State : std::enable_shared_from_this<ProviderDouble::State> {
  asio::io_context& io;
  std::unique_ptr<HttpServer> server;
  json requests = json::array();
  unsigned fail_status = 0;
  unsigned fail_count = 0;
  long long cut_after_events = -1;
  long long hold_after_events = -1;
  std::shared_ptr<asio::steady_timer> hold_timer;

  explicit State(asio::io_context& context) : io(context) {}

  // Records the request and returns an error reply when a fault is pending.
  std::optional<HttpResponse> admit(RequestContext& context, WireFormat format) {
    const auto& request = context.request();
    auto body = json::parse(request.body(), nullptr, false);
    auto authorization = request.find(http::field::authorization);
    const std::string credentials =
        authorization == request.end() ? std::string() : std::string(authorization->value());
    requests.push_back({{"path", std::string(context.path())},
                        {"authorization", credentials},
                        {"body", body.is_discarded() ? json(request.body()) : body}});
    if (fail_count > 0) {
      --fail_count;
      return json_response(request, static_cast<http::status>(fail_status),
                           error_reply_body(format, fail_status, credentials));
    }
    if (body.is_discarded() || !body.is_object()) {
      return json_response(request, http::status::bad_request,
                           {{"error", "request body must be a JSON object"}});
    }
    return std::nullopt;
  }

  // Sends `events` as server-sent events, applying a pending cut or hold.
  Awaitable<HttpResponse> stream(RequestContext& context, std::vector<std::string> events) {
    auto self = shared_from_this();
    const long long cut = std::exchange(cut_after_events, -1);
    const long long hold = std::exchange(hold_after_events, -1);

    http::response<http::empty_body> header{http::status::ok, context.request().version()};
    header.set(http::field::content_type, "text/event-stream");
    header.set(http::field::cache_control, "no-cache");
    co_await context.begin_stream(std::move(header));
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (static_cast<long long>(i) == cut) {
        spdlog::info("cutting stream after {} events as configured", i);
        throw std::runtime_error("provider double cuts the stream as configured");
      }
      if (static_cast<long long>(i) == hold) {
        hold_timer = std::make_shared<asio::steady_timer>(io, kMaxHold);
        auto timer = hold_timer;
        boost::system::error_code ignored;
        co_await timer->async_wait(asio::redirect_error(asio::use_awaitable, ignored));
      }
      co_await context.write_chunk("data: " + events[i] + "\n\n");
    }
    co_await context.end_stream();
    co_return HttpResponse{};
  }

  Awaitable<HttpResponse> chat(RequestContext& context, WireFormat format) {
    if (auto failure = admit(context, format))
      co_return std::move(*failure);
    const json body = json::parse(context.request().body());

    std::string prompt;
    if (format == WireFormat::kGooseai) {
      prompt = body.value("prompt", "");
    } else if (body.contains("messages") && body["messages"].is_array() &&
               !body["messages"].empty()) {
      prompt = body["messages"].back().value("content", "");
    }
    const auto words = reply_words(prompt, integer_or_zero(body, "max_tokens"));
    const std::string model = body.value("model", "double");

    if (!body.value("stream", false)) {
      json choice = format == WireFormat::kGooseai
                        ? json{{"index", 0}, {"text", joined(words)}, {"finish_reason", "stop"}}
                        : json{{"index", 0},
                               {"message", {{"role", "assistant"}, {"content", joined(words)}}},
                               {"finish_reason", "stop"}};
      co_return json_response(context.request(), http::status::ok,
                              {{"id", "double-1"},
                               {"object", "chat.completion"},
                               {"model", model},
                               {"choices", json::array({choice})}});
    }

    std::vector<std::string> events;
    if (format == WireFormat::kGooseai) {
      for (const auto& word : words)
        events.push_back(json{{"choices", {{{"index", 0}, {"text", word}}}}}.dump());
      events.push_back("[DONE]");
    } else {
      // OpenAI's first event carries only the role, and the last one only the finish reason.
      auto chunk = [&](json delta, json finish) {
        return json{{"id", "double-1"},
                    {"object", "chat.completion.chunk"},
                    {"model", model},
                    {"choices", {{{"index", 0}, {"delta", delta}, {"finish_reason", finish}}}}}
            .dump();
      };
      events.push_back(chunk({{"role", "assistant"}}, nullptr));
      for (const auto& word : words)
        events.push_back(chunk({{"content", word}}, nullptr));
      events.push_back(chunk(json::object(), "stop"));
      events.push_back("[DONE]");
    }
    co_return co_await stream(context, std::move(events));
  }

  Awaitable<HttpResponse> embeddings(RequestContext& context) {
    if (auto failure = admit(context, WireFormat::kOpenai))
      co_return std::move(*failure);
    const json body = json::parse(context.request().body());
    const double length = static_cast<double>(body.value("input", "").size());
    co_return json_response(
        context.request(), http::status::ok,
        {{"object", "list"},
         {"model", body.value("model", "double")},
         {"data", {{{"object", "embedding"}, {"index", 0}, {"embedding", {length, 0.5, -0.25}}}}}});
  }

  Awaitable<HttpResponse> generate(RequestContext& context, bool streaming) {
    if (auto failure = admit(context, WireFormat::kTgi))
      co_return std::move(*failure);
    const json body = json::parse(context.request().body());
    const json parameters = body.value("parameters", json::object());
    const auto words =
        reply_words(body.value("inputs", ""), integer_or_zero(parameters, "max_new_tokens"));

    if (!streaming) {
      co_return json_response(context.request(), http::status::ok,
                              {{"generated_text", joined(words)}});
    }
    std::vector<std::string> events;
    for (std::size_t i = 0; i < words.size(); ++i) {
      events.push_back(json{
          {"index", i},
          {"token", {{"id", i}, {"text", words[i]}, {"logprob", -0.5}, {"special", false}}},
          {"generated_text", nullptr},
          {"details",
           nullptr}}.dump());
    }
    // TGI ends with the end-of-sequence token, marked special, and the whole text.
    events.push_back(json{
        {"index", words.size()},
        {"token", {{"id", 2}, {"text", "</s>"}, {"logprob", -0.1}, {"special", true}}},
        {"generated_text", joined(words)},
        {"details",
         nullptr}}.dump());
    co_return co_await stream(context, std::move(events));
  }

  Awaitable<HttpResponse> hugging_face(RequestContext& context, std::string task) {
    if (auto failure = admit(context, WireFormat::kHuggingFace))
      co_return std::move(*failure);
    const json body = json::parse(context.request().body());
    const std::string inputs = body.value("inputs", "");
    const json parameters = body.value("parameters", json::object());
    json reply;

    if (task == "text-generation") {
      const auto words = reply_words(inputs, integer_or_zero(parameters, "max_new_tokens"));
      json item{{"generated_text", joined(words)}};
      if (parameters.value("details", false))
        item["details"] = {{"finish_reason", "length"}, {"generated_tokens", words.size()}};
      reply = json::array({item});
    } else if (task == "text-classification") {
      const bool negative = inputs.find("bad") != std::string::npos;
      reply = json::array(
          {json::array({{{"label", negative ? "NEGATIVE" : "POSITIVE"}, {"score", 0.998712}},
                        {{"label", negative ? "POSITIVE" : "NEGATIVE"}, {"score", 0.001288}}})});
    } else if (task == "token-classification") {
      // Every capitalised word is an organisation.
      reply = json::array();
      std::size_t start = 0;
      while (start < inputs.size()) {
        auto end = inputs.find(' ', start);
        if (end == std::string::npos)
          end = inputs.size();
        if (end > start && inputs[start] >= 'A' && inputs[start] <= 'Z') {
          reply.push_back({{"entity_group", "ORG"},
                           {"score", 0.9876543},
                           {"word", inputs.substr(start, end - start)},
                           {"start", start},
                           {"end", end}});
        }
        start = end + 1;
      }
    } else {
      const auto words = reply_words(inputs, 4);
      std::string summary;
      for (std::size_t i = 1; i < words.size(); ++i)
        summary += i == 1 ? words[i].substr(1) : words[i];
      reply = json::array({{{"summary_text", summary}}});
    }
    co_return json_response(context.request(), http::status::ok, reply);
  }

  Awaitable<HttpResponse> set_faults(RequestContext& context) {
    const auto& request = context.request();
    auto body = json::parse(request.body(), nullptr, false);
    if (!body.is_object())
      co_return json_response(request, http::status::bad_request,
                              {{"error", "expected an object"}});
    if (body.contains("status")) {
      fail_status = body["status"].get<unsigned>();
      fail_count = body.value("count", 1u);
    }
    if (body.contains("cut_after_events"))
      cut_after_events = body["cut_after_events"].get<long long>();
    if (body.contains("hold_after_events"))
      hold_after_events = body["hold_after_events"].get<long long>();
    co_return json_response(request, http::status::ok, {{"ok", true}});
  }

  Awaitable<HttpResponse> release(RequestContext& context) {
    const bool stream_was_held = hold_timer != nullptr;
    if (hold_timer)
      hold_timer->cancel();
    hold_timer.reset();
    co_return json_response(context.request(), http::status::ok, {{"released", stream_was_held}});
  }
};

ProviderDouble::ProviderDouble(asio::io_context& io, const std::string& bind_address,
                               unsigned short port)
    : state_(std::make_shared<State>(io)) {
  auto address = asio::ip::make_address(bind_address);
  if (!address.is_loopback()) {
    throw std::invalid_argument("the provider double serves loopback only, not " + bind_address);
  }
  inferd::infra::HttpServerOptions options;
  options.bind_address = bind_address;
  options.port = port;
  state_->server = std::make_unique<HttpServer>(io, options);

  auto& server = *state_->server;
  std::weak_ptr<State> weak = state_;
  auto state = [weak] {
    auto locked = weak.lock();
    if (!locked)
      throw std::runtime_error("provider double stopped");
    return locked;
  };

  server.route(http::verb::get, "/", [](RequestContext& context) -> Awaitable<HttpResponse> {
    co_return json_response(context.request(), http::status::ok, {{"message", "provider-double"}});
  });
  server.route(http::verb::get, "/health", [](RequestContext& context) -> Awaitable<HttpResponse> {
    co_return json_response(context.request(), http::status::ok, json::object());
  });
  for (const char* path : {"/v1/chat/completions", "/chat/completions"}) {
    server.route(http::verb::post, path, [state](RequestContext& context) {
      return state()->chat(context, WireFormat::kOpenai);
    });
  }
  for (const char* model : {"gpt-neo-20b", "gpt-j-6b"}) {
    server.route(
        http::verb::post, std::string("/v1/engines/") + model + "/completions",
        [state](RequestContext& context) { return state()->chat(context, WireFormat::kGooseai); });
  }
  for (const char* path : {"/v1/embeddings", "/embeddings"}) {
    server.route(http::verb::post, path,
                 [state](RequestContext& context) { return state()->embeddings(context); });
  }
  server.route(http::verb::post, "/generate",
               [state](RequestContext& context) { return state()->generate(context, false); });
  server.route(http::verb::post, "/generate_stream",
               [state](RequestContext& context) { return state()->generate(context, true); });
  for (const char* task :
       {"text-generation", "text-classification", "token-classification", "summarization"}) {
    server.route(
        http::verb::post, std::string("/models/double/") + task,
        [state, task](RequestContext& context) { return state()->hugging_face(context, task); });
  }
  server.route(http::verb::post, "/double/faults",
               [state](RequestContext& context) { return state()->set_faults(context); });
  server.route(http::verb::post, "/double/release",
               [state](RequestContext& context) { return state()->release(context); });
  server.route(http::verb::get, "/double/requests",
               [state](RequestContext& context) -> Awaitable<HttpResponse> {
                 co_return json_response(context.request(), http::status::ok, state()->requests);
               });
}

ProviderDouble::~ProviderDouble() = default;

void ProviderDouble::start() {
  state_->server->start();
}

void ProviderDouble::stop() {
  if (state_->hold_timer)
    state_->hold_timer->cancel();
  state_->server->stop_accepting();
  state_->server->close_connections();
}

unsigned short ProviderDouble::port() const {
  return state_->server->port();
}

}  // namespace infernet::services
