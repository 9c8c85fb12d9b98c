#include "api/rest_api.hpp"

#include <algorithm>

#include "infra/json_exact.hpp"

#include <array>
#include <chrono>
#include <unordered_set>

#include <fmt/format.h>
#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include "api/job_request.hpp"
#include "infra/logging.hpp"

namespace inferd::api {
namespace {

using Clock = std::chrono::steady_clock;
using infra::HttpError;
using infra::json_response;

constexpr std::size_t kMaxIdsPerQuery = 1000;
constexpr std::size_t kMaxListedIds = 1000;
constexpr std::size_t kMaxBatchItems = 1000;
constexpr long kMaxWaitMs = 60000;

std::shared_ptr<spdlog::logger> logger() {
  return infra::logging::get_logger("api");
}

HttpError bad_request(std::string message) {
  return HttpError::message(http::status::bad_request, std::move(message));
}

// Parses a JSON request body or throws the 400 that names what is wrong with it.
nlohmann::json parse_body(const std::string& text) {
  auto parsed = parse_json_body(text);
  if (auto* invalid = std::get_if<InvalidRequest>(&parsed))
    throw bad_request(invalid->message);
  return std::get<nlohmann::json>(std::move(parsed));
}

HttpError rejection_error(const Rejection& rejection) {
  auto status = rejection.kind == Rejection::Kind::kUnknownContainer ? http::status::not_found
                                                                     : http::status::forbidden;
  return HttpError(status, {{"error", rejection.error}, {"params", rejection.params}});
}

asio::ip::address normalise(asio::ip::address address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  return address;
}

infra::HttpResponse with_headers(infra::HttpResponse response, const infra::HeaderList& headers) {
  for (const auto& [name, value] : headers)
    response.set(name, value);
  return response;
}

}  // namespace

std::string new_job_id() {
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("OpenSSL RAND_bytes failed to produce a job id");
  }
  bytes[6] = static_cast<unsigned char>((bytes[6] & 0x0f) | 0x40);  // version 4
  bytes[8] = static_cast<unsigned char>((bytes[8] & 0x3f) | 0x80);  // RFC 4122 variant
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string id;
  id.reserve(36);
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      id.push_back('-');
    id.push_back(kDigits[bytes[i] >> 4]);
    id.push_back(kDigits[bytes[i] & 0x0f]);
  }
  return id;
}

RestApi::RestApi(asio::any_io_executor executor, const infra::NodeConfig& config,
                 containers::Orchestrator& orchestrator, store::JobStore& store,
                 infra::HttpClient& client, ApiHooks hooks)
    : executor_(executor),
      config_(config),
      orchestrator_(orchestrator),
      store_(store),
      client_(client),
      hooks_(std::move(hooks)),
      guardian_(config.containers),
      trusted_proxies_(NetworkList::parse(config.server.trusted_proxies)),
      status_networks_(NetworkList::parse(config.server.status_networks)),
      rate_limiter_(config.server.rate_limit.num_requests,
                    std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::duration<double>(config.server.rate_limit.period))),
      waiters_(std::make_shared<JobWaiters>(executor)) {
  orchestrator_.on_finished([this](const store::JobRecord& record) { job_finished(record); });
}

void RestApi::install(infra::HttpServer& server) {
  auto bind = [this](auto member) {
    return [this, member](infra::RequestContext& context) { return (this->*member)(context); };
  };
  server.route(http::verb::get, "/health", bind(&RestApi::health));
  server.route(http::verb::get, "/info", bind(&RestApi::info));
  server.route(http::verb::get, "/resources", bind(&RestApi::resources));
  server.route(http::verb::get, "/metrics", bind(&RestApi::metrics));
  server.route(http::verb::post, "/api/jobs", bind(&RestApi::create_job));
  server.route(http::verb::get, "/api/jobs", bind(&RestApi::get_jobs));
  server.route(http::verb::post, "/api/jobs/batch", bind(&RestApi::create_batch));
  server.route(http::verb::post, "/api/jobs/stream", bind(&RestApi::create_stream));
  server.route(http::verb::put, "/api/status", bind(&RestApi::put_status));
  server.route(http::verb::get, "/api/subscriptions/*", bind(&RestApi::get_subscription));
}

