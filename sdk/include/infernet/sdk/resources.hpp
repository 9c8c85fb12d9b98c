// GET /service-resources in the shape of Ritual's infernet-ml 2.0.0 (utils/spec.py).
//
// Without a model id the reply describes the service:
//   {"version": "0.1.0", "service_id": "...",
//    "hardware_capabilities": [{"capability_id": "base", "os_info": {...}, "cpu_info": {...},
//                               "disk_info": [...]}, {"capability_id": "gpu", ...}],
//    "compute_capability": [{"id": "ml", "type": "onnx", "task": [], "models": [],
//                            "cached_models": [...], "inference_engine": ...,
//                            "inference_engine_version": ...}]}
// With ?model_id=... it is {"supported": true|false}, plus "error" when the check failed.
// Both replies have status 200.
//
// The hardware part is read once, when the handler is made, instead of on every request as
// infernet-ml does: the machine does not change while a service runs.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "infernet/sdk/model_cache.hpp"
#include "infernet/sdk/service.hpp"

namespace infernet::sdk {

/// The version of the /service-resources schema that infernet-ml 2.0.0 reports.
inline constexpr std::string_view kServiceResourcesVersion = "0.1.0";

/// Facts about the machine, in the JSON shapes of the reference.
struct HardwareFacts {
  /// {"name": "Linux", "version": <kernel build string>}, as Python's platform module reports.
  nlohmann::json os_info;
  /// {"model", "architecture", "byte_order", "vendor_id", "num_cores",
  ///  "cores": [{"id", "frequency", "max_frequency", "min_frequency"}]}, frequencies in MHz and
  /// null where the kernel does not report them.
  nlohmann::json cpu_info;
  /// [{"filesystem", "mount_point", "size", "used", "available"}] in bytes, for every mounted
  /// file system with a non-zero size. NOTE: infernet-ml documents bytes here but sends the
  /// 1024-byte block counts of `df`, so its figures are 1024 times smaller.
  nlohmann::json disk_info = nlohmann::json::array();
  /// {"driver_version", "cuda_version", "gpu_info": [{"name", "memory_total", "memory_used",
  /// "cuda_device_id"}]} with memory in bytes, or null without a working `nvidia-smi`.
  nlohmann::json gpu;

  /// Reads /proc/cpuinfo, /proc/mounts, uname(2), the cpufreq files under /sys and, when it is
  /// on the PATH, `nvidia-smi -q -x`. An unreadable source leaves its fields empty instead of
  /// failing the whole read.
  static HardwareFacts read_from_system();

  /// The "hardware_capabilities" list: the "base" entry and, with a GPU, the "gpu" entry.
  nlohmann::json hardware_capabilities() const;
};

/// Parses /proc/cpuinfo text into the reference's cpu_info object (architecture, byte order and
/// max/min frequencies are left for the caller).
nlohmann::json parse_cpuinfo(std::string_view text);

/// Parses the XML of `nvidia-smi -q -x` into the reference's "gpu" capability fields. Returns
/// null when the text has no <nvidia_smi_log> element.
nlohmann::json parse_nvidia_smi_xml(std::string_view xml);

/// The service-specific parts of the /service-resources reply.
struct ResourcesOptions {
  /// e.g. "onnx-inference-service".
  std::string service_id;
  /// Returns the "compute_capability" list; called on every request, so cached models stay
  /// current. See ml_compute_capability().
  std::function<nlohmann::json()> compute_capability;
  /// Returns whether the service can run `model_id`. An exception is reported as
  /// {"supported": false, "error": <its message>}. Unset means no model is supported.
  std::function<bool(const std::string& model_id)> supports_model;
};

/// Builds the handler for Service::on_resources. Reads `hardware` now when it is not given.
Service::ResourcesHandler make_resources_handler(
    ResourcesOptions options, std::optional<HardwareFacts> hardware = std::nullopt);

/// The full reply without a model id, for `hardware` and `options`.
nlohmann::json describe_resources(const ResourcesOptions& options, const HardwareFacts& hardware);

/// The reply with a model id.
nlohmann::json query_model_support(const ResourcesOptions& options, const std::string& model_id);

/// One "ml" entry of compute_capability. `type` is the reference's MLType ("css", "onnx",
/// "torch", "llama_cpp", "tgi_client", "hf_client") and `tasks` its MLTask values such as
/// "text_generation". `models` is a list of BroadcastedArtifact objects or, for CSS, of
/// {"owner", "name"}. An empty engine name or version is sent as null.
nlohmann::json ml_compute_capability(std::string_view type, const std::vector<std::string>& tasks,
                                     nlohmann::json models,
                                     const std::vector<CachedRepo>& cached_models,
                                     std::string_view inference_engine = {},
                                     std::string_view inference_engine_version = {});

/// A supports_model check that accepts a model id whose first file ends with `suffix` (e.g.
/// ".onnx"), as the reference's ONNX and Torch services do. Throws ServiceError (400) for a
/// malformed model id or one without files.
std::function<bool(const std::string& model_id)> file_suffix_model_check(std::string suffix);

}  // namespace infernet::sdk
