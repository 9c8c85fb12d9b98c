#include "infra/config.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>
#include <set>
#include <sstream>

#include "infra/asio.hpp"
#include "infra/json_exact.hpp"

namespace inferd::infra {

using nlohmann::json;

namespace {

// Largest U256 value, 2^256 - 1, in decimal.
constexpr std::string_view kMaxU256 =
    "115792089237316195423570985008687907853269984665640564039457584007913129639935";

// ---------------------------------------------------------------------------------------------
// Turns nlohmann's "[json.exception.parse_error.101] parse error at line 1, column 2: syntax
// error while parsing value - invalid literal; last read: 'x'" into the part after the location.
std::string describe_parse_error(const std::string& what) {
  auto colon = what.find(": ", what.find("column"));
  std::string detail = colon == std::string::npos ? what : what.substr(colon + 2);
  // "last read" quotes the input, which may be part of a secret.
  auto last_read = detail.find("; last read");
  if (last_read != std::string::npos) {
    detail.erase(last_read);
  }
  return detail;
}

std::pair<std::size_t, std::size_t> line_and_column(std::string_view text, std::size_t position) {
  // nlohmann reports the number of characters read, so the offending one is at position - 1.
  std::size_t end = std::min(position == 0 ? 0 : position - 1, text.size());
  std::size_t line = 1;
  std::size_t column = 1;
  for (std::size_t i = 0; i < end; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

// ---------------------------------------------------------------------------------------------
// Messages.

bool is_secret_key(std::string_view path) {
  auto ends_with = [&](std::string_view suffix) {
    return path.size() >= suffix.size() && path.substr(path.size() - suffix.size()) == suffix;
  };
  return ends_with("private_key") || ends_with(".bearer") || ends_with("docker.password");
}

// Paths whose value is an object that contains a secret. A wrong-typed value there may be the
// secret itself (e.g. a private key written directly as "chain.wallet").
bool may_hold_secret(std::string_view path) {
  return path == "chain" || path == "chain.wallet" || path == "docker";
}

std::string render_value(const json& value, std::string_view path) {
  if (is_secret_key(path)) {
    return "<redacted>";
  }
  // Objects and arrays may contain secrets anywhere inside, so only their type is shown.
  if (value.is_object() || value.is_array()) {
    return std::string("<") + value.type_name() + ">";
  }
  if (may_hold_secret(path)) {
    return "<redacted>";
  }
  std::string text;
  if (value.is_binary()) {
    text.assign(value.get_binary().begin(), value.get_binary().end());
  } else {
    text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  constexpr std::size_t kMaxShown = 80;
  if (text.size() > kMaxShown) {
    text = text.substr(0, kMaxShown) + "...";
  }
  return text;
}

std::string type_name(const json& value) {
  if (value.is_binary()) {
    return "integer";
  }
  if (value.is_number_integer()) {
    return "integer";
  }
  if (value.is_number_float()) {
    return "number";
  }
  return value.type_name();
}

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    row[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t above = row[j];
      std::size_t cost = std::tolower(static_cast<unsigned char>(a[i - 1])) ==
                                 std::tolower(static_cast<unsigned char>(b[j - 1]))
                             ? 0
                             : 1;
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + cost});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// ---------------------------------------------------------------------------------------------
// Typed reading of one JSON object, with the key path of every value for messages.

class Context {
 public:
  explicit Context(std::string_view file_name) : file_(file_name) {}

  [[noreturn]] void invalid(const std::string& path, const json& value, std::string_view expected,
                            std::string_view fix) const {
    std::string message = file_ + ": " + path + ": invalid value " + render_value(value, path) +
                          " (expected " + std::string(expected) + ")";
    if (!fix.empty()) {
      message += "; " + std::string(fix);
    }
    throw ConfigError(message, path);
  }

  [[noreturn]] void missing(const std::string& path, std::string_view why,
                            std::string_view fix) const {
    throw ConfigError(
        file_ + ": " + path + ": missing (" + std::string(why) + "); " + std::string(fix), path);
  }

  [[noreturn]] void fail(const std::string& path, std::string_view message) const {
    throw ConfigError(file_ + ": " + (path.empty() ? "" : path + ": ") + std::string(message),
                      path);
  }

  void warn(std::string path, std::string_view message) {
    std::string text = file_ + ": " + path + ": " + std::string(message);
    warnings.push_back({std::move(path), std::move(text)});
  }

  const std::string& file() const { return file_; }

  std::vector<ConfigWarning> warnings;

 private:
  std::string file_;
};

class ObjectReader {
 public:
  ObjectReader(Context& context, const json& object, std::string path)
      : context_(context), object_(object), path_(std::move(path)) {}

  // Marks `key` as known and returns its value, or nullptr when absent. A JSON null counts as
  // absent only where the reference schema makes the key optional (`nullable`).
  const json* find(std::string_view key, bool nullable = false) {
    known_.emplace(key);
    auto it = object_.find(key);
    if (it == object_.end()) {
      return nullptr;
    }
    if (it->is_null() && nullable) {
      return nullptr;
    }
    return &*it;
  }

  std::string child(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }

  // Warns once for every key that no find() asked for, with the nearest known key.
  void warn_unknown_keys() {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      const std::string& key = it.key();
      if (known_.count(key) != 0) {
        continue;
      }
      std::string message = "unknown key, ignored";
      std::string suggestion = nearest_known(key);
      if (!suggestion.empty()) {
        message += "; did you mean " + child(suggestion) + "?";
      }
      context_.warn(child(key), message);
    }
  }

  Context& context() { return context_; }

 private:
  std::string nearest_known(const std::string& key) const {
    std::size_t limit = std::min<std::size_t>(3, std::max<std::size_t>(1, key.size() / 2));
    std::string best;
    std::size_t best_distance = limit + 1;
    for (const auto& candidate : known_) {
      std::size_t distance = edit_distance(key, candidate);
      if (distance < best_distance) {
        best_distance = distance;
        best = candidate;
      }
    }
    return best;
  }

  Context& context_;
  const json& object_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
};

// Integer in [min, max]. Like pydantic's lax mode it also accepts an integral float (3000.0)
// and a string of decimal digits ("3000"); booleans are rejected.
template <typename T>
void read_integer(ObjectReader& reader, std::string_view key, T& out, std::uint64_t min,
                  std::uint64_t max, std::string_view fix) {
  const json* value = reader.find(key);
  if (value == nullptr) {
    return;
  }
  std::string path = reader.child(key);
  std::string expected = "an integer " + std::to_string(min) + "-" + std::to_string(max);
  auto reject = [&]() { reader.context().invalid(path, *value, expected, fix); };

  std::uint64_t number = 0;
  if (value->is_number_unsigned()) {
    number = value->get<std::uint64_t>();
  } else if (value->is_number_integer()) {
    reject();  // negative, because non-negative integers parse as unsigned
  } else if (value->is_number_float()) {
    double d = value->get<double>();
    if (!std::isfinite(d) || d < 0 || d != std::floor(d) || d > 1.8e19) {
      reject();
    }
    number = static_cast<std::uint64_t>(d);
  } else if (value->is_string()) {
    std::string text = value->get<std::string>();
    std::size_t begin = text.find_first_not_of(" \t");
    std::size_t end = text.find_last_not_of(" \t");
    if (begin == std::string::npos) {
      reject();
    }
    text = text.substr(begin, end - begin + 1);
    if (text.size() > 1 && text[0] == '+') {
      text = text.substr(1);
    }
    if (text.empty() || text.size() > 19 ||
        !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      reject();
    }
    number = std::stoull(text);
  } else {
    reject();  // bool, null, object, array, or an integer beyond 64 bits
  }
  if (number < min || number > max) {
    reject();
  }
  out = static_cast<T>(number);
}

// Maximum duration any key accepts: ten years. Larger values overflow the clocks timers use.
constexpr double kMaxSeconds = 315360000.0;

// Number of seconds >= min and <= kMaxSeconds (int, float or numeric string).
void read_seconds(ObjectReader& reader, std::string_view key, double& out, double min,
                  bool allow_equal_min, std::string_view fix) {
  const json* value = reader.find(key);
  if (value == nullptr) {
    return;
  }
  std::string path = reader.child(key);
  std::string expected = std::string("a number of seconds ") + (allow_equal_min ? ">= " : "> ") +
                         (min == 0 ? "0" : std::to_string(min)) + " and <= 315360000 (ten years)";
  auto reject = [&]() { reader.context().invalid(path, *value, expected, fix); };

  double number = 0;
  if (value->is_number() && !value->is_binary()) {
    number = value->get<double>();
  } else if (value->is_string()) {
    const std::string& text = value->get_ref<const std::string&>();
    char* end = nullptr;
    number = std::strtod(text.c_str(), &end);
    if (text.empty() || end == nullptr || *end != '\0') {
      reject();
    }
  } else {
    reject();
  }
  if (!std::isfinite(number) || number < min || (!allow_equal_min && number == min) ||
      number > kMaxSeconds) {
    reject();
  }
  out = number;
}

// Boolean; like pydantic's lax mode also 0/1 and the strings true/false, yes/no, on/off, 1/0.
void read_bool(ObjectReader& reader, std::string_view key, bool& out, std::string_view fix) {
  const json* value = reader.find(key);
  if (value == nullptr) {
    return;
  }
  if (value->is_boolean()) {
    out = value->get<bool>();
    return;
  }
  if (value->is_number_unsigned() && value->get<std::uint64_t>() <= 1) {
    out = value->get<std::uint64_t>() == 1;
    return;
  }
  if (value->is_string()) {
    std::string text = value->get<std::string>();
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    static const std::set<std::string, std::less<>> kTrue = {"true", "yes", "on", "1", "t", "y"};
    static const std::set<std::string, std::less<>> kFalse = {"false", "no", "off", "0", "f", "n"};
    if (kTrue.count(text) != 0) {
      out = true;
      return;
    }
    if (kFalse.count(text) != 0) {
      out = false;
      return;
    }
  }
  reader.context().invalid(reader.child(key), *value, "true or false", fix);
}

void read_string(ObjectReader& reader, std::string_view key, std::string& out,
                 std::string_view fix) {
  const json* value = reader.find(key);
  if (value == nullptr) {
    return;
  }
  if (!value->is_string()) {
    reader.context().invalid(reader.child(key), *value, "a string", fix);
  }
  out = value->get<std::string>();
}

void read_optional_string(ObjectReader& reader, std::string_view key,
                          std::optional<std::string>& out, std::string_view fix) {
  const json* value = reader.find(key, /*nullable=*/true);
  if (value == nullptr) {
    return;
  }
  if (!value->is_string()) {
    reader.context().invalid(reader.child(key), *value, "a string", fix);
  }
  out = value->get<std::string>();
}

void read_string_list(ObjectReader& reader, std::string_view key, std::vector<std::string>& out,
                      std::string_view fix) {
  const json* value = reader.find(key);
  if (value == nullptr) {
    return;
  }
  std::string path = reader.child(key);
  if (!value->is_array()) {
    reader.context().invalid(path, *value, "a list of strings", fix);
  }
  out.clear();
  for (std::size_t i = 0; i < value->size(); ++i) {
    const json& item = (*value)[i];
    if (!item.is_string()) {
      reader.context().invalid(path + "[" + std::to_string(i) + "]", item, "a string", fix);
    }
    out.push_back(item.get<std::string>());
  }
}

// Returns the object at `key`, or nullptr when absent (or null and `nullable`).
const json* find_object(ObjectReader& reader, std::string_view key, bool nullable,
                        std::string_view fix) {
  const json* value = reader.find(key, nullable);
  if (value != nullptr && !value->is_object()) {
    reader.context().invalid(reader.child(key), *value, "a JSON object", fix);
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Format checks.

bool is_hex_address(std::string_view text) {
  if (text.size() != 42 || text[0] != '0' || (text[1] != 'x' && text[1] != 'X')) {
    return false;
  }
  return std::all_of(text.begin() + 2, text.end(),
                     [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; });
}

bool is_private_key(std::string_view text) {
  if (text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
    text.remove_prefix(2);
  }
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) != 0;
         });
}

bool is_http_url(std::string_view text) {
  std::string_view rest;
  if (text.substr(0, 7) == "http://") {
    rest = text.substr(7);
  } else if (text.substr(0, 8) == "https://") {
    rest = text.substr(8);
  } else {
    return false;
  }
  std::string_view host = rest.substr(0, rest.find_first_of("/?#"));
  return !host.empty() && host.find(' ') == std::string_view::npos;
}

// An IP address or a CIDR network ("10.0.0.0/8", "::1", "192.168.1.7"). Host bits may be set,
// as Python's ip_network(strict=False) allows.
bool is_ip_network(std::string_view text) {
  std::string_view address_text = text;
  std::optional<unsigned> prefix;
  auto slash = text.find('/');
  if (slash != std::string_view::npos) {
    address_text = text.substr(0, slash);
    std::string_view digits = text.substr(slash + 1);
    if (digits.empty() || digits.size() > 3 ||
        !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return false;
    }
    prefix = static_cast<unsigned>(std::stoul(std::string(digits)));
  }
  boost::system::error_code error;
  auto address = asio::ip::make_address(std::string(address_text), error);
  if (error) {
    return false;
  }
  unsigned max_prefix = address.is_v4() ? 32 : 128;
  return !prefix || *prefix <= max_prefix;
}

// Docker's container-name rule: [a-zA-Z0-9][a-zA-Z0-9_.-]*.
bool is_docker_name(std::string_view text) {
  if (text.empty() || std::isalnum(static_cast<unsigned char>(text[0])) == 0) {
    return false;
  }
  return std::all_of(text.begin(), text.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.' || c == '-';
  });
}

void check_networks(Context& context, const std::vector<std::string>& networks,
                    const std::string& path, std::string_view fix) {
  for (std::size_t i = 0; i < networks.size(); ++i) {
    if (!is_ip_network(networks[i])) {
      context.invalid(path + "[" + std::to_string(i) + "]", networks[i],
                      "an IP address or CIDR network such as 10.0.0.0/8", fix);
    }
  }
}

// Canonical decimal string of a token amount 0 .. 2^256-1; std::nullopt when `value` is not one.
std::optional<std::string> read_amount(const json& value) {
  std::string digits;
  if (value.is_number_unsigned()) {
    digits = std::to_string(value.get<std::uint64_t>());
  } else if (value.is_binary()) {
    digits.assign(value.get_binary().begin(), value.get_binary().end());
  } else if (value.is_string()) {
    digits = value.get<std::string>();
  } else {
    return std::nullopt;
  }
  if (digits.empty() ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  digits.erase(0, std::min(digits.find_first_not_of('0'), digits.size() - 1));
  if (digits.size() > kMaxU256.size() || (digits.size() == kMaxU256.size() && digits > kMaxU256)) {
    return std::nullopt;
  }
  return digits;
}

// ---------------------------------------------------------------------------------------------
// One reader per JSON object of the schema.

void read_log(ObjectReader& root, LogConfig& log) {
  const json* object = find_object(root, "log", false,
                                   "make log an object with path, "
                                   "max_file_size and backup_count");
  if (object == nullptr) {
    return;
  }
  ObjectReader reader(root.context(), *object, "log");
  read_string(reader, "path", log.path, "set it to the log file path");
  read_integer(reader, "max_file_size", log.max_file_size, 1,
               std::numeric_limits<std::int64_t>::max(),
               "set it to the size in bytes at which the log file rotates");
  read_integer(reader, "backup_count", log.backup_count, 0, 1000,
               "set it to the number of rotated log files to keep");
  reader.warn_unknown_keys();
}

void read_server(ObjectReader& root, ServerConfig& server) {
  const json* object = find_object(root, "server", false, "make server an object");
  if (object == nullptr) {
    return;
  }
  ObjectReader reader(root.context(), *object, "server");
  read_integer(reader, "port", server.port, 1, 65535,
               "set it to the TCP port the REST API listens on");

  if (const json* limit = find_object(reader, "rate_limit", false,
                                      "make it an object with num_requests and period")) {
    ObjectReader limit_reader(root.context(), *limit, "server.rate_limit");
    read_integer(limit_reader, "num_requests", server.rate_limit.num_requests, 1,
                 std::numeric_limits<std::uint32_t>::max(),
                 "set it to the number of requests a client may make per period");
    read_seconds(limit_reader, "period", server.rate_limit.period, 0, false,
                 "set it to the rate-limit period in seconds");
    limit_reader.warn_unknown_keys();
  }

  read_string(reader, "bind_address", server.bind_address,
              "set it to the IP address the REST API binds to, e.g. 127.0.0.1 or 0.0.0.0");
  if (!is_ip_network(server.bind_address) || server.bind_address.find('/') != std::string::npos) {
    root.context().invalid("server.bind_address", server.bind_address, "an IP address",
                           "set it to e.g. 127.0.0.1 (loopback only) or 0.0.0.0 (every interface)");
  }
  read_integer(reader, "max_body_bytes", server.max_body_bytes, 1,
               std::numeric_limits<std::uint32_t>::max(),
               "set it to the largest request body in bytes the REST API accepts");
  read_string_list(reader, "trusted_proxies", server.trusted_proxies,
                   "list the IPs or CIDRs of reverse proxies whose X-Forwarded-For is honoured");
  check_networks(root.context(), server.trusted_proxies, "server.trusted_proxies",
                 "list the IPs or CIDRs of reverse proxies whose X-Forwarded-For is honoured");
  read_string_list(reader, "status_networks", server.status_networks,
                   "list the IPs or CIDRs allowed to call PUT /api/status");
  check_networks(root.context(), server.status_networks, "server.status_networks",
                 "list the IPs or CIDRs allowed to call PUT /api/status");
  read_seconds(reader, "shutdown_grace", server.shutdown_grace, 0, true,
               "set it to the seconds in-flight jobs get to finish at shutdown");
  reader.warn_unknown_keys();
}

void read_wallet(ObjectReader& chain_reader, std::optional<WalletConfig>& wallet) {
  const json* object = find_object(chain_reader, "wallet", true,
                                   "make it an object with private_key and max_gas_limit");
  if (object == nullptr) {
    return;
  }
  wallet.emplace();
  ObjectReader reader(chain_reader.context(), *object, "chain.wallet");
  read_integer(reader, "max_gas_limit", wallet->max_gas_limit, 21000,
               std::numeric_limits<std::int64_t>::max(),
               "set it to the gas limit used when a simulation error is allowed");
  read_optional_string(reader, "private_key", wallet->private_key,
                       "set it to the node's 32-byte private key in hex");
  read_optional_string(reader, "payment_address", wallet->payment_address,
                       "set it to the address of the node's payment wallet contract");
  read_string_list(reader, "allowed_sim_errors", wallet->allowed_sim_errors,
                   "list substrings of simulation errors to ignore");
  read_optional_string(reader, "private_key_env", wallet->private_key_env,
                       "set it to the name of the environment variable holding the key");
  read_optional_string(reader, "keystore", wallet->keystore,
                       "set it to the path of an Ethereum V3 keystore file");
  read_optional_string(reader, "password_file", wallet->password_file,
                       "set it to the file holding the keystore's password");
  reader.warn_unknown_keys();
}

void read_chain(ObjectReader& root, ChainConfig& chain) {
  const json* object = find_object(root, "chain", false, "make chain an object");
  if (object == nullptr) {
    return;
  }
  ObjectReader reader(root.context(), *object, "chain");
  read_bool(reader, "enabled", chain.enabled, "set it to true or false");
  read_optional_string(reader, "rpc_url", chain.rpc_url,
                       "set it to the HTTP URL of an RPC node of the chain");
  read_integer(reader, "trail_head_blocks", chain.trail_head_blocks, 0, 100000,
               "set it to how many blocks behind the head the node works");
  read_optional_string(reader, "registry_address", chain.registry_address,
                       "set it to the address of the Infernet Registry contract");
  read_wallet(reader, chain.wallet);

  if (const json* sync = find_object(reader, "snapshot_sync", false,
                                     "make it an object with sleep, batch_size, "
                                     "starting_sub_id and sync_period")) {
    ObjectReader sync_reader(root.context(), *sync, "chain.snapshot_sync");
    SnapshotSyncConfig& s = chain.snapshot_sync;
    read_seconds(sync_reader, "sleep", s.sleep, 0, true,
                 "set it to the seconds to pause between sync batches");
    read_integer(sync_reader, "batch_size", s.batch_size, 1, 1000000,
                 "set it to the number of subscriptions read per batch");
    read_integer(sync_reader, "starting_sub_id", s.starting_sub_id, 0,
                 std::numeric_limits<std::uint64_t>::max(),
                 "set it to the subscription id after which sync starts, or 0");
    read_seconds(sync_reader, "sync_period", s.sync_period, 0, false,
                 "set it to the seconds between polls for a new block");
    sync_reader.warn_unknown_keys();
  }

  if (const json* id = reader.find("chain_id", true); id != nullptr) {
    std::uint64_t chain_id = 0;
    read_integer(reader, "chain_id", chain_id, 1, std::numeric_limits<std::int64_t>::max(),
                 "set it to the chain id eth_chainId returns, e.g. 31337 for anvil, or remove it");
    chain.chain_id = chain_id;
  }
  read_optional_string(reader, "rpc_ca_file", chain.rpc_ca_file,
                       "set it to a PEM file of CA certificates for an https rpc_url");
  read_integer(reader, "min_balance_deliveries", chain.min_balance_deliveries, 0, 1000000,
               "set it to the number of deliveries the node balance should cover, or 0");
  read_integer(reader, "max_delivery_attempts", chain.max_delivery_attempts, 1, 100,
               "set it to the failed attempts after which an interval is given up");
  reader.warn_unknown_keys();
}

void read_docker(ObjectReader& root, std::optional<DockerConfig>& docker) {
  const json* object =
      find_object(root, "docker", true, "make docker an object with username and password");
  if (object == nullptr) {
    return;
  }
  docker.emplace();
  ObjectReader reader(root.context(), *object, "docker");
  if (reader.find("username") == nullptr) {
    root.context().missing("docker.username", "required when docker is set",
                           "set the image registry user name, or remove docker");
  }
  read_string(reader, "username", docker->username, "set it to the image registry user name");
  if (reader.find("password") == nullptr) {
    root.context().missing("docker.password", "required when docker is set",
                           "set the image registry password or token, or remove docker");
  }
  read_string(reader, "password", docker->password,
              "set it to the image registry password or token");
  reader.warn_unknown_keys();
}

void read_redis(ObjectReader& root, RedisConfig& redis) {
  const json* object = find_object(root, "redis", false, "make redis an object with host and port");
  if (object == nullptr) {
    return;
  }
  ObjectReader reader(root.context(), *object, "redis");
  read_string(reader, "host", redis.host, "set it to the Redis server's host name or IP");
  read_integer(reader, "port", redis.port, 1, 65535, "set it to the Redis server's TCP port");
  reader.warn_unknown_keys();
}

void read_store(ObjectReader& root, StoreConfig& store) {
  const json* object = find_object(root, "store", false,
                                   "make store an object with backend, data_dir and "
                                   "result_ttl");
  if (object == nullptr) {
    return;
  }
  ObjectReader reader(root.context(), *object, "store");
  read_string(reader, "backend", store.backend, "set it to \"sqlite\" or \"redis\"");
  if (store.backend != "sqlite" && store.backend != "redis") {
    root.context().invalid("store.backend", store.backend, "\"sqlite\" or \"redis\"",
                           "use sqlite for one node, redis to share jobs between nodes");
  }
  read_string(reader, "data_dir", store.data_dir,
              "set it to the directory that holds the SQLite database");
  if (store.data_dir.empty()) {
    root.context().invalid("store.data_dir", store.data_dir, "a directory path",
                           "set it to the directory that holds the SQLite database, e.g. data");
  }
  read_seconds(reader, "result_ttl", store.result_ttl, 0, false,
               "set it to the seconds a completed job is kept");
  reader.warn_unknown_keys();
}

void read_accepted_payments(ObjectReader& reader, const std::string& container_path,
                            std::map<std::string, std::string>& out) {
  const json* object = find_object(reader, "accepted_payments", false,
                                   "map token addresses to minimum amounts, e.g. "
                                   "{\"0x0000000000000000000000000000000000000000\": 1000}");
  if (object == nullptr) {
    return;
  }
  for (auto it = object->begin(); it != object->end(); ++it) {
    std::string path = container_path + ".accepted_payments." + it.key();
    if (!is_hex_address(it.key())) {
      reader.context().invalid(path, it.key(), "a token address: 0x and 40 hex digits",
                               "use the token contract's address, or the zero address for ETH");
    }
    std::optional<std::string> amount = read_amount(it.value());
    if (!amount) {
      reader.context().invalid(path, it.value(), "an integer amount 0 to 2^256-1",
                               "set it to the minimum amount in the token's smallest unit");
    }
    out[it.key()] = *amount;
  }
}

void check_addresses(Context& context, const std::vector<std::string>& addresses,
                     const std::string& path) {
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (!is_hex_address(addresses[i])) {
      context.invalid(path + "[" + std::to_string(i) + "]", addresses[i],
                      "an address: 0x and 40 hex digits", "fix or remove the address");
    }
  }
}

ContainerConfig read_container(Context& context, const json& object, const std::string& path) {
  if (!object.is_object()) {
    context.invalid(path, object, "a JSON object",
                    "describe each container as an object with at least id");
  }
  ContainerConfig container;
  ObjectReader reader(context, object, path);

  if (reader.find("id") == nullptr) {
    context.missing(path + ".id", "every container needs an id",
                    "set it to the name used in job requests, e.g. \"hello\"");
  }
  read_string(reader, "id", container.id, "set it to the name used in job requests");
  if (container.id.empty()) {
    context.invalid(path + ".id", container.id, "a non-empty string",
                    "set it to the name used in job requests, e.g. \"hello\"");
  }
  read_string(reader, "image", container.image, "set it to the Docker image reference");
  read_string(reader, "url", container.url, "set it to the service's base URL, or remove it");
  if (!container.url.empty() && !is_http_url(container.url)) {
    context.invalid(path + ".url", container.url, "an http:// or https:// URL",
                    "set it to the service's base URL, e.g. http://10.0.0.5:3000");
  }
  read_string(reader, "bearer", container.bearer,
              "set it to the token sent as Authorization: Bearer");
  if (reader.find("port") != nullptr) {
    container.port_explicit = true;
  }
  read_integer(reader, "port", container.configured_port, 1, 65535,
               "set it to the host port the container listens on");
  container.port = container.configured_port;
  read_bool(reader, "external", container.external, "set it to true or false");
  read_bool(reader, "gpu", container.gpu, "set it to true or false");
  read_accepted_payments(reader, path, container.accepted_payments);
  read_string_list(reader, "allowed_ips", container.allowed_ips,
                   "list the IPs or CIDRs allowed to request this container");
  check_networks(context, container.allowed_ips, path + ".allowed_ips",
                 "list the IPs or CIDRs allowed to request this container");
  read_string_list(reader, "allowed_addresses", container.allowed_addresses,
                   "list the subscription owner addresses allowed");
  check_addresses(context, container.allowed_addresses, path + ".allowed_addresses");
  read_string_list(reader, "allowed_delegate_addresses", container.allowed_delegate_addresses,
                   "list the delegated subscription owner addresses allowed");
  check_addresses(context, container.allowed_delegate_addresses,
                  path + ".allowed_delegate_addresses");
  read_string(reader, "description", container.description, "set it to a short description");
  read_string(reader, "command", container.command, "set it to the container's command line");
  if (const json* env = find_object(reader, "env", false,
                                    "make env an object of environment variable names to values")) {
    container.env = *env;
  }
  read_bool(reader, "generates_proofs", container.generates_proofs, "set it to true or false");
  read_string_list(reader, "volumes", container.volumes,
                   "list volumes as \"host_path:container_path[:mode]\"");

  read_seconds(reader, "timeout", container.timeout, 0, false,
               "set it to the seconds one container call may take");
  read_seconds(reader, "stream_timeout", container.stream_timeout, 0, false,
               "set it to the seconds a streamed reply may take");
  read_integer(reader, "max_concurrency", container.max_concurrency, 1, 1000000,
               "set it to the number of calls this container handles at once");
  read_integer(reader, "queue_size", container.queue_size, 0, 100000000,
               "set it to the number of calls that may wait for a free slot");
  read_string(reader, "readiness_path", container.readiness_path,
              "set it to the HTTP path probed for readiness, e.g. /");
  if (container.readiness_path.empty() || container.readiness_path[0] != '/') {
    context.invalid(path + ".readiness_path", container.readiness_path, "a path starting with /",
                    "set it to the HTTP path probed for readiness, e.g. /");
  }
  reader.warn_unknown_keys();
  return container;
}

void read_containers(ObjectReader& root, std::vector<ContainerConfig>& containers) {
  const json* list = root.find("containers");
  if (list == nullptr) {
    return;
  }
  if (!list->is_array()) {
    root.context().invalid("containers", *list, "a list of container objects",
                           "make containers a JSON list");
  }
  for (std::size_t i = 0; i < list->size(); ++i) {
    containers.push_back(
        read_container(root.context(), (*list)[i], "containers[" + std::to_string(i) + "]"));
  }
}

// ---------------------------------------------------------------------------------------------
// Checks across keys, in a fixed order; the first failing one throws.

void check_chain(Context& context, const ChainConfig& chain) {
  if (!chain.enabled) {
    return;
  }

  // The four required keys first, in the reference node's order, then their formats.
  if (!chain.rpc_url) {
    context.missing("chain.rpc_url", "rpc_url must be defined when chain is enabled",
                    "set it to the HTTP URL of an RPC node, or set chain.enabled to false");
  }

  if (!chain.registry_address) {
    context.missing("chain.registry_address",
                    "registry_address must be defined when chain is enabled",
                    "set it to the address of the Infernet Registry contract");
  }

  if (!chain.wallet) {
    context.missing("chain.wallet", "wallet must be defined when chain is enabled",
                    "add a wallet object with the node's private_key");
  }

  const auto& wallet = *chain.wallet;
  const bool from_env = wallet.private_key_env && !wallet.private_key_env->empty();
  const bool from_keystore = wallet.keystore && !wallet.keystore->empty();
  const int sources = (wallet.private_key ? 1 : 0) + (from_env ? 1 : 0) + (from_keystore ? 1 : 0);
  if (sources == 0) {
    context.missing("chain.wallet.private_key", "private_key must be defined when chain is enabled",
                    "set it to the node's 32-byte private key in hex, or name the key's "
                    "environment variable in private_key_env, or set keystore and password_file");
  }
  if (sources > 1) {
    // Named at the second source; its value is a variable name or a path, not a secret.
    const bool env_second = from_env && wallet.private_key;
    context.invalid(env_second ? "chain.wallet.private_key_env" : "chain.wallet.keystore",
                    json(env_second ? *wallet.private_key_env : *wallet.keystore),
                    "one key source only", "keep one of private_key, private_key_env and keystore");
  }
  if (from_keystore && (!wallet.password_file || wallet.password_file->empty())) {
    context.missing("chain.wallet.password_file", "password_file must be set with keystore",
                    "set it to the file holding the keystore's password");
  }

  if (!is_http_url(*chain.rpc_url)) {
    context.invalid("chain.rpc_url", *chain.rpc_url, "an http:// or https:// URL",
                    "set it to the HTTP URL of an RPC node, e.g. http://127.0.0.1:8545");
  }

  if (!is_hex_address(*chain.registry_address)) {
    context.invalid("chain.registry_address", *chain.registry_address,
                    "an address: 0x and 40 hex digits",
                    "set it to the address of the Infernet Registry contract");
  }

  if (chain.wallet->private_key && !is_private_key(*chain.wallet->private_key)) {
    context.invalid("chain.wallet.private_key", json(*chain.wallet->private_key),
                    "64 hex digits, optionally prefixed with 0x",
                    "set it to the node's 32-byte private key in hex");
  }

  const auto& payment = chain.wallet->payment_address;
  if (payment && !payment->empty() && !is_hex_address(*payment)) {
    context.invalid("chain.wallet.payment_address", *payment, "an address: 0x and 40 hex digits",
                    "set it to the node's payment wallet contract, or remove it");
  }
}

void check_containers(Context& context, const NodeConfig& config) {
  std::map<std::string, std::size_t> first_index;
  for (std::size_t i = 0; i < config.containers.size(); ++i) {
    const ContainerConfig& container = config.containers[i];
    std::string path = "containers[" + std::to_string(i) + "]";

    auto [it, inserted] = first_index.emplace(container.id, i);
    if (!inserted) {
      context.fail(path + ".id", "duplicate id \"" + container.id + "\" (also containers[" +
                                     std::to_string(it->second) +
                                     "]); give every container a unique id");
    }

    if (config.manage_containers && container.image.empty()) {
      context.missing(path + ".image",
                      "image must be defined when manage_containers is set to true",
                      "set it to the Docker image to run, or set manage_containers to false");
    }

    if (config.manage_containers && !is_docker_name(container.id)) {
      context.invalid(path + ".id", container.id,
                      "a Docker container name: letters, digits, _ . - and a letter or digit "
                      "first",
                      "rename the container, because managed containers are named by id");
    }

    if (config.manage_containers && (!container.url.empty() || !container.bearer.empty())) {
      context.warn(path,
                   "url and bearer are meant for containers the node does not manage; "
                   "calls still go to url when it is set");
    }
  }
}

}  // namespace