RestApi::ClientIdentity RestApi::identify(const infra::RequestContext& context) const {
  asio::ip::address address = normalise(context.peer());
  // X-Forwarded-For counts only when the connection comes from a configured trusted proxy. The
  // client is the rightmost address that is not itself a trusted proxy.
  if (!trusted_proxies_.empty() && trusted_proxies_.contains(address)) {
    // Several header lines form one list, in order (RFC 9110 section 5.3).
    std::string joined;
    auto lines = context.request().equal_range("X-Forwarded-For");
    for (auto line = lines.first; line != lines.second; ++line) {
      if (!joined.empty())
        joined += ",";
      joined += std::string(line->value());
    }
    std::string_view forwarded = joined;
    while (!forwarded.empty()) {
      auto comma = forwarded.rfind(',');
      std::string_view hop =
          comma == std::string_view::npos ? forwarded : forwarded.substr(comma + 1);
      forwarded = comma == std::string_view::npos ? std::string_view{} : forwarded.substr(0, comma);
      while (!hop.empty() && hop.front() == ' ')
        hop.remove_prefix(1);
      while (!hop.empty() && hop.back() == ' ')
        hop.remove_suffix(1);
      boost::system::error_code ec;
      auto hop_address = asio::ip::make_address(std::string(hop), ec);
      if (ec)
        break;
      address = normalise(hop_address);
      if (!trusted_proxies_.contains(address))
        break;
    }
  }
  return ClientIdentity{address, address.to_string()};
}

void RestApi::rate_limit(std::string_view route, const ClientIdentity& client,
                         infra::HeaderList& headers) {
  auto decision = rate_limiter_.check(std::string(route) + " " + client.key);
  headers.emplace_back("RateLimit-Limit", std::to_string(decision.limit));
  headers.emplace_back("RateLimit-Remaining", std::to_string(decision.remaining));
  headers.emplace_back("RateLimit-Reset", std::to_string(decision.reset_seconds));
  if (!decision.allowed) {
    headers.emplace_back("Retry-After", std::to_string(decision.retry_after_seconds));
    throw HttpError(
        http::status::too_many_requests,
        {{"error", fmt::format("rate limit exceeded: {} requests per {:g} s; retry after {} s",
                               config_.server.rate_limit.num_requests,
                               config_.server.rate_limit.period, decision.retry_after_seconds)}},
        headers);
  }
}

void RestApi::require_json(const infra::RequestContext& context) const {
  std::string_view type = context.request()[http::field::content_type];
  std::string_view media = type.substr(0, type.find(';'));
  while (!media.empty() && media.back() == ' ')
    media.remove_suffix(1);
  bool json = beast::iequals(media, "application/json") ||
              (media.size() > 5 && beast::iequals(media.substr(media.size() - 5), "+json"));
  if (!json) {
    throw HttpError::message(
        http::status::unsupported_media_type,
        "Content-Type must be application/json, got \"" + std::string(type) + "\"");
  }
}

void RestApi::require_intake() const {
  if (!accepting_) {
    throw HttpError(http::status::service_unavailable,
                    {{"error", "node is shutting down and accepts no new jobs"}},
                    {{"Retry-After", "5"}});
  }
}

nlohmann::json RestApi::delegated_rejection() const {
  return {{"error", "Chain not enabled"}, {"params", nlohmann::json::object()}};
}

Awaitable<std::pair<http::status, nlohmann::json>> RestApi::submit_delegated(
    nlohmann::json exact_body) {
  if (!config_.chain.enabled || !hooks_.delegated)
    co_return std::pair{http::status::forbidden, delegated_rejection()};
  auto rejection = co_await hooks_.delegated(std::move(exact_body));
  if (!rejection)
    co_return std::pair{http::status::ok, nlohmann::json::object()};
  co_return std::pair{static_cast<http::status>(rejection->first), std::move(rejection->second)};
}

namespace {

// The body parsed again so that integers beyond 64 bits (r, s, payment_amount) stay exact.
nlohmann::json parse_exact(const std::string& text) {
  infra::ExactJsonBuilder builder;
  if (!nlohmann::json::sax_parse(text.begin(), text.end(), &builder))
    throw bad_request("invalid JSON body");
  return std::move(builder.root);
}

}  // namespace

