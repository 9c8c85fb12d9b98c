#include "api/guardian.hpp"

#include <stdexcept>

namespace inferd::api {

NetworkList NetworkList::parse(const std::vector<std::string>& entries) {
  NetworkList list;
  for (const auto& entry : entries) {
    boost::system::error_code ec;
    auto slash = entry.find('/');
    std::string address_text = entry.substr(0, slash);
    auto address = asio::ip::make_address(address_text, ec);
    if (ec) {
      throw std::invalid_argument("invalid IP address or network \"" + entry +
                                  "\"; write it as 10.0.0.1 or 10.0.0.0/8");
    }
    unsigned prefix = address.is_v4() ? 32 : 128;
    if (slash != std::string::npos) {
      std::string prefix_text = entry.substr(slash + 1);
      bool digits = !prefix_text.empty() && prefix_text.size() <= 3 &&
                    prefix_text.find_first_not_of("0123456789") == std::string::npos;
      if (!digits || std::stoul(prefix_text) > prefix) {
        throw std::invalid_argument("invalid network prefix in \"" + entry + "\"; use /0 to /" +
                                    std::to_string(prefix));
      }
      prefix = static_cast<unsigned>(std::stoul(prefix_text));
    }
    // Like Python's ip_network(strict=False): host bits are cleared.
    if (address.is_v4()) {
      list.v4_.push_back(asio::ip::network_v4(address.to_v4(), prefix).canonical());
    } else {
      list.v6_.push_back(asio::ip::network_v6(address.to_v6(), prefix).canonical());
    }
  }
  return list;
}

bool NetworkList::contains(const asio::ip::address& address) const {
  if (address.is_v4()) {
    for (const auto& network : v4_) {
      auto host = asio::ip::network_v4(address.to_v4(), network.prefix_length()).canonical();
      if (host == network)
        return true;
    }
    return false;
  }
  auto v6 = address.to_v6();
  if (v6.is_v4_mapped())
    return contains(asio::ip::make_address_v4(asio::ip::v4_mapped, v6));
  for (const auto& network : v6_) {
    auto host = asio::ip::network_v6(v6, network.prefix_length()).canonical();
    if (host == network)
      return true;
  }
  return false;
}

Guardian::Guardian(const std::vector<infra::ContainerConfig>& containers) {
  for (const auto& container : containers) {
    containers_[container.id] = Restrictions{container.external, container.generates_proofs,
                                             NetworkList::parse(container.allowed_ips)};
  }
}

std::optional<Rejection> Guardian::check_offchain(const std::vector<std::string>& containers,
                                                  bool requires_proof,
                                                  const asio::ip::address& client) const {
  if (containers.empty()) {
    return Rejection{Rejection::Kind::kForbidden, "No containers specified",
                     nlohmann::json::object()};
  }

  for (const auto& id : containers) {
    if (containers_.find(id) == containers_.end()) {
      return Rejection{
          Rejection::Kind::kUnknownContainer, "Container not supported", {{"container", id}}};
    }
  }

  const auto& first = containers.front();
  if (!containers_.find(first)->second.external) {
    return Rejection{Rejection::Kind::kForbidden,
                     "First container must be external",
                     {{"first_container", first}}};
  }

  const auto& last = containers.back();
  if (requires_proof && !containers_.find(last)->second.generates_proofs) {
    return Rejection{
        Rejection::Kind::kForbidden, "Container does not generate proof", {{"container", last}}};
  }

  for (const auto& id : containers) {
    const auto& allowed = containers_.find(id)->second.allowed_ips;
    if (!allowed.empty() && !allowed.contains(client)) {
      return Rejection{Rejection::Kind::kForbidden,
                       "Container not allowed for address",
                       {{"container", id}, {"address", client.to_string()}}};
    }
  }
  return std::nullopt;
}

}  // namespace inferd::api