std::filesystem::path choose_config_path(const std::optional<std::string>& explicit_path) {
  if (explicit_path && !explicit_path->empty()) {
    return *explicit_path;
  }
  const char* from_env = std::getenv("INFERNET_CONFIG_PATH");
  if (from_env != nullptr && *from_env != '\0') {
    return from_env;
  }
  return "config.json";
}

std::vector<ConfigWarning> assign_ports(std::vector<ContainerConfig>& containers,
                                        std::string_view file_name) {
  constexpr std::uint16_t kHighestFallbackPort = 3999;
  std::set<std::uint16_t> taken;
  std::vector<ConfigWarning> warnings;
  for (std::size_t i = 0; i < containers.size(); ++i) {
    ContainerConfig& container = containers[i];
    std::uint16_t port = container.configured_port;
    if (taken.count(port) != 0) {
      std::uint16_t candidate = kHighestFallbackPort;
      while (candidate > 0 && taken.count(candidate) != 0) {
        --candidate;
      }
      if (candidate == 0) {
        throw ConfigError(std::string(file_name) + ": containers[" + std::to_string(i) +
                              "].port: no free port left below 4000; set distinct ports",
                          "containers[" + std::to_string(i) + "].port");
      }
      port = candidate;
      if (container.port_explicit) {
        std::string path = "containers[" + std::to_string(i) + "].port";
        warnings.push_back({path, std::string(file_name) + ": " + path + ": port " +
                                      std::to_string(container.configured_port) +
                                      " is already used by an earlier container; assigned " +
                                      std::to_string(port) + " instead"});
      }
    }
    container.port = port;
    taken.insert(port);
  }
  return warnings;
}