Awaitable<infra::HttpResponse> RestApi::get_subscription(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  rate_limit("GET /api/subscriptions", client, headers);
  const std::string path(context.path());
  const std::string text = path.substr(path.rfind('/') + 1);
  std::uint64_t id = 0;
  const bool digits =
      !text.empty() && text.size() <= 10 &&
      std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
  if (digits)
    id = std::stoull(text);
  if (!digits || id == 0 || id > 0xffffffffULL) {
    throw bad_request("subscription id: invalid value \"" + text.substr(0, 40) +
                      "\" (expected a subscription id, an integer from 1 to 4294967295)");
  }
  if (!config_.chain.enabled || !hooks_.subscription) {
    throw HttpError(http::status::not_found,
                    {{"error", "Chain not enabled: this node does not serve subscriptions"}});
  }
  auto record = co_await hooks_.subscription(static_cast<std::uint32_t>(id));
  if (!record) {
    throw HttpError(http::status::not_found,
                    {{"error", "subscription " + text +
                                   " is not known to this node (not yet synced, or its id is "
                                   "beyond the chain's last subscription)"}});
  }
  co_return with_headers(json_response(context.request(), http::status::ok, *record), headers);
}

void RestApi::admit(const OffchainJobRequest& job, const ClientIdentity& client) const {
  if (auto rejection =
          guardian_.check_offchain(job.containers, job.requires_proof, client.address)) {
    throw rejection_error(*rejection);
  }
  if (!orchestrator_.has_capacity(job.containers)) {
    throw HttpError(http::status::service_unavailable,
                    {{"error", "the queue of a requested container is full; retry later"}},
                    {{"Retry-After", "1"}});
  }
}

Awaitable<std::string> RestApi::start_job(OffchainJobRequest job, const ClientIdentity& client) {
  containers::JobSpec spec;
  spec.id = new_job_id();
  spec.owner = client.key;
  spec.containers = std::move(job.containers);
  spec.data = std::move(job.data);
  spec.requires_proof = job.requires_proof;

  store::JobRecord record;
  record.id = spec.id;
  record.owner = spec.owner;
  record.status = store::JobStatus::kRunning;
  record.containers = spec.containers;
  // The job is durable as running before its first container call, so a crash cannot lose it.
  store::JobRecord stored = record;
  co_await store_.create(std::move(stored));
  recent_.put(record);

  std::string id = spec.id;
  asio::co_spawn(executor_, orchestrator_.run_offchain(std::move(spec)), asio::detached);
  co_return id;
}

void RestApi::job_finished(store::JobRecord record) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  record.expires_at_ms = now + static_cast<std::int64_t>(config_.store.result_ttl * 1000.0);
  std::string id = record.id;
  recent_.put(record);
  waiters_->notify(std::move(id));
}

Awaitable<std::vector<store::JobRecord>> RestApi::read_jobs(const std::string& owner,
                                                            const std::vector<std::string>& ids) {
  auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
                 .count();
  std::vector<std::optional<store::JobRecord>> cached;
  std::vector<std::string> missing;
  for (const auto& id : ids) {
    cached.push_back(recent_.find(owner, id, now));
    if (!cached.back())
      missing.push_back(id);
  }
  std::vector<store::JobRecord> from_store;
  if (!missing.empty()) {
    std::string owner_copy = owner;
    from_store = co_await store_.get(std::move(owner_copy), std::move(missing));
  }

  // Merge in request order; the `seen` set keeps each id at most once.
  std::vector<store::JobRecord> records;
  std::unordered_set<std::string> seen;
  std::size_t next_stored = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (!seen.insert(ids[i]).second)
      continue;
    if (cached[i]) {
      records.push_back(std::move(*cached[i]));
    } else if (next_stored < from_store.size() && from_store[next_stored].id == ids[i]) {
      records.push_back(std::move(from_store[next_stored++]));
    }
  }
  co_return records;
}

