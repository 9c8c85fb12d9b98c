// provider-double: a test double of the remote servers that llm-service, tgi-service and
// hf-service call. Not a provider and not for production: it serves only 127.0.0.1 and its
// replies are canned, deterministic functions of the request.
//
// It speaks these wire formats:
//   OpenAI     POST /v1/chat/completions, /chat/completions (Perplexity's path), /v1/embeddings,
//              with server-sent events when the body has "stream": true
//   GooseAI    POST /v1/engines/{gpt-neo-20b,gpt-j-6b}/completions
//   TGI        POST /generate, /generate_stream, GET /health
//   HF API     POST /models/double/{text-generation,text-classification,
//              token-classification,summarization}
// The generated text is "echo: " followed by the prompt (the last chat message), cut to
// max_tokens / max_new_tokens words when the request sets them. Streams send it word by word.
//
// Control routes, for tests:
//   POST /double/faults    {"status": 429, "count": 2} makes the next 2 provider requests fail
//                          with that status; {"cut_after_events": N} closes the next stream
//                          after N events; {"hold_after_events": N} pauses the next stream
//                          after N events until POST /double/release (or 30 s pass).
//   POST /double/release   resumes a held stream.
//   GET  /double/requests  every provider request so far: [{"path", "authorization", "body"}].
#pragma once

#include <memory>
#include <string>

#include "infra/asio.hpp"

namespace infernet::services {

/// The double's HTTP server on an io_context the caller runs. Single-threaded: run the
/// io_context on one thread only.
class ProviderDouble {
 public:
  /// Throws std::invalid_argument when `bind_address` is not a loopback address.
  ProviderDouble(boost::asio::io_context& io, const std::string& bind_address, unsigned short port);
  ~ProviderDouble();
  ProviderDouble(const ProviderDouble&) = delete;
  ProviderDouble& operator=(const ProviderDouble&) = delete;

  /// Binds and starts accepting; throws std::runtime_error when the port is taken.
  void start();
  /// Stops accepting and closes every connection.
  void stop();
  unsigned short port() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace infernet::services
