// Admission rules for off-chain jobs, in the reference node's order and with its messages.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "infra/asio.hpp"
#include "infra/config.hpp"

namespace inferd::api {

/// A set of IPv4/IPv6 networks; a bare address is a network of one host.
class NetworkList {
 public:
  /// Parses IPs and CIDRs. Throws std::invalid_argument naming the entry that is invalid.
  static NetworkList parse(const std::vector<std::string>& entries);

  bool empty() const { return v4_.empty() && v6_.empty(); }
  bool contains(const asio::ip::address& address) const;

 private:
  std::vector<asio::ip::network_v4> v4_;
  std::vector<asio::ip::network_v6> v6_;
};

/// Why the guardian rejected a request: the reference message and its params.
struct Rejection {
  enum class Kind { kForbidden, kUnknownContainer };
  Kind kind = Kind::kForbidden;
  std::string error;
  nlohmann::json params = nlohmann::json::object();
};

/// Per-container restrictions built once from the config. Thread-safe after construction.
class Guardian {
 public:
  explicit Guardian(const std::vector<infra::ContainerConfig>& containers);

  /// Checks an off-chain job. Rules, in order: containers given; every container configured;
  /// the first one external; a proof only from a last container that generates proofs; the
  /// client address allowed by every container's `allowed_ips`.
  std::optional<Rejection> check_offchain(const std::vector<std::string>& containers,
                                          bool requires_proof,
                                          const asio::ip::address& client) const;

 private:
  struct Restrictions {
    bool external = true;
    bool generates_proofs = false;
    NetworkList allowed_ips;
  };
  std::map<std::string, Restrictions, std::less<>> containers_;
};

}  // namespace inferd::api