JobRequest RestApi::read_job_request(const infra::RequestContext& context, std::string_view route,
                                     const ClientIdentity& client, infra::HeaderList& headers) {
  rate_limit(route, client, headers);
  require_intake();
  require_json(context);
  auto request = parse_job_request(parse_body(context.request().body()));
  if (auto* invalid = std::get_if<InvalidRequest>(&request))
    throw bad_request(invalid->message);
  return std::get<JobRequest>(std::move(request));
}

Awaitable<infra::HttpResponse> RestApi::create_job(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  auto job_request = read_job_request(context, "POST /api/jobs", client, headers);
  if (std::holds_alternative<DelegatedSubscriptionRequest>(job_request)) {
    auto exact = parse_exact(context.request().body());
    auto [status, body] = co_await submit_delegated(std::move(exact));
    co_return with_headers(json_response(context.request(), status, body), headers);
  }
  auto& job = std::get<OffchainJobRequest>(job_request);
  admit(job, client);
  auto id = co_await start_job(std::move(job), client);
  co_return with_headers(json_response(context.request(), http::status::ok, {{"id", id}}), headers);
}

Awaitable<infra::HttpResponse> RestApi::create_batch(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  rate_limit("POST /api/jobs/batch", client, headers);
  require_intake();
  require_json(context);

  const auto items = parse_body(context.request().body());
  if (!items.is_array()) {
    throw bad_request("body: invalid value " + describe_value(items) +
                      " (expected a list of job requests)");
  }
  if (items.size() > kMaxBatchItems) {
    throw bad_request("body: " + std::to_string(items.size()) + " jobs in one batch; at most " +
                      std::to_string(kMaxBatchItems) + " are allowed, split the batch");
  }

  nlohmann::json results = nlohmann::json::array();
  nlohmann::json exact_items;
  for (std::size_t i = 0; i < items.size(); ++i) {
    auto request = parse_job_request(items[i], "[" + std::to_string(i) + "].");
    if (auto* invalid = std::get_if<InvalidRequest>(&request)) {
      results.push_back({{"error", invalid->message}});
      continue;
    }
    auto& job_request = std::get<JobRequest>(request);
    if (std::holds_alternative<DelegatedSubscriptionRequest>(job_request)) {
      if (exact_items.is_null())
        exact_items = parse_exact(context.request().body());
      auto item = exact_items[i];
      auto outcome = co_await submit_delegated(std::move(item));
      results.push_back(std::move(outcome.second));
      continue;
    }
    auto& job = std::get<OffchainJobRequest>(job_request);
    try {
      admit(job, client);
    } catch (const HttpError& error) {
      results.push_back(error.body());
      continue;
    }
    auto id = co_await start_job(std::move(job), client);
    results.push_back({{"id", id}});
  }
  co_return with_headers(json_response(context.request(), http::status::ok, results), headers);
}

Awaitable<infra::HttpResponse> RestApi::create_stream(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  auto job_request = read_job_request(context, "POST /api/jobs/stream", client, headers);
  if (std::holds_alternative<DelegatedSubscriptionRequest>(job_request)) {
    throw bad_request("Streaming only supported for OffchainJob requests.");
  }
  auto& job = std::get<OffchainJobRequest>(job_request);
  admit(job, client);

  containers::JobSpec spec;
  spec.id = new_job_id();
  spec.owner = client.key;
  spec.containers = job.containers;
  spec.data = std::move(job.data);
  spec.requires_proof = job.requires_proof;
  spec.destination = containers::JobLocation::kStream;
  store::JobRecord record{spec.id, spec.owner, store::JobStatus::kRunning, spec.containers};
  store::JobRecord stored = record;
  co_await store_.create(std::move(stored));
  recent_.put(record);

  bool started = false;
  auto begin = [&]() -> Awaitable<void> {
    http::response<http::empty_body> header{http::status::ok, context.request().version()};
    header.set(http::field::content_type, "text/plain; charset=utf-8");
    for (const auto& [name, value] : headers)
      header.set(name, value);
    co_await context.begin_stream(std::move(header));
    co_await context.write_chunk(spec.id + "\n");
    started = true;
  };
  containers::StreamSink sink = [&](std::string_view chunk) -> Awaitable<void> {
    if (!started)
      co_await begin();
    co_await context.write_chunk(chunk);
  };
  auto results = co_await orchestrator_.run_stream(spec, sink);
  const auto& last = results.back();

  if (last.error) {
    if (started) {
      // Bytes were already relayed: end the connection without the final chunk so the client
      // sees an incomplete stream. The error is on the job for GET /api/jobs.
      throw std::runtime_error(*last.error);
    }
    co_return with_headers(json_response(context.request(), http::status::bad_gateway,
                                         {{"error", *last.error}, {"id", spec.id}}),
                           headers);
  }
  if (!started)
    co_await begin();
  co_await context.end_stream();
  co_return infra::HttpResponse{};
}