NodeConfig parse_config(std::string_view text, std::string_view file_name) {
  Context context(file_name);

  ExactJsonBuilder builder;
  bool parsed = json::sax_parse(text.begin(), text.end(), &builder);
  if (!parsed) {
    auto [line, column] = line_and_column(text, builder.error_position);
    context.fail("", "invalid JSON at line " + std::to_string(line) + ", column " +
                         std::to_string(column) + ": " + describe_parse_error(builder.error_text) +
                         "; fix the syntax there");
  }
  const json& root = builder.root;
  if (!root.is_object()) {
    context.fail("", "invalid value: the file holds " + type_name(root) +
                         " but must hold one JSON object; wrap the keys in { }");
  }

  NodeConfig config;
  ObjectReader reader(context, root, "");
  read_log(reader, config.log);
  read_bool(reader, "manage_containers", config.manage_containers, "set it to true or false");
  read_server(reader, config.server);
  read_chain(reader, config.chain);
  read_docker(reader, config.docker);
  read_redis(reader, config.redis);
  read_bool(reader, "forward_stats", config.forward_stats, "set it to true or false");
  read_seconds(reader, "startup_wait", config.startup_wait, 0, true,
               "set it to the seconds to wait after starting containers");
  read_containers(reader, config.containers);
  read_store(reader, config.store);
  reader.warn_unknown_keys();

  check_chain(context, config.chain);
  check_containers(context, config);

  auto port_warnings = assign_ports(config.containers, file_name);
  config.warnings = std::move(context.warnings);
  config.warnings.insert(config.warnings.end(), port_warnings.begin(), port_warnings.end());
  return config;
}

NodeConfig load_config(const std::filesystem::path& path) {
  std::string shown = path.string();
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    std::error_code error;
    bool exists = std::filesystem::exists(path, error);
    throw ConfigError(shown + ": cannot read the config file (" +
                          (exists ? "permission denied" : "no such file") +
                          "); pass --config FILE or set INFERNET_CONFIG_PATH, e.g. "
                          "deploy/config.hello.json",
                      "");
  }
  std::ostringstream content;
  content << file.rdbuf();

  NodeConfig config = parse_config(content.str(), shown);
  std::error_code error;
  config.source_path = std::filesystem::absolute(path, error);
  if (error) {
    config.source_path = path;
  }
  config.source_path = config.source_path.lexically_normal();
  return config;
}

}  // namespace inferd::infra
