#include "echo/echo.hpp"

#include <string>

#include "infernet/sdk/errors.hpp"

namespace infernet::services {

using sdk::AbiValue;
using sdk::Bytes;
using sdk::ServiceError;

Echo::Echo()
    : input_type_(sdk::abi_type("(string,string)")), output_type_(sdk::abi_type("(string)")) {}

nlohmann::json Echo::run(const sdk::Envelope& envelope) const {
  Bytes off_chain_input;
  if (!envelope.onchain_source()) {
    auto input = envelope.data.find("input");
    if (input == envelope.data.end() || !input->is_string()) {
      throw ServiceError::bad_request(
          "missing field \"data.input\": expected the hex of abi.encode(string value, string "
          "proof)");
    }
    off_chain_input = sdk::hex_decode(input->get_ref<const std::string&>(), "data.input");
  }
  const Bytes& input = envelope.onchain_source() ? envelope.input_bytes : off_chain_input;

  auto decoded = sdk::abi_decode(input_type_, input);
  const std::string& value = decoded[0].as_string();
  const std::string& proof = decoded[1].as_string();

  sdk::OnchainOutput output;
  output.raw_input = input;
  output.raw_output = sdk::abi_encode(output_type_, {AbiValue::string(value)});
  if (envelope.requires_proof)
    output.proof = sdk::abi_encode(output_type_, {AbiValue::string(proof)});
  return output.to_json();
}

}  // namespace infernet::services