Awaitable<infra::HttpResponse> RestApi::get_jobs(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  rate_limit("GET /api/jobs", client, headers);
  const auto& query = context.query();
  auto ids = query.get_all("id");

  if (ids.empty()) {
    auto pending = query.get("pending");
    auto filter = store::PendingFilter::kAll;
    if (pending == "true")
      filter = store::PendingFilter::kPendingOnly;
    if (pending == "false")
      filter = store::PendingFilter::kCompletedOnly;
    auto listed = co_await store_.list(client.key, filter, kMaxListedIds);
    co_return with_headers(json_response(context.request(), http::status::ok, listed), headers);
  }

  if (ids.size() > kMaxIdsPerQuery) {
    throw bad_request("id: " + std::to_string(ids.size()) + " ids in one query; at most " +
                      std::to_string(kMaxIdsPerQuery) + " are allowed");
  }
  long wait_ms = 0;
  if (auto wait = query.get("wait_ms")) {
    try {
      std::size_t used = 0;
      wait_ms = std::stol(*wait, &used);
      if (used != wait->size() || wait_ms < 0 || wait_ms > kMaxWaitMs)
        throw std::out_of_range("");
    } catch (const std::exception&) {
      throw bad_request("wait_ms: invalid value \"" + *wait +
                        "\" (expected milliseconds from 0 to " + std::to_string(kMaxWaitMs) + ")");
    }
  }
  bool intermediate = query.get("intermediate") == "true";

  auto deadline = Clock::now() + std::chrono::milliseconds(wait_ms);
  std::vector<store::JobRecord> records;
  for (;;) {
    records = co_await read_jobs(client.key, ids);
    std::vector<std::string> running;
    for (const auto& record : records) {
      if (record.status == store::JobStatus::kRunning)
        running.push_back(record.id);
    }
    if (running.empty() || Clock::now() >= deadline)
      break;
    co_await waiters_->wait_any(std::move(running), deadline);
  }

  nlohmann::json body = nlohmann::json::array();
  for (const auto& record : records)
    body.push_back(record.to_json(intermediate));
  co_return with_headers(json_response(context.request(), http::status::ok, body), headers);
}

Awaitable<infra::HttpResponse> RestApi::put_status(infra::RequestContext& context) {
  auto peer = normalise(context.peer());
  if (!peer.is_loopback() && !status_networks_.contains(peer)) {
    throw HttpError::message(http::status::forbidden, "Unauthorized");
  }
  const auto body = parse_body(context.request().body());
  if (!body.is_object()) {
    throw bad_request("body: invalid value " + describe_value(body) +
                      " (expected {\"id\", \"status\", \"containers\"})");
  }
  auto id = body.find("id");
  if (id == body.end() || !id->is_string()) {
    throw bad_request("id: missing or not a string (expected the job id)");
  }
  auto status_text = body.find("status");
  if (status_text == body.end() || !status_text->is_string()) {
    throw bad_request("status: missing or not a string (expected running, success or failed)");
  }
  auto status = store::parse_job_status(status_text->get<std::string>());
  if (!status)
    throw bad_request("Status is invalid");
  auto containers = body.find("containers");
  std::vector<std::string> ids;
  if (containers == body.end() || !containers->is_array()) {
    throw bad_request("containers: missing or not a list (expected a list of container ids)");
  }
  for (std::size_t i = 0; i < containers->size(); ++i) {
    if (!(*containers)[i].is_string()) {
      throw bad_request("containers[" + std::to_string(i) + "]: invalid value " +
                        describe_value((*containers)[i]) + " (expected a container id string)");
    }
    ids.push_back((*containers)[i].get<std::string>());
  }
  std::string job_id = id->get<std::string>();
  std::string owner = peer.to_string();
  co_await store_.put_status(std::move(owner), job_id, *status, std::move(ids));
  // The cached copy is stale now; readers go to the store for this job.
  recent_.erase(job_id);
  if (*status != store::JobStatus::kRunning)
    waiters_->notify(job_id);
  co_return json_response(context.request(), http::status::ok, nullptr);
}

