// test-service: a configurable test double for the node's tests. Not a premade service.
//
// By default it replies to a job with {"service": <name>, "envelope": <the envelope received>},
// so the output of a chain shows what each container was sent. Flags make it slow, failing,
// non-JSON, broken mid-reply or streaming.
#pragma once

#include <string>

#include <CLI/CLI.hpp>

#include "infernet/sdk/service.hpp"

namespace infernet::services {

struct TestServiceConfig {
  std::string name = "test-service";  ///< the "service" value in replies
  unsigned delay_ms = 0;              ///< wait before replying
  unsigned status = 200;              ///< a status other than 200 sends a container error
  bool text = false;                  ///< reply text/plain instead of JSON
  bool close_mid_reply = false;       ///< send part of the body, then close the connection
  unsigned stream_chunks = 3;         ///< chunks sent for destination 2
  unsigned chunk_delay_ms = 0;        ///< wait between chunks
};

/// Adds the test-service flags to `cli`, bound to `config`.
void add_test_service_flags(CLI::App& cli, TestServiceConfig& config);

/// Installs the job handler configured by `config` on `service`. `config` must outlive the
/// service.
void install_test_service(sdk::Service& service, const TestServiceConfig& config);

}  // namespace infernet::services
