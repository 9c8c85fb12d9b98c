#include "infernet/sdk/resources.hpp"

#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <bit>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "infernet/sdk/errors.hpp"
#include "infernet/sdk/model_id.hpp"

namespace infernet::sdk {
namespace {

namespace fs = std::filesystem;

std::string trim(std::string_view text) {
  constexpr std::string_view kWhitespace = " \t\r\n";
  const auto first = text.find_first_not_of(kWhitespace);
  if (first == std::string_view::npos) {
    return {};
  }
  const auto last = text.find_last_not_of(kWhitespace);
  return std::string(text.substr(first, last - first + 1));
}

std::optional<std::string> read_text_file(const fs::path& path) {
  std::ifstream stream(path, std::ios::binary);
  if (!stream) {
    return std::nullopt;
  }
  std::ostringstream contents;
  contents << stream.rdbuf();
  return contents.str();
}

// A frequency file of the cpufreq driver (kHz) converted to MHz, or null.
nlohmann::json read_frequency_mhz(const fs::path& path) {
  auto text = read_text_file(path);
  if (!text) {
    return nullptr;
  }
  try {
    return std::stod(*text) / 1000.0;
  } catch (const std::exception&) {
    return nullptr;
  }
}

// /proc/mounts escapes space, tab, newline and backslash as three octal digits.
std::string unescape_mount_field(std::string_view field) {
  std::string result;
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      const std::string digits(field.substr(i + 1, 3));
      if (digits.find_first_not_of("01234567") == std::string::npos) {
        result.push_back(static_cast<char>(std::stoi(digits, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    result.push_back(field[i]);
  }
  return result;
}

nlohmann::json read_disks() {
  nlohmann::json disks = nlohmann::json::array();
  std::ifstream mounts("/proc/mounts");
  std::string line;
  while (std::getline(mounts, line)) {
    std::istringstream fields(line);
    std::string device;
    std::string mount_point;
    if (!(fields >> device >> mount_point)) {
      continue;
    }
    mount_point = unescape_mount_field(mount_point);
    struct statvfs stats {};
    if (::statvfs(mount_point.c_str(), &stats) != 0 || stats.f_blocks == 0) {
      continue;  // like df, which leaves out pseudo file systems of size zero
    }
    const auto block = static_cast<std::uint64_t>(stats.f_frsize);
    disks.push_back({
        {"filesystem", unescape_mount_field(device)},
        {"mount_point", mount_point},
        {"size", stats.f_blocks * block},
        {"used", (stats.f_blocks - stats.f_bfree) * block},
        {"available", stats.f_bavail * block},
    });
  }
  return disks;
}

bool is_on_path(std::string_view program) {
  const char* path = std::getenv("PATH");
  if (path == nullptr) {
    return false;
  }
  std::string_view directories(path);
  while (!directories.empty()) {
    const auto colon = directories.find(':');
    const std::string_view directory = directories.substr(0, colon);
    const fs::path candidate = fs::path(std::string(directory)) / std::string(program);
    if (!directory.empty() && ::access(candidate.c_str(), X_OK) == 0) {
      return true;
    }
    directories = colon == std::string_view::npos ? "" : directories.substr(colon + 1);
  }
  return false;
}

nlohmann::json read_gpu() {
  if (!is_on_path("nvidia-smi")) {
    return nullptr;
  }
  FILE* pipe = ::popen("nvidia-smi -q -x 2>/dev/null", "r");
  if (pipe == nullptr) {
    return nullptr;
  }
  std::string output;
  std::array<char, 4096> buffer{};
  std::size_t read = 0;
  while ((read = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0) {
    output.append(buffer.data(), read);
  }
  const int status = ::pclose(pipe);
  if (status != 0) {
    return nullptr;
  }
  return parse_nvidia_smi_xml(output);
}

// The text of the first <tag>...</tag> inside `xml`, or nullopt.
std::optional<std::string> element_text(std::string_view xml, std::string_view tag) {
  const std::string open = "<" + std::string(tag) + ">";
  const std::string close = "</" + std::string(tag) + ">";
  const auto start = xml.find(open);
  if (start == std::string_view::npos) {
    return std::nullopt;
  }
  const auto end = xml.find(close, start + open.size());
  if (end == std::string_view::npos) {
    return std::nullopt;
  }
  return trim(xml.substr(start + open.size(), end - start - open.size()));
}

// "8192 MiB" or "8 GiB" in bytes, as the reference converts nvidia-smi's memory figures.
std::uint64_t parse_memory(const std::optional<std::string>& text) {
  if (!text) {
    return 0;
  }
  std::istringstream fields(*text);
  std::uint64_t value = 0;
  std::string unit;
  if (!(fields >> value)) {
    return 0;
  }
  fields >> unit;
  if (unit == "MiB") {
    return value * 1024 * 1024;
  }
  if (unit == "GiB") {
    return value * 1024 * 1024 * 1024;
  }
  return value;
}

}  // namespace

// ---- Hardware ----------------------------------------------------------------------------------

nlohmann::json parse_cpuinfo(std::string_view text) {
  std::string model;
  std::string vendor_id;
  int processors = 0;
  std::optional<int> processor;
  nlohmann::json cores = nlohmann::json::array();

  std::istringstream lines{std::string(text)};
  std::string line;
  while (std::getline(lines, line)) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) {
      continue;
    }
    const std::string key = trim(std::string_view(line).substr(0, colon));
    const std::string value = trim(std::string_view(line).substr(colon + 1));
    try {
      if (key == "processor") {
        processor = std::stoi(value);
        ++processors;
      } else if (key == "model name" && model.empty()) {
        model = value;
      } else if (key == "vendor_id" && vendor_id.empty()) {
        vendor_id = value;
      } else if (key == "cpu MHz" && processor) {
        cores.push_back({{"id", *processor},
                         {"frequency", std::stod(value)},
                         {"max_frequency", nullptr},
                         {"min_frequency", nullptr}});
      }
    } catch (const std::exception&) {
      continue;  // a number that does not parse leaves that field out
    }
  }
  return nlohmann::json{{"model", model},          {"architecture", ""},
                        {"byte_order", ""},        {"vendor_id", vendor_id},
                        {"num_cores", processors}, {"cores", std::move(cores)}};
}

nlohmann::json parse_nvidia_smi_xml(std::string_view xml) {
  if (xml.find("<nvidia_smi_log>") == std::string_view::npos) {
    return nullptr;
  }
  nlohmann::json gpus = nlohmann::json::array();
  std::size_t position = 0;
  while (true) {
    // A GPU element has attributes, e.g. <gpu id="00000000:01:00.0">.
    const auto start = xml.find("<gpu ", position);
    if (start == std::string_view::npos) {
      break;
    }
    const auto end = xml.find("</gpu>", start);
    if (end == std::string_view::npos) {
      break;
    }
    const std::string_view gpu = xml.substr(start, end - start);
    const auto memory = element_text(gpu, "fb_memory_usage").value_or("");
    nlohmann::json device_id = -1;
    try {
      device_id = std::stoi(element_text(gpu, "minor_number").value_or("-1"));
    } catch (const std::exception&) {
      device_id = -1;  // "N/A" on some systems; the reference reports -1 when it is missing
    }
    gpus.push_back({
        {"name", element_text(gpu, "product_name").value_or("N/A")},
        {"memory_total", parse_memory(element_text(memory, "total"))},
        {"memory_used", parse_memory(element_text(memory, "used"))},
        {"cuda_device_id", device_id},
    });
    position = end;
  }
  return nlohmann::json{
      {"driver_version", element_text(xml, "driver_version").value_or("N/A")},
      {"cuda_version", element_text(xml, "cuda_version").value_or("N/A")},
      {"gpu_info", std::move(gpus)},
  };
}

HardwareFacts HardwareFacts::read_from_system() {
  HardwareFacts facts;

  struct utsname names {};
  const bool have_names = ::uname(&names) == 0;
  facts.os_info = {{"name", have_names ? names.sysname : ""},
                   {"version", have_names ? names.version : ""}};

  facts.cpu_info = parse_cpuinfo(read_text_file("/proc/cpuinfo").value_or(""));
  facts.cpu_info["architecture"] = have_names ? names.machine : "";
  facts.cpu_info["byte_order"] =
      std::endian::native == std::endian::little ? "Little Endian" : "Big Endian";
  for (auto& core : facts.cpu_info["cores"]) {
    const fs::path cpufreq = fs::path("/sys/devices/system/cpu") /
                             ("cpu" + std::to_string(core["id"].get<int>())) / "cpufreq";
    core["max_frequency"] = read_frequency_mhz(cpufreq / "cpuinfo_max_freq");
    core["min_frequency"] = read_frequency_mhz(cpufreq / "cpuinfo_min_freq");
  }

  facts.disk_info = read_disks();
  facts.gpu = read_gpu();
  return facts;
}

nlohmann::json HardwareFacts::hardware_capabilities() const {
  nlohmann::json capabilities = nlohmann::json::array();
  capabilities.push_back({{"capability_id", "base"},
                          {"os_info", os_info},
                          {"cpu_info", cpu_info},
                          {"disk_info", disk_info}});
  if (gpu.is_object()) {
    nlohmann::json entry = gpu;
    entry["capability_id"] = "gpu";
    capabilities.push_back(std::move(entry));
  }
  return capabilities;
}

// ---- Replies -----------------------------------------------------------------------------------

nlohmann::json describe_resources(const ResourcesOptions& options, const HardwareFacts& hardware) {
  return nlohmann::json{
      {"version", kServiceResourcesVersion},
      {"service_id", options.service_id},
      {"hardware_capabilities", hardware.hardware_capabilities()},
      {"compute_capability",
       options.compute_capability ? options.compute_capability() : nlohmann::json::array()},
  };
}

nlohmann::json query_model_support(const ResourcesOptions& options, const std::string& model_id) {
  if (!options.supports_model) {
    return nlohmann::json{{"supported", false}};
  }
  try {
    return nlohmann::json{{"supported", options.supports_model(model_id)}};
  } catch (const std::exception& error) {
    return nlohmann::json{{"supported", false}, {"error", error.what()}};
  }
}

Service::ResourcesHandler make_resources_handler(ResourcesOptions options,
                                                 std::optional<HardwareFacts> hardware) {
  auto state = std::make_shared<std::pair<ResourcesOptions, HardwareFacts>>(
      std::move(options), hardware ? std::move(*hardware) : HardwareFacts::read_from_system());
  return [state](std::optional<std::string> model_id) -> Awaitable<nlohmann::json> {
    if (!model_id || model_id->empty()) {
      co_return describe_resources(state->first, state->second);
    }
    co_return query_model_support(state->first, *model_id);
  };
}

nlohmann::json ml_compute_capability(std::string_view type, const std::vector<std::string>& tasks,
                                     nlohmann::json models,
                                     const std::vector<CachedRepo>& cached_models,
                                     std::string_view inference_engine,
                                     std::string_view inference_engine_version) {
  nlohmann::json cached = nlohmann::json::array();
  for (const CachedRepo& repo : cached_models) {
    cached.push_back(repo.to_json());
  }
  auto text_or_null = [](std::string_view text) -> nlohmann::json {
    if (text.empty()) {
      return nullptr;
    }
    return std::string(text);
  };
  return nlohmann::json{
      {"id", "ml"},
      {"type", type},
      {"task", tasks},
      {"models", models.is_array() ? std::move(models) : nlohmann::json::array()},
      {"cached_models", std::move(cached)},
      {"inference_engine", text_or_null(inference_engine)},
      {"inference_engine_version", text_or_null(inference_engine_version)},
  };
}

std::function<bool(const std::string& model_id)> file_suffix_model_check(std::string suffix) {
  return [suffix = std::move(suffix)](const std::string& model_id) {
    const ModelId model = ModelId::parse(model_id, "model_id");
    if (model.files.empty()) {
      throw ServiceError::bad_request("invalid model_id: \"" + model_id +
                                      "\" names no file; append \":<file>\"");
    }
    return model.files.front().ends_with(suffix);
  };
}

}  // namespace infernet::sdk