Awaitable<infra::HttpResponse> RestApi::health(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  rate_limit("GET /health", client, headers);
  nlohmann::json checks = nlohmann::json::object();
  bool healthy = true;
  try {
    co_await store_.count_running();
    checks["store"] = {{"status", "ok"}};
  } catch (const std::exception& error) {
    logger()->warn("health check of the job store failed error={}", error.what());
    checks["store"] = {{"status", "failed"}, {"error", "job store not answering"}};
    healthy = false;
  }
  if (hooks_.health) {
    auto extra = co_await hooks_.health();
    for (auto& [name, check] : extra.items()) {
      if (check.value("status", "ok") != "ok")
        healthy = false;
      checks[name] = check;
    }
  }
  nlohmann::json body{{"status", healthy ? "healthy" : "unhealthy"}, {"checks", checks}};
  co_return with_headers(
      json_response(context.request(),
                    healthy ? http::status::ok : http::status::service_unavailable, body),
      headers);
}

Awaitable<infra::HttpResponse> RestApi::info(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  rate_limit("GET /info", client, headers);
  nlohmann::json containers = nlohmann::json::array();
  for (const auto& container : config_.containers) {
    if (hooks_.container_running && !hooks_.container_running(container.id))
      continue;
    containers.push_back({{"description", container.description},
                          {"external", container.external},
                          {"id", container.id},
                          {"image", container.image}});
  }
  auto pending = co_await store_.count_running();
  nlohmann::json body{
      {"chain", {{"address", ""}, {"enabled", config_.chain.enabled}}},
      {"containers", containers},
      {"pending", {{"offchain", pending}, {"onchain", 0}}},
      {"version", kCompatibleNodeVersion},
  };
  co_return with_headers(json_response(context.request(), http::status::ok, body), headers);
}

Awaitable<infra::HttpResponse> RestApi::resources(infra::RequestContext& context) {
  auto client = identify(context);
  infra::HeaderList headers;
  rate_limit("GET /resources", client, headers);
  auto model_id = context.query().get("model_id");

  nlohmann::json body = nlohmann::json::object();
  for (const auto& id : orchestrator_.container_ids()) {
    const auto* endpoint = orchestrator_.find(id);
    std::string path = "/service-resources";
    if (model_id) {
      std::string encoded;
      for (unsigned char c : *model_id) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
          encoded.push_back(static_cast<char>(c));
        } else {
          static constexpr char kDigits[] = "0123456789ABCDEF";
          encoded += {'%', kDigits[c >> 4], kDigits[c & 0x0f]};
        }
      }
      path += "?model_id=" + encoded;
    }
    try {
      // g++ 12 miscompiles temporaries built inside a co_await expression, so name them.
      infra::ClientRequest request;
      auto response = co_await client_.send(endpoint->base.with_path(path), std::move(request),
                                            Clock::now() + std::chrono::seconds(10));
      if (response.status_code >= 200 && response.status_code < 300 && response.is_json()) {
        auto parsed = nlohmann::json::parse(response.body, nullptr, false);
        if (!parsed.is_discarded())
          body[id] = std::move(parsed);
      }
    } catch (const infra::ClientError& error) {
      logger()->debug("service resources unavailable container={} error={}", id, error.what());
    }
  }
  co_return with_headers(json_response(context.request(), http::status::ok, body), headers);
}

Awaitable<infra::HttpResponse> RestApi::metrics(infra::RequestContext& context) {
  infra::HttpResponse response{http::status::ok, context.request().version()};
  response.set(http::field::content_type, "text/plain; version=0.0.4; charset=utf-8");
  response.body() = hooks_.metrics ? hooks_.metrics() : std::string{};
  response.keep_alive(context.request().keep_alive());
  response.prepare_payload();
  co_return response;
}

}  // namespace inferd::api
